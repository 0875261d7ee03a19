{#-
    Integrity between layers: every confirmed payout operation of staging is in the tie-out exactly once.
    The tie-out moves an operation to the period of the instruction its key names, so the totals are
    compared per tenant and currency over all periods. One failing row per tenant and currency where the
    confirmed totals differ.
-#}

with

confirmed_payouts as (

    select
        tenant_id,
        currency,
        {{ sum_cents('amount_cents') }} as amount_cents

    from {{ ref('stg_money_rails__operations') }}
    where direction = 'payout'
        and state = 'confirmed'
    group by tenant_id, currency

),

tieout as (

    select
        tenant_id,
        currency,
        {{ sum_cents('confirmed_total_cents') }} as confirmed_total_cents

    from {{ ref('fct_reconciliation_tieout') }}
    group by tenant_id, currency

),

compared as (

    select
        coalesce(confirmed_payouts.tenant_id, tieout.tenant_id) as tenant_id,
        coalesce(confirmed_payouts.currency, tieout.currency) as currency,
        confirmed_payouts.amount_cents,
        tieout.confirmed_total_cents

    from confirmed_payouts
    full outer join tieout
        on confirmed_payouts.tenant_id = tieout.tenant_id
        and confirmed_payouts.currency = tieout.currency

)

select * from compared
where coalesce(amount_cents, 0) <> coalesce(confirmed_total_cents, 0)
