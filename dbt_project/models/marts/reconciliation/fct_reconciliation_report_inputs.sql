-- What each ReconcileReport.v1 was computed from: per tenant, period, provider and input (payout
-- instructions, money-rail operations), the row count, a digest of the rows and the landing files
-- they came from. Digesting here, in one set-based pass, spares the report writer from reading every
-- input row (docs/DECISIONLOG.md "Report input digests").
-- Operations are attributed as the tie-out attributes them: to the period and provider of the
-- instruction their key names, else to their own provider and the month of their first timestamp.

with

-- `not_materialized()`: read twice below; DuckDB would otherwise copy every row first.
instructions as {{ not_materialized() }} (

    select * from {{ ref('stg_settlement_kernel__payout_instructions') }}

),

payout_operations as (

    select * from {{ ref('stg_money_rails__operations') }}
    where direction = 'payout'

),

earliest_instructions as (

    select tenant_id, payout_key, period, provider_id
    from instructions
    where instruction_seq = 1

),

instruction_rows as (

    select
        tenant_id,
        period,
        provider_id,
        _source_file,
        {{ row_text([
            'payout_key', 'instruction_seq', 'party_id', 'amount_cents', 'currency',
            epoch_microseconds('created_at'),
        ]) }} as row_text

    from instructions

),

operation_rows as (

    select
        operations.tenant_id,
        coalesce(earliest.period, operations.first_event_period) as period,
        coalesce(earliest.provider_id, operations.provider_id) as provider_id,
        operations._source_file,
        {{ row_text([
            'operations.provider_id', 'operations.operation_id', 'operations.payout_key',
            'operations.state', 'operations.amount_cents', 'operations.currency',
            epoch_microseconds('operations.updated_at'),
        ]) }} as row_text

    from payout_operations as operations
    left join earliest_instructions as earliest
        on operations.tenant_id = earliest.tenant_id
        and operations.payout_key = earliest.payout_key

),

input_rows as (

    select 'payout_instructions' as input_name, * from instruction_rows
    union all
    select 'money_rail_operations' as input_name, * from operation_rows

),

-- The digest is a multiset digest (macro multiset_digest): additive over the rows' sha256, so it needs
-- no ordering and no large string. An ordered string aggregation of a report's rows ran out of memory at
-- 10 million instructions.
hashed as (

    select
        tenant_id,
        period,
        provider_id,
        input_name,
        _source_file,
        -- md5, not sha256: a third of the cost over 20 million rows, and the digest is a change
        -- detector either way (DECISIONLOG).
        {{ dbt.hash('row_text') }} as row_hash

    from input_rows

),

digested as (

    select
        tenant_id,
        period,
        provider_id,
        input_name,
        count(*) as row_count,
        {{ multiset_digest('row_hash') }} as rows_digest,
        {{ distinct_values_joined("_source_file", "chr(10)") }} as source_files

    from hashed
    group by tenant_id, period, provider_id, input_name

),

final as (

    select
        tenant_id,
        period,
        provider_id,
        input_name,
        cast(row_count as bigint) as row_count,
        rows_digest,
        source_files

    from digested

)

select * from final
