-- What each version did under each stage, so a canary can be compared with the active version before it is
-- promoted: per tenant, version, stage (canary, active, unassigned) and currency, the runs settled under a
-- registered reference, how many the kernel released (auto-released), how many are still held for a
-- decision (manual review), refunded and disputed, and the released share of the resolved money in basis
-- points (after adjustments; null before anything resolved). Money is never summed across currencies.

with

judged as (

    select * from {{ ref('int_policies__settlement_references') }}
    where reference_status = 'registered'

),

settlements as (

    select * from {{ ref('fct_settlements') }}

),

outcomes as (

    select
        judged.tenant_id,
        judged.policy_id,
        judged.policy_version,
        judged.stage,
        settlements.currency,
        count(*) as runs,
        sum(case when settlements.status = 'released' then 1 else 0 end) as auto_released,
        sum(case when settlements.status = 'locked' then 1 else 0 end) as manual_review,
        sum(case when settlements.status = 'refunded' then 1 else 0 end) as refunded,
        sum(case when settlements.has_dispute then 1 else 0 end) as disputed,
        sum(case when settlements.is_resolved then settlements.amount_cents else 0 end) as resolved_amount_cents,
        sum(case when settlements.is_resolved then settlements.adjusted_released_amount_cents else 0 end)
            as released_amount_cents

    from judged
    inner join settlements
        on judged.tenant_id = settlements.tenant_id
        and judged.settlement_id = settlements.settlement_id
    group by judged.tenant_id, judged.policy_id, judged.policy_version, judged.stage,
        settlements.currency

)

select
    cast(tenant_id as {{ string_type() }}) as tenant_id,
    cast(policy_id as {{ string_type() }}) as policy_id,
    cast(policy_version as bigint) as policy_version,
    cast(stage as {{ string_type() }}) as stage,
    cast(currency as {{ string_type() }}) as currency,
    cast(runs as bigint) as runs,
    cast(auto_released as bigint) as auto_released,
    cast(manual_review as bigint) as manual_review,
    cast(refunded as bigint) as refunded,
    cast(disputed as bigint) as disputed,
    cast(resolved_amount_cents as bigint) as resolved_amount_cents,
    cast(released_amount_cents as bigint) as released_amount_cents,
    cast(
        case when resolved_amount_cents > 0 then floor(released_amount_cents * 10000.0 / resolved_amount_cents) end
        as bigint
    ) as released_share_bps

from outcomes
