-- One row per (tenant_id, period) whose GL must tie out with its party statements: every month the kernel
-- closed, and every period a GL batch or a party statement names (an open month with books is reconciled
-- too). Carries the latest GL batch of the period (by generated_at, ties to the greater batch_id) with its
-- recomputed hash, and how many statements the period has. Rules: docs/DECISIONLOG.md, "Finance integrity".

{%- set inputs = ['stg_kernel_books__month_closes', 'stg_kernel_books__gl_batches', 'stg_kernel_books__gl_batch_lines', 'stg_kernel_books__party_statements', 'stg_kernel_books__ledger_postings'] %}
{%- set datasets = ['month_closes', 'gl_batches', 'gl_batch_lines', 'party_statements', 'ledger_postings'] %}
-- Rebuilt whole when an input changed since its last build, else left as it is
-- (macros/incremental.sql, rebuilt_when_inputs_change).
{{ rebuilt_when_inputs_change(inputs, datasets) }}

with

month_closes as (

    select * from {{ ref('stg_kernel_books__month_closes') }} {{ when_inputs_changed(inputs, datasets) }}

),

batches as (

    select * from {{ ref('stg_kernel_books__gl_batches') }} {{ when_inputs_changed(inputs, datasets) }}

),

batch_lines as (

    select * from {{ ref('stg_kernel_books__gl_batch_lines') }} {{ when_inputs_changed(inputs, datasets) }}

),

statements as (

    select * from {{ ref('stg_kernel_books__party_statements') }} {{ when_inputs_changed(inputs, datasets) }}

),

postings as (

    select * from {{ ref('stg_kernel_books__ledger_postings') }} {{ when_inputs_changed(inputs, datasets) }}

),

book_periods as (

    select tenant_id, period from month_closes where status = 'closed'
    union
    select tenant_id, period from batches
    union
    select tenant_id, period from statements

),

batches_ranked as (

    select
        *,
        row_number() over (
            partition by tenant_id, period
            order by generated_at desc, batch_id desc
        ) as batch_rank,
        count(*) over (partition by tenant_id, period) as batch_count

    from batches

),

latest_batches as (

    select * from batches_ranked where batch_rank = 1

),

batch_digests as (

    select
        lines.tenant_id,
        lines.batch_id,
        {{ multiset_digest(gl_line_md5('lines.party_id', 'lines.account_id', 'lines.entry_id', 'lines.amount_cents')) }}
            as recomputed_hash,
        count(*) as line_count,
        min(lines.currency) as currency

    from batch_lines as lines
    inner join latest_batches
        on lines.tenant_id = latest_batches.tenant_id
        and lines.batch_id = latest_batches.batch_id
    group by lines.tenant_id, lines.batch_id

),

statement_counts as (

    select tenant_id, period, count(*) as statement_count
    from statements
    group by tenant_id, period

),

posting_currencies as (

    select tenant_id, {{ to_period('posted_at') }} as period, min(currency) as currency
    from postings
    group by tenant_id, {{ to_period('posted_at') }}

),

final as (

    select
        book_periods.tenant_id,
        book_periods.period,
        latest_batches.batch_id,
        latest_batches.basis,
        latest_batches.artifact_hash,
        batch_digests.recomputed_hash,
        coalesce(closes.status = 'closed', false) as is_month_closed,
        cast(coalesce(latest_batches.batch_count, 0) as bigint) as batch_count,
        cast(coalesce(batch_digests.line_count, 0) as bigint) as line_count,
        cast(coalesce(statement_counts.statement_count, 0) as bigint) as statement_count,
        -- the currency a period-level finding is reported in: the batch's, else the postings', else XXX
        coalesce(batch_digests.currency, posting_currencies.currency, 'XXX') as currency,
        latest_batches.generated_at,
        {{ inputs_loaded_at(inputs, datasets) }} as _loaded_at

    from book_periods
    left join month_closes as closes
        on book_periods.tenant_id = closes.tenant_id
        and book_periods.period = closes.period
    left join latest_batches
        on book_periods.tenant_id = latest_batches.tenant_id
        and book_periods.period = latest_batches.period
    left join batch_digests
        on latest_batches.tenant_id = batch_digests.tenant_id
        and latest_batches.batch_id = batch_digests.batch_id
    left join statement_counts
        on book_periods.tenant_id = statement_counts.tenant_id
        and book_periods.period = statement_counts.period
    left join posting_currencies
        on book_periods.tenant_id = posting_currencies.tenant_id
        and book_periods.period = posting_currencies.period

)

select * from final
