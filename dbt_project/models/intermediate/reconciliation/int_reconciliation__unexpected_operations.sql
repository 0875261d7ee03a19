-- Payout operations that no instruction of their tenant expects: a null payout_key, or a key the
-- tenant's instructions never named. One row per (tenant, provider, mismatch key), where the key is
-- the payout_key or, when it is null, the operation id; the earliest operation represents the group
-- and gives the period (UTC month of its first timestamp).

with

payout_operations as (

    select * from {{ ref('stg_money_rails__operations') }}
    where direction = 'payout'

),

expected_keys as (

    -- One row per key already (the key's first instruction): no distinct over ten million keys.
    select
        tenant_id,
        payout_key

    from {{ ref('stg_settlement_kernel__payout_instructions') }}
    where instruction_seq = 1

),

unmatched as (

    select
        operations.*,
        coalesce(operations.payout_key, operations.operation_id) as mismatch_key

    from payout_operations as operations
    left join expected_keys
        on operations.tenant_id = expected_keys.tenant_id
        and operations.payout_key = expected_keys.payout_key
    where expected_keys.payout_key is null

),

ranked as (

    select
        *,
        row_number() over (
            partition by tenant_id, provider_id, mismatch_key
            order by first_event_at, operation_id
        ) as operation_rank,
        count(*) over (partition by tenant_id, provider_id, mismatch_key) as operation_count

    from unmatched

),

final as (

    select
        tenant_id,
        provider_id,
        mismatch_key,
        payout_key,
        operation_id,
        first_event_period as period,
        state as operation_state,
        operation_count,
        amount_cents as actual_amount_cents,
        currency as actual_currency,
        first_event_at

    from ranked
    where operation_rank = 1

)

select * from final
