-- Settlements as billing should see them: the kernel's latest state with the adjustment in force applied
-- (released and refunded amounts after a verdict) and `has_dispute` also true when a dispute was opened
-- through the operator API by the run's as-of instant. Same columns as stg_settlement_kernel__settlements.

with

settlements as (

    select * from {{ ref('stg_settlement_kernel__settlements') }}

),

adjustments as (

    select * from {{ ref('int_arbitration__adjustments_in_force') }}

),

disputed as (

    select distinct tenant_id, settlement_id
    from {{ ref('stg_operator_api__disputes') }}
    where opened_at <= {{ reconciliation_as_of() }}

),

final as (

    select
        settlements.tenant_id,
        settlements.settlement_id,
        settlements.run_id,
        settlements.payer_agent_id,
        settlements.payee_agent_id,
        settlements.policy_id,
        settlements.policy_version,
        settlements.policy_hash,
        settlements.status,
        settlements.dispute_status,
        settlements.locked_period,
        settlements.resolved_period,
        settlements.is_resolved,
        settlements.has_dispute or disputed.settlement_id is not null as has_dispute,
        settlements.amount_cents,
        -- Applied only to the amount and currency it was computed on (as in fct_settlements).
        case when adjustments.amount_cents = settlements.amount_cents and adjustments.currency = settlements.currency
            then adjustments.released_amount_cents else settlements.released_amount_cents end
            as released_amount_cents,
        case when adjustments.amount_cents = settlements.amount_cents and adjustments.currency = settlements.currency
            then adjustments.refunded_amount_cents else settlements.refunded_amount_cents end
            as refunded_amount_cents,
        settlements.currency,
        settlements.dispute_window_days,
        settlements.locked_at,
        settlements.resolved_at,
        settlements.dispute_window_ends_at,
        settlements.updated_at,
        settlements._source_file,
        settlements._source_row

    from settlements
    left join adjustments
        on settlements.tenant_id = adjustments.tenant_id
        and settlements.settlement_id = adjustments.settlement_id
    left join disputed
        on settlements.tenant_id = disputed.tenant_id
        and settlements.settlement_id = disputed.settlement_id

)

select * from final
