-- One row per money-rail operation (provider_id, operation_id) in its latest state. Providers
-- re-export an operation on every state change; a later `updated_at` supersedes an earlier one,
-- ties go to the later file and row.

{%- set state_timestamps = [
    'initiated_at', 'submitted_at', 'confirmed_at', 'failed_at', 'cancelled_at', 'reversed_at',
] %}
{%- set row_columns = [
    'provider_id', 'operation_id', 'tenant_id', 'payout_key', 'provider_ref', 'direction', 'state',
    'reason_code', 'amount_cents', 'currency',
] + state_timestamps + ['updated_at', '_source_file', '_source_row'] %}

-- Incremental (macros/incremental.sql): a build after the first recomputes only the operations with
-- versions loaded or deleted since the newest load the table has seen, from all of their raw versions.
-- depends_on: {{ source('raw', 'load_deletions') }}
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='delete+insert',
    unique_key=['provider_id', 'operation_id'],
    on_schema_change='fail',
    pre_hook="{{ forget_deleted_keys(source('raw', 'load_deletions'), ['money_rail_operations'], ['provider_id', 'operation_id']) }}",
) }}

with

{% if is_incremental() -%}
changed_operations as (

    {{ keys_loaded_or_deleted_since(source('raw', 'money_rail_operations'), source('raw', 'load_deletions'), ['money_rail_operations'], ['provider_id', 'operation_id']) }}

),

{% endif -%}
source as {{ not_materialized() }} (

    select * from {{ source('raw', 'money_rail_operations') }} as raw_rows
    {%- if is_incremental() %}
    where {{ among_keys('changed_operations', 'raw_rows', ['provider_id', 'operation_id']) }}
    {%- endif %}

),

renamed as {{ not_materialized() }} (

    select
        cast(provider_id as {{ string_type() }}) as provider_id,
        cast(operation_id as {{ string_type() }}) as operation_id,
        cast(tenant_id as {{ string_type() }}) as tenant_id,
        cast(payout_key as {{ string_type() }}) as payout_key,
        cast(provider_ref as {{ string_type() }}) as provider_ref,
        cast(direction as {{ string_type() }}) as direction,
        cast(state as {{ string_type() }}) as state,
        cast(reason_code as {{ string_type() }}) as reason_code,
        cast(amount_cents as bigint) as amount_cents,
        cast(currency as {{ string_type() }}) as currency,
        {%- for column in state_timestamps %}
        cast({{ column }} as timestamp) as {{ column }},
        {%- endfor %}
        cast(updated_at as timestamp) as updated_at,
        cast(_source_file as {{ string_type() }}) as _source_file,
        cast(_source_row as bigint) as _source_row

    from source

),

-- `not_materialized()` above: the macro reads `renamed` three times (docs in macros/deduplicate.sql).
latest_versions as (

    {{ deduplicate(
        'renamed',
        partition_by=['provider_id', 'operation_id'],
        order_by='updated_at desc, _source_file desc, _source_row desc',
        columns=row_columns,
    ) }}

),

with_first_event as (

    select
        *,
        -- initiated_at is required by the contract; the fallback covers a provider that
        -- reports a later state without the initiation time.
        coalesce(initiated_at, {{ least_not_null(state_timestamps[1:]) }}) as first_event_at

    from latest_versions

),

final as (

    select
        provider_id,
        operation_id,
        tenant_id,
        payout_key,
        provider_ref,
        direction,
        state,
        reason_code,
        {{ to_period('first_event_at') }} as first_event_period,
        -- Live: money is moving or has moved (a second live operation for a key pays twice).
        state in ('initiated', 'submitted', 'confirmed') as is_live,
        state in ('failed', 'reversed') as is_terminal_failure,
        amount_cents,
        currency,
        first_event_at,
        {%- for column in state_timestamps %}
        {{ column }},
        {%- endfor %}
        updated_at,
        _source_file,
        _source_row,
        {{ newest_load([source('raw', 'money_rail_operations')], source('raw', 'load_deletions'), ['money_rail_operations']) }} as _loaded_at

    from with_first_event

)

select * from final
