-- One row per expected payout key (tenant_id, payout_key): the earliest instruction, what the rails
-- did for that key, and one boolean per reconciliation rule. Matching is per tenant on payout_key;
-- only operations with direction = payout take part (collections are not payouts).
-- The rules are written down in docs/DECISIONLOG.md ("Money-rail reconciliation").

with

instructions as (

    select * from {{ ref('stg_settlement_kernel__payout_instructions') }}

),

-- `not_materialized()`: read by three branches below; DuckDB would otherwise copy every row first.
payout_operations as {{ not_materialized() }} (

    select
        *,
        {{ key_hash(['tenant_id', 'payout_key']) }} as key_hash

    from {{ ref('stg_money_rails__operations') }}
    where direction = 'payout'
        and payout_key is not null

),

providers as (

    select * from {{ ref('reconciliation_providers') }}

),

earliest_instructions as (

    -- With duplicates, the earliest instruction is the one the rails are compared with.
    select * from instructions
    where instruction_seq = 1

),

-- Nearly every payout key has exactly one operation, whose own values are the key's aggregates: only
-- the keys with several operations are grouped (found by a 64-bit hash of the key, macro key_hash; a
-- collision only sends a few more operations through the exact grouping). Grouping ten million long
-- keys cost more than the rest of this model (docs/performance.md).
shared_keys as (

    {{ repeated_key_hashes('payout_operations', ['tenant_id', 'payout_key']) }}

),

single_operation_keys as (

    select
        operations.tenant_id,
        operations.payout_key,
        1 as operation_count,
        case when operations.is_live then 1 else 0 end as live_operation_count,
        case when operations.state = 'confirmed' then 1 else 0 end as confirmed_operation_count,
        case when operations.state in ('initiated', 'submitted') then 1 else 0 end as in_flight_operation_count,
        case when operations.is_terminal_failure then 1 else 0 end as failed_operation_count,
        case when operations.state = 'cancelled' then 1 else 0 end as cancelled_operation_count,
        case when operations.is_live then operations.currency end as live_currency_min,
        case when operations.is_live then operations.currency end as live_currency_max,
        case when operations.is_live then operations.state end as live_state,
        cast(case when operations.is_live then operations.amount_cents end as bigint) as live_amount_cents

    from payout_operations as operations
    left join shared_keys
        on operations.key_hash = shared_keys.key_hash
    where shared_keys.key_hash is null

),

several_operation_keys as (

    select
        operations.tenant_id,
        operations.payout_key,
        count(*) as operation_count,
        count(case when operations.is_live then 1 end) as live_operation_count,
        count(case when operations.state = 'confirmed' then 1 end) as confirmed_operation_count,
        count(case when operations.state in ('initiated', 'submitted') then 1 end) as in_flight_operation_count,
        count(case when operations.is_terminal_failure then 1 end) as failed_operation_count,
        count(case when operations.state = 'cancelled' then 1 end) as cancelled_operation_count,
        -- min = max tells "one currency" without a count(distinct).
        min(case when operations.is_live then operations.currency end) as live_currency_min,
        max(case when operations.is_live then operations.currency end) as live_currency_max,
        -- The min() of a live attribute is *the* live operation's attribute when there is exactly one.
        -- The operation id is not aggregated here: fct_reconciliation_mismatches looks it up for the
        -- flagged keys only.
        min(case when operations.is_live then operations.state end) as live_state,
        {{ sum_cents('case when operations.is_live then operations.amount_cents end') }} as live_amount_cents

    from payout_operations as operations
    inner join shared_keys
        on operations.key_hash = shared_keys.key_hash
    group by operations.tenant_id, operations.payout_key

),

operations_by_key as (

    select * from single_operation_keys
    union all
    select * from several_operation_keys

),

compared as (

    select
        expected.tenant_id,
        expected.payout_key,
        expected.period,
        expected.provider_id,
        expected.party_id,
        expected.instruction_count,
        coalesce(actual.operation_count, 0) as operation_count,
        coalesce(actual.live_operation_count, 0) as live_operation_count,
        coalesce(actual.confirmed_operation_count, 0) as confirmed_operation_count,
        coalesce(actual.in_flight_operation_count, 0) as in_flight_operation_count,
        coalesce(actual.failed_operation_count, 0) as failed_operation_count,
        coalesce(actual.cancelled_operation_count, 0) as cancelled_operation_count,
        -- 0 = no live operation, 1 = one currency, 2 = several currencies (amounts then never summed).
        case
            when actual.live_currency_min is null then 0
            when actual.live_currency_min = actual.live_currency_max then 1
            else 2
        end as live_currency_count,
        actual.live_state,
        coalesce(
            providers.amount_tolerance_cents, {{ var('reconciliation_default_tolerance_cents') }}
        ) as amount_tolerance_cents,
        expected.amount_cents as expected_amount_cents,
        expected.currency,
        -- Never a sum across currencies: null when the live operations disagree on currency.
        case
            when actual.live_currency_min = actual.live_currency_max then actual.live_amount_cents
        end as actual_amount_cents,
        case when actual.live_currency_min = actual.live_currency_max then actual.live_currency_min end
            as actual_currency,
        {{ period_end('expected.period') }} as period_ends_at

    from earliest_instructions as expected
    left join operations_by_key as actual
        on expected.tenant_id = actual.tenant_id
        and expected.payout_key = actual.payout_key
    left join providers
        on expected.provider_id = providers.provider_id

),

flagged as (

    select
        *,
        instruction_count >= 2 as is_duplicate_expected,
        live_operation_count = 0 and failed_operation_count > 0 as is_terminal_failure,
        live_operation_count = 0 and failed_operation_count = 0 as is_missing_operation,
        live_operation_count >= 2 as is_duplicate_operation,
        live_operation_count = 1 and actual_currency <> currency as is_currency_mismatch,
        -- Amounts are compared only in the same currency (a currency mismatch says it all).
        live_operation_count = 1
            and actual_currency = currency
            and abs(actual_amount_cents - expected_amount_cents) > amount_tolerance_cents
            as is_amount_mismatch,
        live_operation_count = 1
            and live_state in ('initiated', 'submitted')
            and {{ reconciliation_as_of() }}
                > {{ dbt.dateadd('day', var('reconciliation_grace_days'), 'period_ends_at') }}
            as is_stale_in_flight

    from compared

)

select * from flagged
