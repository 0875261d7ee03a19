-- Billing mismatches: where Stripe has invoiced a tenant for a period, does its total agree with the
-- invoice draft Settld computes for the same tenant, period and currency? One row per disagreement, in
-- the columns of fct_reconciliation_mismatches, so it is published, triaged and gated like the others.
-- A Stripe invoice belongs to the UTC month of its service period (the subscription line's period; a
-- one-off invoice's finalisation date: api/billing/payments.py), never of `period_start`, which for a
-- renewal is the PREVIOUS period; only issued invoices count (open, paid,
-- uncollectible: a draft can still change and a void one bills nothing). Several invoices of one month
-- and currency are added up (never across currencies). Rules: docs/DECISIONLOG.md ("Billing: usage and invoice drafts").

with

stripe_invoices as (

    select * from {{ ref('stg_operator_api__stripe_objects') }}
    where object_type = 'invoice'
        and status in ('open', 'paid', 'uncollectible')
        and tenant_id is not null

),

drafts as (

    select * from {{ ref('fct_invoice_drafts') }}

),

-- Code and severity from the one catalogue of mismatch types: high, like a money-rail amount mismatch
-- (a tenant was, or will be, charged a different amount).
mismatch_types as (

    select * from {{ ref('reconciliation_mismatch_types') }}

),

severities as (

    select * from {{ ref('reconciliation_severities') }}

),

invoiced as (

    select
        tenant_id,
        {{ to_period('service_start_at') }} as period,
        currency,
        count(*) as invoice_count,
        {{ sum_cents('amount_cents') }} as stripe_total_cents,
        min(object_id) as first_invoice_id,
        min(status) as status

    from stripe_invoices
    group by tenant_id, {{ to_period('service_start_at') }}, currency

),

compared as (

    select
        invoiced.tenant_id,
        invoiced.period,
        invoiced.currency,
        invoiced.invoice_count,
        invoiced.first_invoice_id,
        invoiced.status,
        invoiced.stripe_total_cents,
        drafts.subtotal_cents as draft_subtotal_cents

    from invoiced
    left join drafts
        on invoiced.tenant_id = drafts.tenant_id
        and invoiced.period = drafts.period
        and invoiced.currency = drafts.currency
    -- No draft at all is a disagreement too: Stripe billed something Settld did not compute.
    where drafts.subtotal_cents is null
        or drafts.subtotal_cents <> invoiced.stripe_total_cents

),

final as (

    select
        cast({{ triage_key("'billing_invoice_compare'", 'c.tenant_id', 'c.period', "'stripe'",
                           "'invoice_total_mismatch'", "c.currency") }} as {{ string_type() }}) as triage_key,
        cast(c.tenant_id as {{ string_type() }}) as tenant_id,
        cast(c.period as {{ string_type() }}) as period,
        cast('stripe' as {{ string_type() }}) as provider_id,
        cast('invoice_total_mismatch' as {{ string_type() }}) as mismatch_type,
        cast(c.currency as {{ string_type() }}) as mismatch_key,
        cast('billing_invoice_compare' as {{ string_type() }}) as source_type,
        cast(t.mismatch_code as {{ string_type() }}) as mismatch_code,
        cast(t.severity as {{ string_type() }}) as severity,
        cast(s.severity_rank as integer) as severity_rank,
        cast(null as {{ string_type() }}) as party_id,
        cast(c.first_invoice_id as {{ string_type() }}) as operation_id,
        cast(c.status as {{ string_type() }}) as operation_state,
        cast(c.invoice_count as bigint) as operation_count,
        cast(c.draft_subtotal_cents as bigint) as expected_amount_cents,
        cast(c.stripe_total_cents as bigint) as actual_amount_cents,
        cast(c.stripe_total_cents - c.draft_subtotal_cents as bigint) as amount_delta_cents,
        cast(c.currency as {{ string_type() }}) as currency,
        cast(c.currency as {{ string_type() }}) as actual_currency,
        {{ reconciliation_as_of() }} as as_of

    from compared as c
    -- a left join: were the type missing from the seed, the not_null tests on code and severity fail
    -- instead of the mismatches disappearing
    left join mismatch_types as t
        on t.mismatch_type = 'invoice_total_mismatch'
    left join severities as s
        on t.severity = s.severity

)

select * from final
