{#-
    Integrity between layers: the reconciliation marts account for every expected payout of staging.
    Per tenant, period, provider and currency, the earliest instruction of each payout key (count and
    amount) equals the summary's expected payouts and the tie-out's expected total. One failing row per
    group where they differ.
-#}

with

instructions as (

    select
        tenant_id,
        period,
        provider_id,
        currency,
        count(*) as payout_count,
        {{ sum_cents('amount_cents') }} as amount_cents

    from {{ ref('stg_settlement_kernel__payout_instructions') }}
    where instruction_seq = 1
    group by tenant_id, period, provider_id, currency

),

summary as (

    select tenant_id, period, provider_id, currency, expected_payout_count, expected_amount_cents
    from {{ ref('fct_reconciliation_summary') }}
    where expected_payout_count > 0

),

tieout as (

    select tenant_id, period, provider_id, currency, expected_total_cents
    from {{ ref('fct_reconciliation_tieout') }}
    where expected_total_cents <> 0

),

compared as (

    select
        coalesce(instructions.tenant_id, summary.tenant_id, tieout.tenant_id) as tenant_id,
        coalesce(instructions.period, summary.period, tieout.period) as period,
        coalesce(instructions.provider_id, summary.provider_id, tieout.provider_id) as provider_id,
        coalesce(instructions.currency, summary.currency, tieout.currency) as currency,
        instructions.payout_count,
        summary.expected_payout_count,
        instructions.amount_cents,
        summary.expected_amount_cents,
        tieout.expected_total_cents

    from instructions
    full outer join summary
        on instructions.tenant_id = summary.tenant_id
        and instructions.period = summary.period
        and instructions.provider_id = summary.provider_id
        and instructions.currency = summary.currency
    full outer join tieout
        on coalesce(instructions.tenant_id, summary.tenant_id) = tieout.tenant_id
        and coalesce(instructions.period, summary.period) = tieout.period
        and coalesce(instructions.provider_id, summary.provider_id) = tieout.provider_id
        and coalesce(instructions.currency, summary.currency) = tieout.currency

)

select * from compared
where coalesce(payout_count, 0) <> coalesce(expected_payout_count, 0)
    or coalesce(amount_cents, 0) <> coalesce(expected_amount_cents, 0)
    or coalesce(amount_cents, 0) <> coalesce(expected_total_cents, 0)
