-- The latest known state of each Stripe object finance reads (subscription, invoice, charge,
-- payment_intent, invoice_payment, balance_transaction, payout), one row per (object_type, object_id), typed for the warehouse. The API
-- keeps the newest state by when it was true (api/billing/objects.py), so nothing is ranked here.
-- Without an attached API database this is an empty relation of the same shape.

{%- set objects_source = source('operator_api', 'stripe_objects') %}

{% if operator_api_enabled() %}

with

source as (

    select * from {{ objects_source }}

),

renamed as (

    select
        cast(object_type as {{ string_type() }}) as object_type,
        cast(object_id as {{ string_type() }}) as object_id,
        cast(account as {{ string_type() }}) as account_id,
        cast(tenant_id as {{ string_type() }}) as tenant_id,
        cast(customer_id as {{ string_type() }}) as customer_id,
        cast(status as {{ string_type() }}) as status,
        cast(currency as {{ string_type() }}) as currency,
        cast(amount_cents as bigint) as amount_cents,
        {{ epoch_seconds_to_timestamp('cast(created as bigint)') }} as created_at,
        {{ epoch_seconds_to_timestamp('cast(period_start as bigint)') }} as period_start_at,
        {{ epoch_seconds_to_timestamp('cast(period_end as bigint)') }} as period_end_at,
        {{ epoch_seconds_to_timestamp('cast(service_start as bigint)') }} as service_start_at,
        {{ epoch_seconds_to_timestamp('cast(service_end as bigint)') }} as service_end_at,
        cast(amount_received_cents as bigint) as amount_received_cents,
        cast(failure_code as {{ string_type() }}) as failure_code,
        cast(decline_code as {{ string_type() }}) as decline_code,
        cast(outcome_type as {{ string_type() }}) as outcome_type,
        cast(outcome_reason as {{ string_type() }}) as outcome_reason,
        cast(network_status as {{ string_type() }}) as network_status,
        cast(attempt_count as bigint) as attempt_count,
        cast(related_id as {{ string_type() }}) as related_id,
        cast(livemode as boolean) as is_livemode,
        {{ epoch_seconds_to_timestamp('cast(state_at as bigint)') }} as state_at,
        cast(state_source as {{ string_type() }}) as state_source,
        cast(payload_sha256 as {{ string_type() }}) as payload_sha256

    from source

)

select * from renamed

{% else %}

select
    cast(null as {{ string_type() }}) as object_type,
    cast(null as {{ string_type() }}) as object_id,
    cast(null as {{ string_type() }}) as account_id,
    cast(null as {{ string_type() }}) as tenant_id,
    cast(null as {{ string_type() }}) as customer_id,
    cast(null as {{ string_type() }}) as status,
    cast(null as {{ string_type() }}) as currency,
    cast(null as bigint) as amount_cents,
    cast(null as timestamp) as created_at,
    cast(null as timestamp) as period_start_at,
    cast(null as timestamp) as period_end_at,
    cast(null as timestamp) as service_start_at,
    cast(null as timestamp) as service_end_at,
    cast(null as bigint) as amount_received_cents,
    cast(null as {{ string_type() }}) as failure_code,
    cast(null as {{ string_type() }}) as decline_code,
    cast(null as {{ string_type() }}) as outcome_type,
    cast(null as {{ string_type() }}) as outcome_reason,
    cast(null as {{ string_type() }}) as network_status,
    cast(null as bigint) as attempt_count,
    cast(null as {{ string_type() }}) as related_id,
    cast(null as boolean) as is_livemode,
    cast(null as timestamp) as state_at,
    cast(null as {{ string_type() }}) as state_source,
    cast(null as {{ string_type() }}) as payload_sha256
where 1 = 0

{% endif %}
