-- One row per Stripe event id. The API pull and the webhook both land events in the same raw
-- table, and Stripe retries webhooks, so one event can arrive several times with the same body:
-- the earliest loaded copy is kept (ties to the first file and row).

{%- set row_columns = [
    'event_id', 'tenant_id', 'customer_id', 'object_id', 'account_id', 'event_type', 'object_type',
    'api_version', 'is_livemode', 'payload', 'created_at', '_loaded_at', '_source_file', '_source_row',
] %}

-- `not_materialized()`: the de-duplication reads `renamed` three times (macros/deduplicate.sql).
with

source as {{ not_materialized() }} (

    select * from {{ source('raw', 'stripe_events') }}

),

renamed as {{ not_materialized() }} (

    select
        cast(event_id as {{ string_type() }}) as event_id,
        cast(tenant_id as {{ string_type() }}) as tenant_id,
        cast(customer_id as {{ string_type() }}) as customer_id,
        cast(object_id as {{ string_type() }}) as object_id,
        cast(account as {{ string_type() }}) as account_id,
        cast(event_type as {{ string_type() }}) as event_type,
        cast(object_type as {{ string_type() }}) as object_type,
        cast(api_version as {{ string_type() }}) as api_version,
        cast(livemode as boolean) as is_livemode,
        cast(payload as {{ string_type() }}) as payload,
        cast(created_at as timestamp) as created_at,
        cast(_loaded_at as timestamp) as _loaded_at,
        cast(_source_file as {{ string_type() }}) as _source_file,
        cast(_source_row as bigint) as _source_row

    from source

),

first_copies as (

    {{ deduplicate(
        'renamed',
        partition_by=['event_id'],
        order_by='_loaded_at, _source_file, _source_row',
        columns=row_columns,
    ) }}

),

final as (

    select
        event_id,
        tenant_id,
        customer_id,
        object_id,
        account_id,
        event_type,
        object_type,
        api_version,
        {{ to_period('created_at') }} as event_period,
        is_livemode,
        payload,
        created_at,
        _loaded_at,
        _source_file,
        _source_row

    from first_copies

)

select * from final
