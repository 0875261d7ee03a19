-- One row per (tenant, funnel step) the tenant reached, with when it first reached it.
--
-- A step is reached at the `at` of the first event of its type the API received (the first-seen rule:
-- a later event with an earlier `at` does not move it). The first settlement is also read from the
-- warehouse itself (the tenant's earliest resolved settlement), so the funnel does not wait for the
-- write-back into the API; when both exist, the earlier counts. Only tenants of the API are onboarded.

with

tenants as (

    select * from {{ ref('stg_operator_api__tenants') }}

),

events as (

    select * from {{ ref('stg_operator_api__onboarding_events') }}

),

settlements as (

    select * from {{ ref('stg_settlement_kernel__settlements') }}

),

event_types as (

    select * from {{ ref('onboarding_event_types') }}

),

funnel_events as (

    select
        events.tenant_id,
        events.event_type as step,
        events.occurred_at,
        events.received_at,
        events.received_order

    from events
    inner join event_types
        on events.event_type = event_types.event_type
    where event_types.funnel_step_order is not null

),

first_received as (

    {{ deduplicate('funnel_events', ['tenant_id', 'step'], 'received_at, received_order',
                   ['tenant_id', 'step', 'occurred_at']) }}

),

first_settlements as (

    select
        settlements.tenant_id,
        'first_settlement_completed' as step,
        min(settlements.resolved_at) as occurred_at

    from settlements
    inner join tenants
        on settlements.tenant_id = tenants.tenant_id
    where settlements.is_resolved
    group by settlements.tenant_id

),

candidates as (

    select tenant_id, step, occurred_at from first_received
    union all
    select tenant_id, step, occurred_at from first_settlements

),

final as (

    select
        candidates.tenant_id,
        candidates.step,
        cast(event_types.funnel_step_order as integer) as step_order,
        min(candidates.occurred_at) as reached_at

    from candidates
    inner join tenants
        on candidates.tenant_id = tenants.tenant_id
    inner join event_types
        on candidates.step = event_types.event_type
    group by candidates.tenant_id, candidates.step, event_types.funnel_step_order

)

select * from final
