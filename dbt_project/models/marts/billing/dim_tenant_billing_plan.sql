-- A tenant's Stripe plan over time: one row per subscription event, valid until the tenant's next one
-- (the rules are in int_billing__stripe_plans_sequenced).

with

stripe_plans as (

    select * from {{ ref('int_billing__stripe_plans_sequenced') }}

),

final as (

    select
        cast(tenant_id as varchar) as tenant_id,
        cast(valid_from as timestamp) as valid_from,
        cast(valid_to as timestamp) as valid_to,
        cast(plan as varchar) as plan,
        cast(subscription_status as varchar) as subscription_status,
        cast(subscription_id as varchar) as subscription_id,
        cast(customer_id as varchar) as customer_id,
        cast(event_id as varchar) as event_id,
        cast(event_type as varchar) as event_type,
        cast(is_current as boolean) as is_current

    from stripe_plans

)

select * from final
