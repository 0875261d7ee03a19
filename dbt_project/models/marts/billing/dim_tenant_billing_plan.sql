-- A tenant's Stripe plan over time: one row per subscription event, valid until the tenant's next one
-- (the rules are in int_billing__stripe_plans_sequenced).

with

stripe_plans as (

    select * from {{ ref('int_billing__stripe_plans_sequenced') }}

),

final as (

    select
        cast(tenant_id as {{ string_type() }}) as tenant_id,
        cast(valid_from as timestamp) as valid_from,
        cast(valid_to as timestamp) as valid_to,
        cast(plan as {{ string_type() }}) as plan,
        cast(subscription_status as {{ string_type() }}) as subscription_status,
        cast(subscription_id as {{ string_type() }}) as subscription_id,
        cast(customer_id as {{ string_type() }}) as customer_id,
        cast(event_id as {{ string_type() }}) as event_id,
        cast(event_type as {{ string_type() }}) as event_type,
        cast(is_current as boolean) as is_current

    from stripe_plans

)

select * from final
