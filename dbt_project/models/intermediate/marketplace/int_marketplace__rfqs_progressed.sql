-- One row per marketplace RFQ posted by the run's as-of: how far it went (a bid, an accept, the kernel's
-- settlement locked, released, disputed), its bids, the seconds from posting to the first bid and to the
-- accept, and the accepted price against the budget in basis points (same currency: the API refuses a
-- bid in another). Rules: docs/DECISIONLOG.md ("Marketplace").

with

rfqs as (

    select * from {{ ref('stg_operator_api__marketplace_rfqs') }}
    where created_at <= {{ reconciliation_as_of() }}

),

bids as (

    select * from {{ ref('stg_operator_api__marketplace_bids') }}
    where created_at <= {{ reconciliation_as_of() }}

),

agreements as (

    select * from {{ ref('int_marketplace__agreements_matched') }}

),

bids_per_rfq as (

    select
        tenant_id,
        rfq_id,
        count(*) as bids,
        min(created_at) as first_bid_at

    from bids
    group by tenant_id, rfq_id

),

joined as (

    select
        rfqs.tenant_id,
        rfqs.rfq_id,
        rfqs.listing_id,
        rfqs.listing_revision,
        rfqs.posted_month,
        rfqs.status,
        coalesce(bids_per_rfq.bids, 0) as bids,
        agreements.agreement_id is not null as is_accepted,
        coalesce(agreements.has_settlement, false) as is_settlement_locked,
        coalesce(agreements.settlement_status = 'released', false) as is_released,
        coalesce(agreements.has_dispute, false) as is_disputed,
        rfqs.budget_cents,
        agreements.amount_cents as accepted_amount_cents,
        rfqs.currency,
        rfqs.created_at,
        bids_per_rfq.first_bid_at,
        agreements.accepted_at,
        agreements.resolved_at

    from rfqs
    left join bids_per_rfq
        on rfqs.tenant_id = bids_per_rfq.tenant_id
        and rfqs.rfq_id = bids_per_rfq.rfq_id
    left join agreements
        on rfqs.tenant_id = agreements.tenant_id
        and rfqs.rfq_id = agreements.rfq_id

),

final as (

    select
        *,
        bids > 0 as has_bid,
        {{ seconds_between('created_at', 'first_bid_at') }} as seconds_to_first_bid,
        {{ seconds_between('created_at', 'accepted_at') }} as seconds_to_accept,
        {{ seconds_between('accepted_at', 'resolved_at') }} as seconds_accept_to_resolution,
        case
            when accepted_amount_cents is not null then
                {{ floor_divide('accepted_amount_cents * 10000', 'budget_cents') }}
        end as price_to_budget_bps

    from joined

)

select * from final
