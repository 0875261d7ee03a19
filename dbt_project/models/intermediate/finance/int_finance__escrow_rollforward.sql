-- The ledger's escrow roll-forward per (tenant_id, period, currency), for every period the kernel's books
-- name (a month close, a held roll-forward or a posting): over postings on accounts ending
-- `:escrow_locked`, opening = everything before the month; in the month, positives with memo prefix
-- `escrow:hold:` are new locks, negatives with `escrow:release:` releases and `escrow:forfeit:` forfeits,
-- anything else unclassified (positive or negative); ending = opening + every posting of the month.
-- Rules: docs/DECISIONLOG.md, "Finance integrity".

{%- set inputs = ['stg_kernel_books__ledger_postings', 'stg_kernel_books__month_closes', 'stg_kernel_books__held_rollforwards'] %}
{%- set datasets = ['ledger_postings', 'month_closes', 'held_exposure_rollforwards'] %}
-- Rebuilt whole when an input changed since its last build, else left as it is
-- (macros/incremental.sql, rebuilt_when_inputs_change).
{{ rebuilt_when_inputs_change(inputs, datasets) }}

with

postings as (

    select * from {{ ref('stg_kernel_books__ledger_postings') }} {{ when_inputs_changed(inputs, datasets) }}

),

month_closes as (

    select * from {{ ref('stg_kernel_books__month_closes') }} {{ when_inputs_changed(inputs, datasets) }}

),

held as (

    select * from {{ ref('stg_kernel_books__held_rollforwards') }} {{ when_inputs_changed(inputs, datasets) }}

),

escrow_postings as (

    select
        tenant_id,
        currency,
        {{ to_period('posted_at') }} as period,
        amount_cents,
        case
            when amount_cents > 0 and memo like 'escrow:hold:%' then 'new_locks'
            when amount_cents < 0 and memo like 'escrow:release:%' then 'releases'
            when amount_cents < 0 and memo like 'escrow:forfeit:%' then 'forfeits'
            when amount_cents > 0 then 'unclassified_positive'
            when amount_cents < 0 then 'unclassified_negative'
            else 'zero'
        end as bucket

    from postings
    where account_id like '%:escrow_locked'

),

-- One row per tenant, currency and month of escrow movement: the ledger is summed once, then rolled.
monthly as (

    select
        tenant_id,
        currency,
        period,
        {{ sum_cents('amount_cents') }} as net_cents,
        {{ sum_cents("case when bucket = 'new_locks' then amount_cents else 0 end") }} as new_locks_cents,
        {{ sum_cents("case when bucket = 'releases' then -amount_cents else 0 end") }} as releases_cents,
        {{ sum_cents("case when bucket = 'forfeits' then -amount_cents else 0 end") }} as forfeits_cents,
        {{ sum_cents("case when bucket = 'unclassified_positive' then amount_cents else 0 end") }}
            as unclassified_positive_cents,
        {{ sum_cents("case when bucket = 'unclassified_negative' then -amount_cents else 0 end") }}
            as unclassified_negative_cents,
        cast(sum(case when bucket like 'unclassified%' then 1 else 0 end) as bigint) as unclassified_count

    from escrow_postings
    group by tenant_id, currency, period

),

evaluated_periods as (

    select tenant_id, period from month_closes
    union
    select tenant_id, period from held
    union
    select tenant_id, {{ to_period('posted_at') }} as period from postings

),

-- Every currency the tenant's escrow moved in up to the period, and every currency its roll-forward names.
currencies as (

    select evaluated_periods.tenant_id, evaluated_periods.period, monthly.currency
    from evaluated_periods
    inner join monthly
        on evaluated_periods.tenant_id = monthly.tenant_id
        and monthly.period <= evaluated_periods.period
    union
    select tenant_id, period, currency from held

),

rolled as (

    select
        currencies.tenant_id,
        currencies.period,
        currencies.currency,
        {{ sum_cents("case when monthly.period < currencies.period then monthly.net_cents else 0 end") }}
            as opening_cents,
        {{ sum_cents("case when monthly.period = currencies.period then monthly.new_locks_cents else 0 end") }}
            as new_locks_cents,
        {{ sum_cents("case when monthly.period = currencies.period then monthly.releases_cents else 0 end") }}
            as releases_cents,
        {{ sum_cents("case when monthly.period = currencies.period then monthly.forfeits_cents else 0 end") }}
            as forfeits_cents,
        {{ sum_cents("case when monthly.period = currencies.period then monthly.unclassified_positive_cents else 0 end") }}
            as unclassified_positive_cents,
        {{ sum_cents("case when monthly.period = currencies.period then monthly.unclassified_negative_cents else 0 end") }}
            as unclassified_negative_cents,
        cast(sum(case when monthly.period = currencies.period then monthly.unclassified_count else 0 end) as bigint)
            as unclassified_count,
        {{ sum_cents("case when monthly.period <= currencies.period then monthly.net_cents else 0 end") }}
            as ending_cents

    from currencies
    left join monthly
        on currencies.tenant_id = monthly.tenant_id
        and currencies.currency = monthly.currency
        and monthly.period <= currencies.period
    group by currencies.tenant_id, currencies.period, currencies.currency

),

final as (

    select
        tenant_id,
        period,
        currency,
        coalesce(opening_cents, 0) as opening_cents,
        coalesce(new_locks_cents, 0) as new_locks_cents,
        coalesce(releases_cents, 0) as releases_cents,
        coalesce(forfeits_cents, 0) as forfeits_cents,
        coalesce(unclassified_positive_cents, 0) as unclassified_positive_cents,
        coalesce(unclassified_negative_cents, 0) as unclassified_negative_cents,
        coalesce(unclassified_count, 0) as unclassified_count,
        coalesce(ending_cents, 0) as ending_cents,
        {{ inputs_loaded_at(inputs, datasets) }} as _loaded_at

    from rolled

)

select * from final
