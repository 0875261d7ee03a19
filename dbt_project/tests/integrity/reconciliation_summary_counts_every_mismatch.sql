{#-
    Integrity between marts: the summary counts each mismatch once, under its tenant, period, provider
    and currency. One failing row per group where the counts differ.
-#}

with

mismatches as (

    select tenant_id, period, provider_id, currency, count(*) as mismatch_count
    from {{ ref('fct_reconciliation_mismatches') }}
    group by tenant_id, period, provider_id, currency

),

summary as (

    select tenant_id, period, provider_id, currency, mismatch_count
    from {{ ref('fct_reconciliation_summary') }}
    where mismatch_count > 0

),

compared as (

    select
        coalesce(mismatches.tenant_id, summary.tenant_id) as tenant_id,
        coalesce(mismatches.period, summary.period) as period,
        coalesce(mismatches.provider_id, summary.provider_id) as provider_id,
        coalesce(mismatches.currency, summary.currency) as currency,
        mismatches.mismatch_count as mismatches,
        summary.mismatch_count as counted

    from mismatches
    full outer join summary
        on mismatches.tenant_id = summary.tenant_id
        and mismatches.period = summary.period
        and mismatches.provider_id = summary.provider_id
        and mismatches.currency = summary.currency

)

select * from compared
where coalesce(mismatches, 0) <> coalesce(counted, 0)
