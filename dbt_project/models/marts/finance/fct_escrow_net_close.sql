-- Escrow net close per (tenant_id, period, currency): the ledger's escrow roll-forward against the
-- kernel's held-exposure roll-forward, with the reference's mismatch codes. Only a closed month can close
-- its escrow: an open month (or one the kernel never closed) is `not_closable`, reported, never skipped.
-- Rules: docs/DECISIONLOG.md, "Finance integrity".

with

ledger as (

    select * from {{ ref('int_finance__escrow_rollforward') }}

),

held as (

    select * from {{ ref('stg_kernel_books__held_rollforwards') }}

),

month_closes as (

    select * from {{ ref('stg_kernel_books__month_closes') }}

),

compared as (

    select
        ledger.*,
        coalesce(closes.status, 'missing') as month_status,
        closes.chain_hash as month_close_chain_hash,
        held.artifact_id as held_artifact_id,
        held.opening_cents as held_opening_cents,
        held.new_holds_cents as held_new_holds_cents,
        held.released_cents as held_released_cents,
        held.forfeited_cents as held_forfeited_cents,
        held.ending_cents as held_ending_cents,
        held.artifact_id is not null as has_held_rollforward,
        -- a currency the ledger never moved in and the kernel reports as all zero needs no roll-forward
        (ledger.opening_cents <> 0 or ledger.new_locks_cents <> 0 or ledger.releases_cents <> 0
            or ledger.forfeits_cents <> 0 or ledger.ending_cents <> 0 or ledger.unclassified_count > 0)
            as has_ledger_escrow

    from ledger
    left join held
        on ledger.tenant_id = held.tenant_id
        and ledger.period = held.period
        and ledger.currency = held.currency
    left join month_closes as closes
        on ledger.tenant_id = closes.tenant_id
        and ledger.period = closes.period

),

coded as (

    select
        *,
        month_status = 'closed' and not has_held_rollforward and has_ledger_escrow
            as is_held_rollforward_missing,
        month_status = 'closed'
            and opening_cents + new_locks_cents - releases_cents - forfeits_cents <> ending_cents
            as is_ledger_escrow_rollforward_invalid,
        month_status = 'closed' and has_held_rollforward
            and held_opening_cents + held_new_holds_cents - held_released_cents - held_forfeited_cents
                <> held_ending_cents
            as is_held_rollforward_invalid,
        month_status = 'closed' and has_held_rollforward
            and (held_opening_cents <> opening_cents or held_new_holds_cents <> new_locks_cents
                or held_released_cents <> releases_cents or held_forfeited_cents <> forfeits_cents
                or held_ending_cents <> ending_cents)
            as is_held_rollforward_ledger_mismatch,
        month_status = 'closed' and unclassified_count > 0 as is_ledger_unclassified_escrow_adjustment

    from compared

),

final as (

    select
        cast(tenant_id as {{ string_type() }}) as tenant_id,
        cast(period as {{ string_type() }}) as period,
        cast(currency as {{ string_type() }}) as currency,
        cast(held_artifact_id as {{ string_type() }}) as held_artifact_id,
        cast(month_status as {{ string_type() }}) as month_status,
        cast(month_close_chain_hash as {{ string_type() }}) as month_close_chain_hash,
        cast(
            case
                when month_status <> 'closed' then 'not_closable'
                when is_held_rollforward_missing or is_ledger_escrow_rollforward_invalid
                    or is_held_rollforward_invalid or is_held_rollforward_ledger_mismatch
                    or is_ledger_unclassified_escrow_adjustment then 'fail'
                else 'pass'
            end as {{ string_type() }}
        ) as status,
        -- the codes in the reference's order, comma-separated ('' when none)
        cast(
            {{ dbt.concat([
                "case when is_held_rollforward_missing then 'HELD_ROLLFORWARD_MISSING,' else '' end",
                "case when is_ledger_escrow_rollforward_invalid then 'LEDGER_ESCROW_ROLLFORWARD_INVALID,' else '' end",
                "case when is_held_rollforward_invalid then 'HELD_ROLLFORWARD_INVALID,' else '' end",
                "case when is_held_rollforward_ledger_mismatch then 'HELD_ROLLFORWARD_LEDGER_MISMATCH,' else '' end",
                "case when is_ledger_unclassified_escrow_adjustment then 'LEDGER_UNCLASSIFIED_ESCROW_ADJUSTMENT,' else '' end",
            ]) }} as {{ string_type() }}
        ) as mismatch_codes,
        cast(is_held_rollforward_missing as boolean) as is_held_rollforward_missing,
        cast(is_ledger_escrow_rollforward_invalid as boolean) as is_ledger_escrow_rollforward_invalid,
        cast(is_held_rollforward_invalid as boolean) as is_held_rollforward_invalid,
        cast(is_held_rollforward_ledger_mismatch as boolean) as is_held_rollforward_ledger_mismatch,
        cast(is_ledger_unclassified_escrow_adjustment as boolean) as is_ledger_unclassified_escrow_adjustment,
        cast(has_held_rollforward as boolean) as has_held_rollforward,
        cast(unclassified_count as bigint) as unclassified_count,
        cast(opening_cents as bigint) as ledger_opening_cents,
        cast(new_locks_cents as bigint) as ledger_new_locks_cents,
        cast(releases_cents as bigint) as ledger_releases_cents,
        cast(forfeits_cents as bigint) as ledger_forfeits_cents,
        cast(unclassified_positive_cents as bigint) as ledger_unclassified_positive_cents,
        cast(unclassified_negative_cents as bigint) as ledger_unclassified_negative_cents,
        cast(ending_cents as bigint) as ledger_ending_cents,
        cast(held_opening_cents as bigint) as held_opening_cents,
        cast(held_new_holds_cents as bigint) as held_new_holds_cents,
        cast(held_released_cents as bigint) as held_released_cents,
        cast(held_forfeited_cents as bigint) as held_forfeited_cents,
        cast(held_ending_cents as bigint) as held_ending_cents

    from coded

)

select * from final
