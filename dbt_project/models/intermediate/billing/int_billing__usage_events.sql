-- Billable usage (BillableUsageEvent.v1 of the old service), derived from the settlement facts rather
-- than ingested as a second truth: one row per (tenant_id, event_key), keeping its source keys.
--   verified_run       a run whose settlement was resolved (released or refunded): resolution is the
--                      kernel's verification verdict, so the run counts in the month of resolved_at;
--   settled_volume     the released amount of a resolved settlement, in its own currency (> 0 only);
--   arbitration_usage  a resolved settlement with a dispute (open or closed), in the month of
--                      resolved_at: a dispute can only be opened on a resolved settlement, and
--                      resolved_at never changes, so a case never moves to another period.
-- Rules and why: docs/DECISIONLOG.md ("Billing: usage and invoice drafts").

with

settlements as (

    select * from {{ ref('int_arbitration__settlements_adjusted') }}  -- kernel + arbitration adjustments

),

-- Locked settlements bill nothing yet: their run has no verdict and no money has been released.
resolved_settlements as (

    select * from settlements
    where is_resolved

),

verified_runs as (

    select
        tenant_id,
        'verified_run:' || run_id as event_key,
        'verified_run' as event_type,
        resolved_period as period,
        'settlement' as source_type,
        settlement_id as source_id,
        run_id,
        1 as quantity,
        cast(null as bigint) as amount_cents,
        cast(null as {{ string_type() }}) as currency,
        resolved_at as occurred_at

    from resolved_settlements

),

-- A fully refunded settlement released nothing: no volume, no fee, no event.
settled_volume as (

    select
        tenant_id,
        'settled_volume:' || settlement_id as event_key,
        'settled_volume' as event_type,
        resolved_period as period,
        'settlement' as source_type,
        settlement_id as source_id,
        run_id,
        1 as quantity,
        released_amount_cents as amount_cents,
        currency,
        resolved_at as occurred_at

    from resolved_settlements
    where released_amount_cents > 0

),

arbitration_usage as (

    select
        tenant_id,
        'arbitration_usage:' || settlement_id as event_key,
        'arbitration_usage' as event_type,
        resolved_period as period,
        'settlement' as source_type,
        settlement_id as source_id,
        run_id,
        1 as quantity,
        cast(null as bigint) as amount_cents,
        cast(null as {{ string_type() }}) as currency,
        resolved_at as occurred_at

    from resolved_settlements
    where has_dispute

),

unioned as (

    select * from verified_runs
    union all
    select * from settled_volume
    union all
    select * from arbitration_usage

),

-- event_hash: sha256 hex of the event's fields joined by chr(31) (null as \N, occurred_at as epoch
-- microseconds), in the order below; the same text the invoice line digests are built from.
hashed as (

    select
        *,
        {{ sha256_hex(row_text([
            'tenant_id', 'event_key', 'event_type', 'period', 'quantity', 'amount_cents', 'currency',
            epoch_microseconds('occurred_at'), 'source_type', 'source_id',
        ])) }} as event_hash

    from unioned

),

final as (

    select
        cast(tenant_id as {{ string_type() }}) as tenant_id,
        cast(event_key as {{ string_type() }}) as event_key,
        cast(event_type as {{ string_type() }}) as event_type,
        cast(period as {{ string_type() }}) as period,
        cast(source_type as {{ string_type() }}) as source_type,
        cast(source_id as {{ string_type() }}) as source_id,
        cast(run_id as {{ string_type() }}) as run_id,
        cast(event_hash as {{ string_type() }}) as event_hash,
        cast(quantity as bigint) as quantity,
        cast(amount_cents as bigint) as amount_cents,
        cast(currency as {{ string_type() }}) as currency,
        cast(occurred_at as timestamp) as occurred_at

    from hashed

)

select * from final
