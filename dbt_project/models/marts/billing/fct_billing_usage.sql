-- Billable usage per tenant, period, usage type and currency, with the plan the period is billed on:
-- what the operator API publishes as its "last published warehouse figures" (api/billing/usage.py),
-- on top of which it counts the work it witnessed since (live summary, hard limits).
--   verified_runs, arbitration_cases  counts, currency XXX (ISO 4217: no currency), a row for every
--                                     billed period (0 when none), so each period carries its plan;
--   settled_volume                    the released cents, one row per currency of the volume.
-- The same events and plans as the invoice drafts (int_billing__usage_events, int_billing__plans_resolved),
-- so usage x terms through api/billing/estimate.py gives the draft's lines. Rules: docs/DECISIONLOG.md
-- ("Billing plans in the API").

with

usage_events as (

    select * from {{ ref('int_billing__usage_events') }}

),

plans as (

    select * from {{ ref('int_billing__plans_resolved') }}

),

count_types as (

    select 'verified_run' as event_type, 'verified_runs' as usage_type
    union all
    select 'arbitration_usage' as event_type, 'arbitration_cases' as usage_type

),

counts as (

    select
        plans.tenant_id,
        plans.period,
        count_types.usage_type,
        'XXX' as currency,
        coalesce(sum(events.quantity), 0) as quantity,
        count(events.event_key) as source_event_count

    from plans
    cross join count_types
    left join usage_events as events
        on plans.tenant_id = events.tenant_id
        and plans.period = events.period
        and count_types.event_type = events.event_type
    group by plans.tenant_id, plans.period, count_types.usage_type

),

volumes as (

    select
        tenant_id,
        period,
        'settled_volume' as usage_type,
        currency,
        sum(amount_cents) as quantity,
        count(*) as source_event_count

    from usage_events
    where event_type = 'settled_volume'
    group by tenant_id, period, currency

),

usage as (

    select * from counts
    union all
    select * from volumes

),

final as (

    select
        cast(usage.tenant_id as {{ string_type() }}) as tenant_id,
        cast(usage.period as {{ string_type() }}) as period,
        cast(usage.usage_type as {{ string_type() }}) as usage_type,
        cast(usage.currency as {{ string_type() }}) as currency,
        cast(plans.plan as {{ string_type() }}) as plan,
        cast(plans.plan_source as {{ string_type() }}) as plan_source,
        cast(plans.currency as {{ string_type() }}) as plan_currency,
        cast(plans.subscription_cents as bigint) as subscription_cents,
        cast(plans.included_verified_runs as bigint) as included_verified_runs,
        cast(plans.overage_milli_cents_per_run as bigint) as overage_milli_cents_per_run,
        cast(plans.settled_volume_fee_bps as integer) as settled_volume_fee_bps,
        cast(plans.arbitration_case_fee_cents as bigint) as arbitration_case_fee_cents,
        cast(plans.hard_limit_verified_runs as bigint) as hard_limit_verified_runs,
        cast(usage.source_event_count as bigint) as source_event_count,
        cast(usage.quantity as bigint) as quantity

    from usage
    left join plans
        on usage.tenant_id = plans.tenant_id
        and usage.period = plans.period

)

select * from final
