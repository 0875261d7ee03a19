-- Every marketplace agreement accepted by the run's as-of, matched with the kernel's settlement of its
-- run (tenant and run id; the latest version of the settlement), with one flag per agreement-to-settlement
-- rule (the types of source `marketplace_agreement` in the seed reconciliation_mismatch_types):
--   is_agreement_missing_settlement  no settlement for the run, and the grace period after the accept is over
--   is_agreement_amount_mismatch     the settlement's amount differs from the agreed amount (same currency)
--   is_agreement_currency_mismatch   the settlement's currency differs from the agreement's
--   is_agreement_policy_mismatch     the settlement's policy hash differs from the pinned one (or is missing)
-- Rules: docs/DECISIONLOG.md ("Marketplace").

with

agreements as (

    select * from {{ ref('stg_operator_api__marketplace_agreements') }}
    where accepted_at <= {{ reconciliation_as_of() }}

),

settlements as (

    select * from {{ ref('stg_settlement_kernel__settlements') }}

),

matched as (

    select
        agreements.tenant_id,
        agreements.agreement_id,
        agreements.run_id,
        agreements.settlement_id,
        agreements.rfq_id,
        agreements.accepted_period,
        settlements.settlement_id as kernel_settlement_id,
        settlements.status as settlement_status,
        settlements.has_dispute,
        agreements.policy_hash as pinned_policy_hash,
        settlements.policy_hash as settlement_policy_hash,
        agreements.amount_cents,
        agreements.currency,
        settlements.amount_cents as settlement_amount_cents,
        settlements.currency as settlement_currency,
        agreements.accepted_at,
        settlements.locked_at,
        settlements.resolved_at

    from agreements
    left join settlements
        on agreements.tenant_id = settlements.tenant_id
        and agreements.run_id = settlements.run_id

),

final as (

    select
        *,
        kernel_settlement_id is not null as has_settlement,
        kernel_settlement_id is null
            and {{ dbt.dateadd('day', var('marketplace_settlement_grace_days'), 'accepted_at') }}
                < {{ reconciliation_as_of() }}
            as is_agreement_missing_settlement,
        kernel_settlement_id is not null
            and settlement_currency = currency
            and settlement_amount_cents <> amount_cents
            as is_agreement_amount_mismatch,
        kernel_settlement_id is not null
            and settlement_currency <> currency
            as is_agreement_currency_mismatch,
        kernel_settlement_id is not null
            and coalesce(settlement_policy_hash, '') <> pinned_policy_hash
            as is_agreement_policy_mismatch

    from matched

)

select * from final
