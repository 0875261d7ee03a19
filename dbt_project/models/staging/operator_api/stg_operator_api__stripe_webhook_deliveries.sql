-- Stripe webhook deliveries recorded by the operator API (every one, accepted or not), typed for the
-- warehouse. Without an attached API database this is an empty relation of the same shape.

{#- Always declare the dependency, so lineage shows the API's table even when it is not attached. -#}
{%- set deliveries_source = source('operator_api', 'stripe_webhook_deliveries') %}

{% if operator_api_enabled() %}

with

source as (

    select * from {{ deliveries_source }}

),

renamed as (

    select
        cast(delivery_id as bigint) as delivery_id,
        cast(received_at as timestamp) as received_at,
        cast(source as {{ string_type() }}) as delivery_source,
        cast(status as {{ string_type() }}) as status,
        cast(reason as {{ string_type() }}) as reason,
        cast(event_id as {{ string_type() }}) as event_id,
        cast(event_type as {{ string_type() }}) as event_type,
        cast(event_created as bigint) as event_created,
        cast(tenant_id as {{ string_type() }}) as tenant_id,
        cast(replayable as boolean) as is_replayable,
        cast(replayed_delivery_id as bigint) as replayed_delivery_id,
        cast(replay_attempts as bigint) as replay_attempts,
        cast(last_error as {{ string_type() }}) as last_error,
        cast(last_replayed_at as timestamp) as last_replayed_at,
        cast(resolved_at as timestamp) as resolved_at,
        cast(resolution as {{ string_type() }}) as resolution

    from source

)

select * from renamed

{% else %}

select
    cast(null as bigint) as delivery_id,
    cast(null as timestamp) as received_at,
    cast(null as {{ string_type() }}) as delivery_source,
    cast(null as {{ string_type() }}) as status,
    cast(null as {{ string_type() }}) as reason,
    cast(null as {{ string_type() }}) as event_id,
    cast(null as {{ string_type() }}) as event_type,
    cast(null as bigint) as event_created,
    cast(null as {{ string_type() }}) as tenant_id,
    cast(null as boolean) as is_replayable,
    cast(null as bigint) as replayed_delivery_id,
    cast(null as bigint) as replay_attempts,
    cast(null as {{ string_type() }}) as last_error,
    cast(null as timestamp) as last_replayed_at,
    cast(null as timestamp) as resolved_at,
    cast(null as {{ string_type() }}) as resolution
where 1 = 0

{% endif %}
