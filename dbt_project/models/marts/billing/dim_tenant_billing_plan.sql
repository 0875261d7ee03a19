-- A tenant's Stripe plan over time, from its subscription events: one row per subscription event, valid
-- from the event's `created` until the next event of the same tenant. Events are ordered by `created`,
-- then event id, never by arrival, so a late delivery of an older event can never make older state win.
-- An ended subscription (canceled, incomplete_expired, ...) falls back to the free plan.

with

subscription_events as (

    select * from {{ ref('stg_operator_api__stripe_events') }}
    where event_type like 'customer.subscription.%'

),

sequenced as (

    select
        tenant_id,
        event_id,
        event_type,
        object_id as subscription_id,
        customer_id,
        subscription_status,
        plan as named_plan,
        created_at as valid_from,
        lead(created_at) over (partition by tenant_id order by created_epoch, event_id) as valid_to,
        row_number() over (partition by tenant_id order by created_epoch desc, event_id desc) as recency_rank

    from subscription_events

),

final as (

    select
        cast(tenant_id as varchar) as tenant_id,
        cast(valid_from as timestamp) as valid_from,
        cast(valid_to as timestamp) as valid_to,
        cast(
            case
                when subscription_status in ('canceled', 'cancelled', 'incomplete_expired', 'ended', 'terminated')
                    then 'free'
                else coalesce(named_plan, 'free')
            end as varchar
        ) as plan,
        cast(subscription_status as varchar) as subscription_status,
        cast(subscription_id as varchar) as subscription_id,
        cast(customer_id as varchar) as customer_id,
        cast(event_id as varchar) as event_id,
        cast(event_type as varchar) as event_type,
        cast(recency_rank = 1 as boolean) as is_current

    from sequenced

)

select * from final
