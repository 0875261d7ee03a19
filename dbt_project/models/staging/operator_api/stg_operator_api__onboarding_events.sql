-- Onboarding events from the operator API, one row per (tenant, event id): what tenants reported and
-- what the platform witnessed (`recorded_by`). `occurred_at` is the event's `at`, `received_at` when the
-- API stored it; `received_order` breaks ties of `received_at` (the API's row id, in insert order).
-- Without an attached API database this is an empty relation of the same shape.

{#- Always declare the dependency, so lineage shows the API's table even when it is not attached. -#}
{%- set events_source = source('operator_api', 'onboarding_events') %}

{% if operator_api_enabled() %}

with

source as (

    select * from {{ events_source }}

),

renamed as (

    select
        cast(tenant_id as {{ string_type() }}) as tenant_id,
        cast(event_id as {{ string_type() }}) as event_id,
        cast(event_type as {{ string_type() }}) as event_type,
        cast(recorded_by as {{ string_type() }}) as recorded_by,
        cast(source as {{ string_type() }}) as event_source,
        cast(id as bigint) as received_order,
        cast({{ adapter.quote("at") }} as timestamp) as occurred_at,
        cast(received_at as timestamp) as received_at

    from source

)

select * from renamed

{% else %}

select
    cast(null as {{ string_type() }}) as tenant_id,
    cast(null as {{ string_type() }}) as event_id,
    cast(null as {{ string_type() }}) as event_type,
    cast(null as {{ string_type() }}) as recorded_by,
    cast(null as {{ string_type() }}) as event_source,
    cast(null as bigint) as received_order,
    cast(null as timestamp) as occurred_at,
    cast(null as timestamp) as received_at
where 1 = 0

{% endif %}
