-- The findings of finance_reconcile, one row each: for each tenant and period (int_finance__gl_periods), the
-- latest GL batch against every party statement of the period: gl_batch_missing, statements_missing,
-- gl_not_zero_sum (per currency), gl_hash_mismatch, statement_period_mismatch and statement_basis_mismatch
-- (per statement), totals_mismatch (per party and account, zero tolerance, a missing side is 0) and
-- entry_ids_mismatch (per entry id in one side only). Unlike the old engine, every finding is reported, not
-- the first; without a batch or without statements the comparisons that need both sides are not made (the
-- missing side is the one finding). fct_finance_reconciliation_mismatches gives them codes, severities and
-- the as-of. Rules: docs/DECISIONLOG.md, "Finance integrity".

{%- set inputs = ['int_finance__gl_periods', 'stg_kernel_books__gl_batch_lines', 'stg_kernel_books__party_statements', 'stg_kernel_books__party_statement_lines'] %}
{%- set datasets = ['gl_batches', 'gl_batch_lines', 'party_statements', 'party_statement_lines', 'month_closes', 'ledger_postings'] %}
-- Rebuilt whole when an input changed since its last build, else left as it is
-- (macros/incremental.sql, rebuilt_when_inputs_change).
{{ rebuilt_when_inputs_change(inputs, datasets) }}

with

gl_periods as (

    select * from {{ ref('int_finance__gl_periods') }} {{ when_inputs_changed(inputs, datasets) }}

),

batch_lines as (

    select * from {{ ref('stg_kernel_books__gl_batch_lines') }} {{ when_inputs_changed(inputs, datasets) }}

),

statements as (

    select * from {{ ref('stg_kernel_books__party_statements') }} {{ when_inputs_changed(inputs, datasets) }}

),

statement_lines as (

    select * from {{ ref('stg_kernel_books__party_statement_lines') }} {{ when_inputs_changed(inputs, datasets) }}

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

final as (

    select
        tenant_id, period, mismatch_type, mismatch_key, party_id, artifact_id, detail, item_count,
        expected_amount_cents, actual_amount_cents, currency,
        {{ inputs_loaded_at(inputs, datasets) }} as _loaded_at

    from findings

)

select * from final
