-- One row per settlement (tenant_id, settlement_id) in its latest state, with its periods and
-- the flags finance filters on; beside the kernel's amounts, the amounts after the adjustment in force
-- (a closed arbitration case's verdict, or a dispute closed with a release rate), equal to them when none.

with

kernel_settlements as (

    select * from {{ ref('stg_settlement_kernel__settlements') }}

),

adjustments as (

    select * from {{ ref('int_arbitration__adjustments_in_force') }}

),

settlements as (

    select
        kernel_settlements.*,
        adjustments.adjustment_id,
        adjustments.release_rate_pct as adjusted_release_rate_pct,
        -- An adjustment applies to the amount the kernel locked; one recorded against another amount or
        -- currency (the kernel re-exported the settlement changed) is not applied but still listed.
        adjustments.adjustment_id is not null
            and adjustments.amount_cents = kernel_settlements.amount_cents
            and adjustments.currency = kernel_settlements.currency as has_adjustment,
        adjustments.released_amount_cents as adjustment_released_amount_cents,
        adjustments.refunded_amount_cents as adjustment_refunded_amount_cents,
        adjustments.adjusted_at

    from kernel_settlements
    left join adjustments
        on kernel_settlements.tenant_id = adjustments.tenant_id
        and kernel_settlements.settlement_id = adjustments.settlement_id

),

final as (

    select
        cast(tenant_id as {{ string_type() }}) as tenant_id,
        cast(settlement_id as {{ string_type() }}) as settlement_id,
        cast(run_id as {{ string_type() }}) as run_id,
        cast(payer_agent_id as {{ string_type() }}) as payer_agent_id,
        cast(payee_agent_id as {{ string_type() }}) as payee_agent_id,
        cast(policy_id as {{ string_type() }}) as policy_id,
        cast(policy_version as bigint) as policy_version,
        cast(policy_hash as {{ string_type() }}) as policy_hash,
        cast(status as {{ string_type() }}) as status,
        cast(dispute_status as {{ string_type() }}) as dispute_status,
        cast(locked_period as {{ string_type() }}) as locked_period,
        cast(resolved_period as {{ string_type() }}) as resolved_period,
        cast(is_resolved as boolean) as is_resolved,
        cast(has_dispute as boolean) as has_dispute,
        cast(coalesce(has_adjustment, false) as boolean) as has_adjustment,
        cast(adjustment_id as {{ string_type() }}) as adjustment_id,
        cast(adjusted_release_rate_pct as integer) as adjusted_release_rate_pct,
        -- Conservation only applies once the escrow is resolved; while locked it is null
        -- (not applicable), so "not is_money_conserved" lists exactly the broken settlements.
        cast(
            case
                when is_resolved then released_amount_cents + refunded_amount_cents = amount_cents
            end
            as boolean
        ) as is_money_conserved,
        cast(amount_cents as bigint) as amount_cents,
        cast(released_amount_cents as bigint) as released_amount_cents,
        cast(refunded_amount_cents as bigint) as refunded_amount_cents,
        cast(
            case when has_adjustment then adjustment_released_amount_cents else released_amount_cents end
            as bigint
        ) as adjusted_released_amount_cents,
        cast(
            case when has_adjustment then adjustment_refunded_amount_cents else refunded_amount_cents end
            as bigint
        ) as adjusted_refunded_amount_cents,
        cast(dispute_window_days as bigint) as dispute_window_days,
        cast(currency as {{ string_type() }}) as currency,
        cast(locked_at as timestamp) as locked_at,
        cast(resolved_at as timestamp) as resolved_at,
        cast(dispute_window_ends_at as timestamp) as dispute_window_ends_at,
        cast(adjusted_at as timestamp) as adjusted_at,
        cast(updated_at as timestamp) as updated_at

    from settlements

)

select * from final
