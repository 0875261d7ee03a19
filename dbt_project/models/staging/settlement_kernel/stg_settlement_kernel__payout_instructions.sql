-- One row per distinct payout instruction. Rows that share a payout_key are all kept: two
-- instructions for one key is the reconciliation finding `duplicate_expected`, decided in the
-- reconciliation models, not hidden here. Only exact re-deliveries (every contract column equal,
-- e.g. the same file landed twice under two names) collapse, to the first file and row.

{%- set contract_columns = [
    'tenant_id', 'payout_key', 'party_id', 'party_role', 'period', 'amount_cents', 'currency',
    'provider_id', 'destination_ref', 'statement_hash', 'created_at',
] %}
{%- set row_columns = contract_columns + ['_source_file', '_source_row'] %}

-- Incremental (macros/incremental.sql): a build after the first recomputes only the payout keys with rows
-- loaded or deleted since the newest load the table has seen, from all of each such key's raw rows.
-- depends_on: {{ source('raw', 'load_deletions') }}
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='delete+insert',
    unique_key=['tenant_id', 'payout_key'],
    on_schema_change='fail',
    pre_hook="{{ forget_deleted_keys(source('raw', 'load_deletions'), ['payout_instructions'], ['tenant_id', 'payout_key']) }}",
) }}

-- `not_materialized()`: the rows are read by three branches below; DuckDB would otherwise copy all of them
-- into a temporary result first (measured at 10 million instructions: 50 s instead of 22 s).
with

{% if is_incremental() -%}
changed_keys as (

    {{ keys_loaded_or_deleted_since(source('raw', 'payout_instructions'), source('raw', 'load_deletions'), ['payout_instructions'], ['tenant_id', 'payout_key']) }}

),

{% endif -%}
source as {{ not_materialized() }} (

    select * from {{ source('raw', 'payout_instructions') }} as raw_rows
    {%- if is_incremental() %}
    where {{ among_keys('changed_keys', 'raw_rows', ['tenant_id', 'payout_key']) }}
    {%- endif %}

),

renamed as {{ not_materialized() }} (

    select
        cast(tenant_id as {{ string_type() }}) as tenant_id,
        cast(payout_key as {{ string_type() }}) as payout_key,
        cast(party_id as {{ string_type() }}) as party_id,
        cast(party_role as {{ string_type() }}) as party_role,
        cast(period as {{ string_type() }}) as period,
        cast(amount_cents as bigint) as amount_cents,
        cast(currency as {{ string_type() }}) as currency,
        cast(provider_id as {{ string_type() }}) as provider_id,
        cast(destination_ref as {{ string_type() }}) as destination_ref,
        cast(statement_hash as {{ string_type() }}) as statement_hash,
        cast(created_at as timestamp) as created_at,
        cast(_source_file as {{ string_type() }}) as _source_file,
        cast(_source_row as bigint) as _source_row

    from source

),

-- Nearly every payout key has exactly one instruction row. Window functions over ten million one-row
-- partitions cost far more than finding the few keys with several rows, so only those rows go through
-- the windows below; a key with one row is its own first delivery and first instruction (measured at
-- 10 million instructions: 55 s with windows over every row, docs/performance.md). The keys with
-- several rows are found by a 64-bit hash of the key (macro key_hash): grouping eight-byte values is
-- far cheaper than grouping ten million long keys, and a hash collision only sends a few more rows
-- through the exact windows, which give a key with one row the same values as below.
repeated_keys as (

    {{ repeated_key_hashes('renamed', ['tenant_id', 'payout_key']) }}

),

single_rows as (

    select
        {% for column in row_columns %}renamed.{{ column }}, {% endfor %}
        1 as instruction_seq,
        1 as instruction_count,
        1 as delivery_count

    from renamed
    left join repeated_keys
        on {{ key_hash(['renamed.tenant_id', 'renamed.payout_key']) }} = repeated_keys.key_hash
    where repeated_keys.key_hash is null

),

repeated_rows as (

    select renamed.*
    from renamed
    inner join repeated_keys
        on {{ key_hash(['renamed.tenant_id', 'renamed.payout_key']) }} = repeated_keys.key_hash

),

deliveries_ranked as (

    -- Window partitions put nulls together, so two rows with the same null destination_ref
    -- count as identical, as they should.
    select
        *,
        row_number() over (
            partition by {{ contract_columns | join(', ') }}
            order by _source_file, _source_row
        ) as delivery_rank,
        count(*) over (
            partition by {{ contract_columns | join(', ') }}
        ) as delivery_count

    from repeated_rows

),

distinct_instructions as (

    select * from deliveries_ranked
    where delivery_rank = 1

),

sequenced as (

    select
        {{ row_columns | join(', ') }},
        row_number() over (
            partition by tenant_id, payout_key
            order by created_at, _source_file, _source_row
        ) as instruction_seq,
        -- same partition as the sequence: counted in the same pass
        count(*) over (partition by tenant_id, payout_key) as instruction_count,
        delivery_count

    from distinct_instructions

),

instructions as (

    select * from single_rows
    union all
    select * from sequenced

),

final as (

    select
        {{ surrogate_key(['tenant_id', 'payout_key', '_source_file', '_source_row']) }}
            as payout_instruction_id,
        tenant_id,
        payout_key,
        party_id,
        provider_id,
        party_role,
        period,
        cast(instruction_seq as bigint) as instruction_seq,
        cast(instruction_count as bigint) as instruction_count,
        cast(delivery_count as bigint) as delivery_count,
        destination_ref,
        statement_hash,
        amount_cents,
        currency,
        created_at,
        _source_file,
        _source_row,
        {{ newest_load([source('raw', 'payout_instructions')], source('raw', 'load_deletions'), ['payout_instructions']) }} as _loaded_at

    from instructions

)

select * from final
