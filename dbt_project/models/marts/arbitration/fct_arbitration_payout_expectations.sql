-- What reconciliation should expect each party to be paid once arbitration adjusted its settlements: per
-- tenant, party, period and currency with an adjustment, the kernel's payout instructions, the change the
-- adjustments make (payee: adjusted released - released; payer: adjusted refunded - refunded), the
-- expected amount after it, and what the rails paid live for those instructions. An adjustment counts in
-- the month it was written (a closed month is not restated), like an invoice adjustment.

with

-- Read from the layers below fct_settlements, not from it: a failing test of that mart then stops
-- nothing else in a build.
kernel_settlements as (

    select * from {{ ref('stg_settlement_kernel__settlements') }}

),

adjustments as (

    select * from {{ ref('int_arbitration__adjustments_in_force') }}

),

-- Applied only to the amount and currency it was computed on (as in fct_settlements).
settlements as (

    select
        kernel_settlements.tenant_id,
        kernel_settlements.payee_agent_id,
        kernel_settlements.payer_agent_id,
        kernel_settlements.currency,
        kernel_settlements.released_amount_cents,
        kernel_settlements.refunded_amount_cents,
        adjustments.released_amount_cents as adjusted_released_amount_cents,
        adjustments.refunded_amount_cents as adjusted_refunded_amount_cents,
        adjustments.adjusted_at

    from kernel_settlements
    inner join adjustments
        on kernel_settlements.tenant_id = adjustments.tenant_id
        and kernel_settlements.settlement_id = adjustments.settlement_id
        and kernel_settlements.amount_cents = adjustments.amount_cents
        and kernel_settlements.currency = adjustments.currency

),

payout_keys as (

    select * from {{ ref('int_reconciliation__payout_keys_matched') }}

),

deltas as (

    select tenant_id, payee_agent_id as party_id, 'payee' as party_role, {{ to_period('adjusted_at') }} as period,
        currency, adjusted_released_amount_cents - released_amount_cents as delta_cents
    from settlements

    union all

    select tenant_id, payer_agent_id, 'payer', {{ to_period('adjusted_at') }}, currency,
        adjusted_refunded_amount_cents - refunded_amount_cents
    from settlements

),

party_deltas as (

    select tenant_id, party_id, party_role, period, currency, count(*) as adjustment_count,
        sum(delta_cents) as adjustment_delta_cents
    from deltas
    where delta_cents <> 0
    group by tenant_id, party_id, party_role, period, currency

),

instructed as (

    select
        tenant_id,
        party_id,
        period,
        currency,
        sum(expected_amount_cents) as instructed_amount_cents,
        sum(case when actual_currency = currency then actual_amount_cents else 0 end) as paid_amount_cents

    from payout_keys
    group by tenant_id, party_id, period, currency

),

final as (

    select
        cast(party_deltas.tenant_id as {{ string_type() }}) as tenant_id,
        cast(party_deltas.party_id as {{ string_type() }}) as party_id,
        cast(party_deltas.party_role as {{ string_type() }}) as party_role,
        cast(party_deltas.period as {{ string_type() }}) as period,
        cast(party_deltas.adjustment_count as bigint) as adjustment_count,
        cast(
            coalesce(instructed.paid_amount_cents, 0)
                = coalesce(instructed.instructed_amount_cents, 0) + party_deltas.adjustment_delta_cents
            as boolean
        ) as is_payout_following_adjustment,
        cast(coalesce(instructed.instructed_amount_cents, 0) as bigint) as instructed_amount_cents,
        cast(party_deltas.adjustment_delta_cents as bigint) as adjustment_delta_cents,
        cast(
            coalesce(instructed.instructed_amount_cents, 0) + party_deltas.adjustment_delta_cents as bigint
        ) as expected_amount_cents,
        cast(coalesce(instructed.paid_amount_cents, 0) as bigint) as paid_amount_cents,
        cast(party_deltas.currency as {{ string_type() }}) as currency

    from party_deltas
    left join instructed
        on party_deltas.tenant_id = instructed.tenant_id
        and party_deltas.party_id = instructed.party_id
        and party_deltas.period = instructed.period
        and party_deltas.currency = instructed.currency

)

select * from final
