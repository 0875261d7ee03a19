-- Every finance finding, one row each, in the columns of fct_reconciliation_mismatches so it is published,
-- triaged and gated like the money-rail ones (provider_id `settlement_kernel`):
-- - finance_reconcile: for each tenant and period (int_finance__gl_periods), the latest GL batch against
--   every party statement of the period: gl_batch_missing, statements_missing, gl_not_zero_sum (per
--   currency), gl_hash_mismatch, statement_period_mismatch and statement_basis_mismatch (per statement),
--   totals_mismatch (per party and account, zero tolerance, a missing side is 0, delta = gl - statements)
--   and entry_ids_mismatch (per entry id in one side only). Unlike the old engine, every finding is
--   reported, not the first; without a batch or without statements the comparisons that need both sides
--   are not made (the missing side is the one finding).
-- - escrow_net_close: one row per code of a failing fct_escrow_net_close row (key: the currency).
-- operation_state (a short detail: the API keeps 32 characters) is hash_differs, the stated period or
-- basis, gl_only / statements_only, or the net close status; the hashes are in the finance report.
-- Rules: docs/DECISIONLOG.md, "Finance integrity".

with

gl_periods as (

    select * from {{ ref('int_finance__gl_periods') }}

),

batch_lines as (

    select * from {{ ref('stg_kernel_books__gl_batch_lines') }}

),

statements as (

    select * from {{ ref('stg_kernel_books__party_statements') }}

),

statement_lines as (

    select * from {{ ref('stg_kernel_books__party_statement_lines') }}

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

compared_periods as (

    select * from gl_periods
    where batch_id is not null and statement_count > 0

),

latest_lines as (

    select lines.*, compared_periods.period as gl_period
    from batch_lines as lines
    inner join compared_periods
        on lines.tenant_id = compared_periods.tenant_id
        and lines.batch_id = compared_periods.batch_id

),

period_statements as (

    select statements.*
    from statements
    inner join compared_periods
        on statements.tenant_id = compared_periods.tenant_id
        and statements.period = compared_periods.period

),

period_statement_lines as (

    -- the header's period and party (a line's own period column only selects rows upstream)
    select
        lines.tenant_id, lines.statement_id, period_statements.period, period_statements.party_id,
        lines.line_kind, lines.account_id, lines.entry_id, lines.amount_cents, lines.currency
    from statement_lines as lines
    inner join period_statements
        on lines.tenant_id = period_statements.tenant_id
        and lines.statement_id = period_statements.statement_id

),

gl_totals as (

    select tenant_id, gl_period as period, party_id, account_id, min(currency) as currency,
        {{ sum_cents('amount_cents') }} as gl_cents
    from latest_lines
    group by tenant_id, gl_period, party_id, account_id

),

statement_totals as (

    select tenant_id, period, party_id, account_id, min(currency) as currency,
        {{ sum_cents('amount_cents') }} as statement_cents
    from period_statement_lines
    where line_kind = 'total'
    group by tenant_id, period, party_id, account_id

),

gl_entries as (

    select distinct tenant_id, gl_period as period, entry_id
    from latest_lines

),

statement_entries as (

    select distinct tenant_id, period, entry_id
    from period_statement_lines
    where line_kind = 'entry'

),

findings as (

    select tenant_id, period, 'gl_batch_missing' as mismatch_type, period as mismatch_key,
        cast(null as {{ string_type() }}) as party_id, cast(null as {{ string_type() }}) as artifact_id,
        cast(null as {{ string_type() }}) as detail, statement_count as item_count,
        cast(null as bigint) as expected_amount_cents, cast(null as bigint) as actual_amount_cents, currency
    from gl_periods
    where batch_id is null and (is_month_closed or statement_count > 0)

    union all

    select tenant_id, period, 'statements_missing', batch_id, null, batch_id, null, line_count,
        null, null, currency
    from gl_periods
    where batch_id is not null and statement_count = 0

    union all

    select lines.tenant_id, periods.period, 'gl_not_zero_sum', {{ dbt.concat(['lines.batch_id', "'|'", 'lines.currency']) }},
        null, lines.batch_id, null, count(*), 0, {{ sum_cents('lines.amount_cents') }}, lines.currency
    from batch_lines as lines
    inner join gl_periods as periods
        on lines.tenant_id = periods.tenant_id
        and lines.batch_id = periods.batch_id
    group by lines.tenant_id, periods.period, lines.batch_id, lines.currency
    having sum(lines.amount_cents) <> 0

    union all

    select tenant_id, period, 'gl_hash_mismatch', batch_id, null, batch_id, 'hash_differs', line_count,
        null, null, currency
    from gl_periods
    where batch_id is not null
        and (recomputed_hash is null or recomputed_hash <> artifact_hash)

    union all

    select s.tenant_id, s.period, 'statement_period_mismatch', s.statement_id, s.party_id, s.statement_id,
        s.statement_period, null, null, null, p.currency
    from period_statements as s
    inner join compared_periods as p
        on s.tenant_id = p.tenant_id
        and s.period = p.period
    where s.statement_period <> s.period

    union all

    select s.tenant_id, s.period, 'statement_basis_mismatch', s.statement_id, s.party_id, s.statement_id,
        s.basis, null, null, null, p.currency
    from period_statements as s
    inner join compared_periods as p
        on s.tenant_id = p.tenant_id
        and s.period = p.period
    where s.basis <> p.basis

    union all

    select
        coalesce(gl.tenant_id, st.tenant_id), coalesce(gl.period, st.period), 'totals_mismatch',
        {{ dbt.concat(['coalesce(gl.party_id, st.party_id)', "'|'", 'coalesce(gl.account_id, st.account_id)']) }},
        coalesce(gl.party_id, st.party_id), null, null, null,
        coalesce(st.statement_cents, 0), coalesce(gl.gl_cents, 0),
        coalesce(gl.currency, st.currency, 'XXX')
    from gl_totals as gl
    full outer join statement_totals as st
        on gl.tenant_id = st.tenant_id
        and gl.period = st.period
        and gl.party_id = st.party_id
        and gl.account_id = st.account_id
    where coalesce(gl.gl_cents, 0) <> coalesce(st.statement_cents, 0)

    union all

    select
        coalesce(gl.tenant_id, st.tenant_id), coalesce(gl.period, st.period), 'entry_ids_mismatch',
        coalesce(gl.entry_id, st.entry_id), null, null,
        case when gl.entry_id is null then 'statements_only' else 'gl_only' end, null, null, null,
        p.currency
    from gl_entries as gl
    full outer join statement_entries as st
        on gl.tenant_id = st.tenant_id
        and gl.period = st.period
        and gl.entry_id = st.entry_id
    inner join compared_periods as p
        on coalesce(gl.tenant_id, st.tenant_id) = p.tenant_id
        and coalesce(gl.period, st.period) = p.period
    where gl.entry_id is null or st.entry_id is null

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
    from findings
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
