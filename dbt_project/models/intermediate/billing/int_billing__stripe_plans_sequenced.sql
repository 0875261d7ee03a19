-- A tenant's Stripe plan over time, from its subscription events: one row per subscription event, valid
-- from the event's `created` until the next event of the same tenant. Events are ordered by `created`,
-- then event id, never by arrival, so a late delivery of an older event can never make older state win.
-- An ended subscription (canceled, incomplete_expired, ...) falls back to the free plan.
-- The one definition of a tenant's Stripe plan: int_billing__plans_resolved bills on it and the mart
-- dim_tenant_billing_plan exposes it.

with

subscription_events as (

    select * from {{ ref('stg_operator_api__stripe_events') }}
    where event_type like 'customer.subscription.%'
        -- parked until its tenant is known (api/billing/attribution.py): no tenant's plan yet
        and tenant_id is not null

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
        tenant_id,
        event_id,
        subscription_id,
        customer_id,
        event_type,
        subscription_status,
        case
            when subscription_status in ('canceled', 'cancelled', 'incomplete_expired', 'ended', 'terminated')
                then 'free'
            else coalesce(named_plan, 'free')
        end as plan,
        recency_rank = 1 as is_current,
        valid_from,
        valid_to

    from sequenced

)

select * from final
