-- Balance-level tie-out, the second line of defence behind the key-by-key matching: per tenant,
-- period, provider and currency, what the kernel instructed against what the rails confirmed.
-- An operation counts in the period of the instruction its key names, else in the month of its
-- first timestamp; under its own provider and currency. Drift = confirmed - expected.

with

-- `not_materialized()`: read twice below; DuckDB would otherwise copy every row first.
instructions as {{ not_materialized() }} (

    select * from {{ ref('stg_settlement_kernel__payout_instructions') }}
    where instruction_seq = 1

),

payout_operations as (

    select * from {{ ref('stg_money_rails__operations') }}
    where direction = 'payout'

),

expected as (

    select
        tenant_id,
        period,
        provider_id,
        currency,
        sum(amount_cents) as expected_total_cents

    from instructions
    group by tenant_id, period, provider_id, currency

),

operations_attributed as (

    select
        operations.tenant_id,
        coalesce(instructions.period, operations.first_event_period) as period,
        operations.provider_id,
        operations.currency,
        operations.state,
        operations.amount_cents

    from payout_operations as operations
    left join instructions
        on operations.tenant_id = instructions.tenant_id
        and operations.payout_key = instructions.payout_key

),

actual as (

    select
        tenant_id,
        period,
        provider_id,
        currency,
        sum(case when state = 'confirmed' then amount_cents else 0 end) as confirmed_total_cents,
        sum(case when state in ('initiated', 'submitted') then amount_cents else 0 end) as in_flight_total_cents

    from operations_attributed
    group by tenant_id, period, provider_id, currency

),

spine as (

    select tenant_id, period, provider_id, currency from expected
    union
    select tenant_id, period, provider_id, currency from actual

),

final as (

    select
        cast(spine.tenant_id as {{ string_type() }}) as tenant_id,
        cast(spine.period as {{ string_type() }}) as period,
        cast(spine.provider_id as {{ string_type() }}) as provider_id,
        cast(
            coalesce(actual.confirmed_total_cents, 0) = coalesce(expected.expected_total_cents, 0) as boolean
        ) as is_tied_out,
        cast(coalesce(expected.expected_total_cents, 0) as bigint) as expected_total_cents,
        cast(coalesce(actual.confirmed_total_cents, 0) as bigint) as confirmed_total_cents,
        cast(coalesce(actual.in_flight_total_cents, 0) as bigint) as in_flight_total_cents,
        cast(
            coalesce(actual.confirmed_total_cents, 0) - coalesce(expected.expected_total_cents, 0) as bigint
        ) as drift_cents,
        cast(spine.currency as {{ string_type() }}) as currency,
        {{ reconciliation_as_of() }} as as_of

    from spine
    left join expected
        on spine.tenant_id = expected.tenant_id
        and spine.period = expected.period
        and spine.provider_id = expected.provider_id
        and spine.currency = expected.currency
    left join actual
        on spine.tenant_id = actual.tenant_id
        and spine.period = actual.period
        and spine.provider_id = actual.provider_id
        and spine.currency = actual.currency

)

select * from final
