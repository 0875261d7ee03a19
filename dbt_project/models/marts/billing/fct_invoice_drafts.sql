-- Invoice drafts (the header of BillingInvoiceDraft.v1): one row per tenant, period and currency that
-- has a line or a usage event, with the line count, the subtotal and events_digest over every usage
-- event the draft covers (volume events of its currency; verified runs and arbitration cases in the
-- plan's currency), so the artifact writer never reads event rows. A draft with events but no line
-- (a free-plan month inside its allowance) is kept with subtotal 0: its digest still pins its inputs.
-- Rules: docs/DECISIONLOG.md ("Billing: usage and invoice drafts").

with

lines as (

    select * from {{ ref('fct_invoice_draft_lines') }}

),

usage_events as (

    select * from {{ ref('int_billing__usage_events') }}

),

plans as (

    select * from {{ ref('int_billing__plans_resolved') }}

),

-- The same currency rule as the lines: volume in its own currency, everything else in the plan's.
events_per_draft as (

    select
        events.tenant_id,
        events.period,
        case
            when events.event_type = 'settled_volume' then events.currency
            else plans.currency
        end as currency,
        events.event_hash

    from usage_events as events
    left join plans
        on events.tenant_id = plans.tenant_id
        and events.period = plans.period

),

-- Multiset digest of the events' event_hash, like the line digests (why: see fct_invoice_draft_lines).
events_digested as (

    select
        tenant_id,
        period,
        currency,
        count(*) as event_count,
        {{ multiset_digest('event_hash') }} as events_digest

    from events_per_draft
    group by tenant_id, period, currency

),

line_totals as (

    select
        tenant_id,
        period,
        currency,
        count(*) as line_count,
        sum(amount_cents) as subtotal_cents

    from lines
    group by tenant_id, period, currency

),

drafts as (

    select tenant_id, period, currency from line_totals
    union
    select tenant_id, period, currency from events_digested

),

final as (

    select
        cast(drafts.tenant_id as {{ string_type() }}) as tenant_id,
        cast(drafts.period as {{ string_type() }}) as period,
        cast(drafts.currency as {{ string_type() }}) as currency,
        cast(plans.plan as {{ string_type() }}) as plan,
        cast(plans.plan_source as {{ string_type() }}) as plan_source,
        cast(drafts.currency = plans.currency as boolean) as is_plan_currency,
        cast(coalesce(line_totals.line_count, 0) as bigint) as line_count,
        cast(coalesce(events_digested.event_count, 0) as bigint) as event_count,
        cast(coalesce(events_digested.events_digest, {{ empty_digest() }}) as {{ string_type() }}) as events_digest,
        cast(coalesce(line_totals.subtotal_cents, 0) as bigint) as subtotal_cents

    from drafts
    left join plans
        on drafts.tenant_id = plans.tenant_id
        and drafts.period = plans.period
    left join line_totals
        on drafts.tenant_id = line_totals.tenant_id
        and drafts.period = line_totals.period
        and drafts.currency = line_totals.currency
    left join events_digested
        on drafts.tenant_id = events_digested.tenant_id
        and drafts.period = events_digested.period
        and drafts.currency = events_digested.currency

)

select * from final
