-- Stripe events accepted by the operator API (webhook, pull or replay), one row per event id, typed for
-- the warehouse; the subscription facts were read from the payload when the event was stored. Without an
-- attached API database this is an empty relation of the same shape.

{%- set events_source = source('operator_api', 'stripe_events') %}

{% if operator_api_enabled() %}

with

source as (

    select * from {{ events_source }}

),

renamed as (

    select
        cast(event_id as {{ string_type() }}) as event_id,
        cast(event_type as {{ string_type() }}) as event_type,
        cast(created as bigint) as created_epoch,
        {{ epoch_seconds_to_timestamp('cast(created as bigint)') }} as created_at,
        cast(tenant_id as {{ string_type() }}) as tenant_id,
        cast(attribution as {{ string_type() }}) as attribution,
        cast(api_version as {{ string_type() }}) as api_version,
        cast(object_type as {{ string_type() }}) as object_type,
        cast(object_id as {{ string_type() }}) as object_id,
        cast(customer_id as {{ string_type() }}) as customer_id,
        cast(subscription_status as {{ string_type() }}) as subscription_status,
        cast(plan as {{ string_type() }}) as plan,
        cast(ignored as boolean) as is_ignored,
        cast(source as {{ string_type() }}) as first_arrival,
        cast(received_at as timestamp) as received_at

    from source

)

select * from renamed

{% else %}

select
    cast(null as {{ string_type() }}) as event_id,
    cast(null as {{ string_type() }}) as event_type,
    cast(null as bigint) as created_epoch,
    cast(null as timestamp) as created_at,
    cast(null as {{ string_type() }}) as tenant_id,
    cast(null as {{ string_type() }}) as attribution,
    cast(null as {{ string_type() }}) as api_version,
    cast(null as {{ string_type() }}) as object_type,
    cast(null as {{ string_type() }}) as object_id,
    cast(null as {{ string_type() }}) as customer_id,
    cast(null as {{ string_type() }}) as subscription_status,
    cast(null as {{ string_type() }}) as plan,
    cast(null as boolean) as is_ignored,
    cast(null as {{ string_type() }}) as first_arrival,
    cast(null as timestamp) as received_at
where 1 = 0

{% endif %}
