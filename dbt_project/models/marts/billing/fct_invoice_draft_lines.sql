-- Invoice draft lines (the lineItems of BillingInvoiceDraft.v1): one row per tenant, period, currency
-- and line code. The old service's arithmetic (reference sections 3.5 and 9.1), with its gaps fixed:
--   SUBSCRIPTION_BASE      the plan's subscription, when > 0 (also for a month without usage);
--   VERIFIED_RUN_OVERAGE   runs beyond the included ones x milli-cents per run, rounded half-up to cents;
--   SETTLED_VOLUME_FEE     floor(volume x bps / 10000), one line PER CURRENCY of the volume: amounts in
--                          different currencies are never added (the old service summed them as USD);
--   ARBITRATION_USAGE_FEE  cases x fee per case.
-- Subscription, overage and arbitration lines are in the plan's currency (USD); volume in another
-- currency makes a separate draft of that currency holding only its volume fee line.
-- Integer arithmetic only (macros/billing.sql). Rules: docs/DECISIONLOG.md ("Billing: usage and invoice drafts").

with

usage_events as (

    select * from {{ ref('int_billing__usage_events') }}

),

plans as (

    select * from {{ ref('int_billing__plans_resolved') }}

),

-- The line each event feeds and the currency of that line. A left join: an event outside every
-- billed period would get a null currency and fail the not_null test rather than vanish.
events_per_line as (

    select
        events.tenant_id,
        events.period,
        case events.event_type
            when 'verified_run' then 'VERIFIED_RUN_OVERAGE'
            when 'settled_volume' then 'SETTLED_VOLUME_FEE'
            when 'arbitration_usage' then 'ARBITRATION_USAGE_FEE'
        end as line_code,
        case
            when events.event_type = 'settled_volume' then events.currency
            else plans.currency
        end as currency,
        events.quantity,
        events.amount_cents,
        events.event_hash

    from usage_events as events
    left join plans
        on events.tenant_id = plans.tenant_id
        and events.period = plans.period

),

-- source_event_digest is a multiset digest of the source events' event_hash (macro multiset_digest,
-- the same construction as the reconciliation report input digests): order-free, so it needs no
-- sorted aggregation of up to millions of events (which ran out of memory on DuckDB at 10 million
-- rows) and cannot depend on collation; any changed, added or removed event changes it.
usage_per_line as (

    select
        tenant_id,
        period,
        line_code,
        currency,
        count(*) as source_event_count,
        sum(quantity) as total_quantity,
        sum(amount_cents) as total_amount_cents,
        {{ multiset_digest('event_hash') }} as source_event_digest

    from events_per_line
    group by tenant_id, period, line_code, currency

),

subscription_lines as (

    select
        tenant_id,
        period,
        'SUBSCRIPTION_BASE' as line_code,
        plan,
        plan_source,
        'Settld ' || plan || ' plan, monthly subscription' as description,
        cast(1 as bigint) as quantity,
        cast(null as integer) as unit_amount_bps,
        cast(0 as bigint) as source_event_count,
        {{ empty_digest() }} as source_event_digest,
        subscription_cents as unit_amount_cents,
        cast(null as bigint) as unit_amount_milli_cents,
        subscription_cents as amount_cents,
        currency

    from plans
    where subscription_cents > 0

),

-- Every verified run of the period is a source of the overage line (as in the old service), not
-- only the runs past the allowance: which runs are "the extra ones" has no meaning.
-- Cents = overage milli-cents / 1000 rounded HALF-UP (700 milli-cents -> 1 cent; 2,500 -> 3).
overage_lines as (

    select
        usage.tenant_id,
        usage.period,
        'VERIFIED_RUN_OVERAGE' as line_code,
        plans.plan,
        plans.plan_source,
        'Verified runs beyond the plan''s included runs' as description,
        usage.total_quantity - plans.included_verified_runs as quantity,
        cast(null as integer) as unit_amount_bps,
        usage.source_event_count,
        usage.source_event_digest,
        cast(null as bigint) as unit_amount_cents,
        plans.overage_milli_cents_per_run as unit_amount_milli_cents,
        {{ round_half_up_divide(
            '(usage.total_quantity - plans.included_verified_runs) * plans.overage_milli_cents_per_run', 1000
        ) }} as amount_cents,
        usage.currency

    from usage_per_line as usage
    inner join plans
        on usage.tenant_id = plans.tenant_id
        and usage.period = plans.period
    where usage.line_code = 'VERIFIED_RUN_OVERAGE'
        and usage.total_quantity > plans.included_verified_runs

),

-- quantity is the settled volume in cents of this currency; the fee is rounded down.
volume_lines as (

    select
        usage.tenant_id,
        usage.period,
        'SETTLED_VOLUME_FEE' as line_code,
        plans.plan,
        plans.plan_source,
        'Fee on settled volume' as description,
        usage.total_amount_cents as quantity,
        plans.settled_volume_fee_bps as unit_amount_bps,
        usage.source_event_count,
        usage.source_event_digest,
        cast(null as bigint) as unit_amount_cents,
        cast(null as bigint) as unit_amount_milli_cents,
        {{ floor_divide('usage.total_amount_cents * plans.settled_volume_fee_bps', 10000) }} as amount_cents,
        usage.currency

    from usage_per_line as usage
    inner join plans
        on usage.tenant_id = plans.tenant_id
        and usage.period = plans.period
    where usage.line_code = 'SETTLED_VOLUME_FEE'

),

arbitration_lines as (

    select
        usage.tenant_id,
        usage.period,
        'ARBITRATION_USAGE_FEE' as line_code,
        plans.plan,
        plans.plan_source,
        'Arbitration cases' as description,
        usage.total_quantity as quantity,
        cast(null as integer) as unit_amount_bps,
        usage.source_event_count,
        usage.source_event_digest,
        plans.arbitration_case_fee_cents as unit_amount_cents,
        cast(null as bigint) as unit_amount_milli_cents,
        usage.total_quantity * plans.arbitration_case_fee_cents as amount_cents,
        usage.currency

    from usage_per_line as usage
    inner join plans
        on usage.tenant_id = plans.tenant_id
        and usage.period = plans.period
    where usage.line_code = 'ARBITRATION_USAGE_FEE'

),

lines as (

    select * from subscription_lines
    union all
    select * from overage_lines
    union all
    select * from volume_lines
    union all
    select * from arbitration_lines

),

final as (

    select
        cast(tenant_id as {{ string_type() }}) as tenant_id,
        cast(period as {{ string_type() }}) as period,
        cast(currency as {{ string_type() }}) as currency,
        cast(line_code as {{ string_type() }}) as line_code,
        cast(plan as {{ string_type() }}) as plan,
        cast(plan_source as {{ string_type() }}) as plan_source,
        cast(description as {{ string_type() }}) as description,
        cast(quantity as bigint) as quantity,
        cast(unit_amount_bps as integer) as unit_amount_bps,
        cast(source_event_count as bigint) as source_event_count,
        cast(source_event_digest as {{ string_type() }}) as source_event_digest,
        cast(unit_amount_cents as bigint) as unit_amount_cents,
        cast(unit_amount_milli_cents as bigint) as unit_amount_milli_cents,
        cast(amount_cents as bigint) as amount_cents

    from lines

)

select * from final
