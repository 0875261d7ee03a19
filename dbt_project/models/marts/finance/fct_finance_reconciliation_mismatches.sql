-- Every finance finding, one row each, in the columns of fct_reconciliation_mismatches so it is published,
-- triaged and gated like the money-rail ones (provider_id `settlement_kernel`):
-- - finance_reconcile: the GL against the party statements of each tenant and period
--   (int_finance__gl_findings, rebuilt only when the kernel's books change; delta = gl - statements);
-- - escrow_net_close: one row per code of a failing fct_escrow_net_close row (key: the currency).
-- operation_state (a short detail: the API keeps 32 characters) is hash_differs, the stated period or
-- basis, gl_only / statements_only, or the net close status; the hashes are in the finance report.
-- Rules: docs/DECISIONLOG.md, "Finance integrity".

with

gl_findings as (

    select * from {{ ref('int_finance__gl_findings') }}

),

net_close as (

    select * from {{ ref('fct_escrow_net_close') }}

),

mismatch_types as (

    select * from {{ ref('reconciliation_mismatch_types') }}

),

severities as (

    select * from {{ ref('reconciliation_severities') }}

),

escrow_findings as (

    {%- set escrow_rules = seed_values('reconciliation_mismatch_types', 'mismatch_type',
                                      where="source_type = 'escrow_net_close'") %}
    {%- for rule in escrow_rules %}
    select tenant_id, period, '{{ rule }}' as mismatch_type, currency as mismatch_key,
        held_artifact_id as artifact_id, status as detail,
        held_ending_cents as expected_amount_cents, ledger_ending_cents as actual_amount_cents, currency
    from net_close
    where is_{{ rule }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

all_findings as (

    select 'finance_reconcile' as source_type, tenant_id, period, mismatch_type, mismatch_key, party_id,
        artifact_id, detail, item_count, expected_amount_cents, actual_amount_cents, currency
    from gl_findings
    union all
    select 'escrow_net_close', tenant_id, period, mismatch_type, mismatch_key, null, artifact_id, detail,
        null, expected_amount_cents, actual_amount_cents, currency
    from escrow_findings

),

final as (

    select
        cast({{ triage_key('f.source_type', 'f.tenant_id', 'f.period', "'settlement_kernel'",
                           'f.mismatch_type', 'f.mismatch_key') }} as {{ string_type() }}) as triage_key,
        cast(f.tenant_id as {{ string_type() }}) as tenant_id,
        cast(f.period as {{ string_type() }}) as period,
        cast('settlement_kernel' as {{ string_type() }}) as provider_id,
        cast(f.mismatch_type as {{ string_type() }}) as mismatch_type,
        cast(f.mismatch_key as {{ string_type() }}) as mismatch_key,
        cast(f.source_type as {{ string_type() }}) as source_type,
        cast(t.mismatch_code as {{ string_type() }}) as mismatch_code,
        cast(t.severity as {{ string_type() }}) as severity,
        cast(s.severity_rank as integer) as severity_rank,
        cast(f.party_id as {{ string_type() }}) as party_id,
        cast(f.artifact_id as {{ string_type() }}) as operation_id,
        cast(f.detail as {{ string_type() }}) as operation_state,
        cast(coalesce(f.item_count, 0) as bigint) as operation_count,
        cast(f.expected_amount_cents as bigint) as expected_amount_cents,
        cast(f.actual_amount_cents as bigint) as actual_amount_cents,
        cast(f.actual_amount_cents - f.expected_amount_cents as bigint) as amount_delta_cents,
        cast(f.currency as {{ string_type() }}) as currency,
        cast(f.currency as {{ string_type() }}) as actual_currency,
        {{ reconciliation_as_of() }} as as_of

    from all_findings as f
    -- left joins: a type missing from its seed fails the not_null tests instead of disappearing
    left join mismatch_types as t
        on f.mismatch_type = t.mismatch_type
    left join severities as s
        on t.severity = s.severity

)

select * from final
