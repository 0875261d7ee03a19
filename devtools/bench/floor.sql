-- The reconciliation floor: the money-rail mismatch set computed in ONE query straight from the landing
-- Parquet files, written from the rules (docs/architecture.md section 5), not from the dbt models, as a
-- cross-check of `marts.fct_reconciliation_mismatches` and the yardstick `settld bench` times it against.
-- Placeholders (string.Template): $instructions, $operations (Parquet globs), $as_of (ISO-8601), as SQL
-- literals. The session time zone must be UTC (periods are UTC months).
with

instructions as (

    select
        tenant_id,
        payout_key,
        period,
        provider_id,
        amount_cents,
        currency,
        cast(created_at as timestamptz) as created_at,
        filename,
        file_row_number
    from read_parquet($instructions, filename = true, file_row_number = true)

),

-- Operations: the latest version of each (provider_id, operation_id) by updated_at (then the later
-- file, then the later row). Only direction = payout takes part below.
operations as (

    select
        provider_id,
        operation_id,
        tenant_id,
        payout_key,
        amount_cents,
        currency,
        state,
        coalesce(
            cast(initiated_at as timestamptz),
            least(
                cast(submitted_at as timestamptz), cast(confirmed_at as timestamptz),
                cast(failed_at as timestamptz), cast(cancelled_at as timestamptz),
                cast(reversed_at as timestamptz)
            )
        ) as first_event_at,
        direction
    from read_parquet($operations, filename = true, file_row_number = true)
    qualify row_number() over (
        partition by provider_id, operation_id
        order by cast(updated_at as timestamptz) desc, filename desc, file_row_number desc
    ) = 1

),

-- One row per expected payout key, compared through its earliest instruction (by created_at, then
-- file and row).
expected as (

    select
        tenant_id,
        payout_key,
        period,
        provider_id,
        amount_cents,
        currency,
        count(*) over (partition by tenant_id, payout_key) as instruction_count
    from instructions
    qualify row_number() over (
        partition by tenant_id, payout_key order by created_at, filename, file_row_number
    ) = 1

),

actual as (

    select
        tenant_id,
        payout_key,
        count(*) filter (where state in ('initiated', 'submitted', 'confirmed')) as live_count,
        count(*) filter (where state in ('failed', 'reversed')) as failed_count,
        -- with exactly one live operation, these are its attributes
        min(state) filter (where state in ('initiated', 'submitted', 'confirmed')) as live_state,
        min(currency) filter (where state in ('initiated', 'submitted', 'confirmed')) as live_currency,
        min(amount_cents) filter (where state in ('initiated', 'submitted', 'confirmed')) as live_amount_cents
    from operations
    where direction = 'payout' and payout_key is not null
    group by tenant_id, payout_key

),

expected_mismatches as (

    select
        e.tenant_id,
        e.period as period,
        e.provider_id as provider_id,
        unnest(list_filter([
            case when e.instruction_count >= 2 then 'duplicate_expected' end,
            case when coalesce(a.live_count, 0) = 0 and coalesce(a.failed_count, 0) > 0 then 'terminal_failure' end,
            case when coalesce(a.live_count, 0) = 0 and coalesce(a.failed_count, 0) = 0 then 'missing_operation' end,
            case when a.live_count >= 2 then 'duplicate_operation' end,
            case when a.live_count = 1 and a.live_currency <> e.currency then 'currency_mismatch' end,
            case when a.live_count = 1 and a.live_currency = e.currency
                and a.live_amount_cents <> e.amount_cents then 'amount_mismatch' end,
            case when a.live_count = 1 and a.live_state in ('initiated', 'submitted')
                and cast($as_of as timestamptz)
                    > cast(e.period || '-01' as date) + interval 1 month + interval 7 day
                then 'stale_in_flight' end
        ], x -> x is not null)) as mismatch_type,
        e.payout_key as mismatch_key
    from expected as e
    left join actual as a
        on e.tenant_id = a.tenant_id and e.payout_key = a.payout_key

),

-- Payout operations no instruction of their tenant expects (a null key never matches).
unexpected as (

    select
        o.tenant_id,
        strftime(min(o.first_event_at), '%Y-%m') as period,
        o.provider_id,
        'unexpected_operation' as mismatch_type,
        coalesce(o.payout_key, o.operation_id) as mismatch_key
    from operations as o
    anti join expected as e
        on o.tenant_id = e.tenant_id and o.payout_key = e.payout_key
    where o.direction = 'payout'
    group by o.tenant_id, o.provider_id, coalesce(o.payout_key, o.operation_id)

)

select tenant_id, period, provider_id, mismatch_type, mismatch_key from expected_mismatches
union all
select tenant_id, period, provider_id, mismatch_type, mismatch_key from unexpected
