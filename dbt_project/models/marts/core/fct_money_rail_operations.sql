-- One row per money-rail operation (provider_id, operation_id) in its latest state, with the
-- flags reconciliation uses.

-- A view: it only renames and flags the staging table's rows, so copying 10 million rows into a
-- second table would buy nothing (the staging table already holds the de-duplicated versions).
{{ config(materialized='view') }}

with

operations as (

    select * from {{ ref('stg_money_rails__operations') }}

),

final as (

    select
        cast(provider_id as {{ string_type() }}) as provider_id,
        cast(operation_id as {{ string_type() }}) as operation_id,
        cast(tenant_id as {{ string_type() }}) as tenant_id,
        cast(payout_key as {{ string_type() }}) as payout_key,
        cast(provider_ref as {{ string_type() }}) as provider_ref,
        cast(direction as {{ string_type() }}) as direction,
        cast(state as {{ string_type() }}) as state,
        cast(reason_code as {{ string_type() }}) as reason_code,
        cast(first_event_period as {{ string_type() }}) as first_event_period,
        cast(is_live as boolean) as is_live,
        cast(state in ('initiated', 'submitted') as boolean) as is_in_flight,
        cast(is_terminal_failure as boolean) as is_terminal_failure,
        cast(state = 'cancelled' as boolean) as is_cancelled,
        cast(payout_key is not null as boolean) as has_payout_key,
        cast(amount_cents as bigint) as amount_cents,
        cast(currency as {{ string_type() }}) as currency,
        cast(first_event_at as timestamp) as first_event_at,
        cast(initiated_at as timestamp) as initiated_at,
        cast(submitted_at as timestamp) as submitted_at,
        cast(confirmed_at as timestamp) as confirmed_at,
        cast(failed_at as timestamp) as failed_at,
        cast(cancelled_at as timestamp) as cancelled_at,
        cast(reversed_at as timestamp) as reversed_at,
        cast(updated_at as timestamp) as updated_at

    from operations

)

select * from final
