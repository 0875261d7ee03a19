-- Per capability listing revision: the RFQs posted on it (an RFQ pins the listing's revision when it is
-- posted), how many received a bid, were accepted and released, the win rate (accepted / posted) and the
-- share of accepted RFQs whose SLA was met: the first bid within the revision's response hours of the
-- posting and the settlement resolved within its completion hours of the accept (basis points, rounded
-- half up; null without an SLA or without an accepted RFQ). Rules: docs/DECISIONLOG.md ("Marketplace").

with

revisions as (

    select * from {{ ref('stg_operator_api__marketplace_listing_revisions') }}

),

rfqs as (

    select * from {{ ref('int_marketplace__rfqs_progressed') }}
    where listing_id is not null

),

judged as (

    select
        rfqs.*,
        revisions.sla_response_hours,
        rfqs.is_accepted
            and rfqs.seconds_to_first_bid <= revisions.sla_response_hours * 3600
            and rfqs.seconds_accept_to_resolution <= revisions.sla_completion_hours * 3600
            as is_sla_met

    from rfqs
    inner join revisions
        on rfqs.tenant_id = revisions.tenant_id
        and rfqs.listing_id = revisions.listing_id
        and rfqs.listing_revision = revisions.revision

),

per_revision as (

    select
        tenant_id,
        listing_id,
        listing_revision,
        count(*) as rfqs,
        sum(case when has_bid then 1 else 0 end) as rfqs_with_bids,
        sum(case when is_accepted then 1 else 0 end) as rfqs_accepted,
        sum(case when is_released then 1 else 0 end) as rfqs_released,
        sum(case when is_sla_met then 1 else 0 end) as rfqs_sla_met

    from judged
    group by tenant_id, listing_id, listing_revision

),

final as (

    select
        cast(revisions.tenant_id as {{ string_type() }}) as tenant_id,
        cast(revisions.listing_id as {{ string_type() }}) as listing_id,
        cast(revisions.revision as integer) as listing_revision,
        cast(revisions.capability as {{ string_type() }}) as capability,
        cast(revisions.seller_agent_id as {{ string_type() }}) as seller_agent_id,
        cast(revisions.status as {{ string_type() }}) as status,
        cast(revisions.sla_response_hours as integer) as sla_response_hours,
        cast(revisions.sla_completion_hours as integer) as sla_completion_hours,
        cast(coalesce(p.rfqs, 0) as bigint) as rfqs,
        cast(coalesce(p.rfqs_with_bids, 0) as bigint) as rfqs_with_bids,
        cast(coalesce(p.rfqs_accepted, 0) as bigint) as rfqs_accepted,
        cast(coalesce(p.rfqs_released, 0) as bigint) as rfqs_released,
        cast(coalesce(p.rfqs_sla_met, 0) as bigint) as rfqs_sla_met,
        cast(
            case when p.rfqs > 0 then {{ floor_divide('p.rfqs_accepted * 20000 + p.rfqs', '2 * p.rfqs') }} end
            as bigint
        ) as win_rate_bps,
        cast(
            case
                when p.rfqs_accepted > 0 and revisions.sla_response_hours is not null then
                    {{ floor_divide('p.rfqs_sla_met * 20000 + p.rfqs_accepted', '2 * p.rfqs_accepted') }}
            end
            as bigint
        ) as sla_met_bps,
        cast(revisions.price_amount_cents as bigint) as price_amount_cents,
        cast(revisions.currency as {{ string_type() }}) as currency,
        cast(revisions.created_at as timestamp) as revised_at

    from revisions
    left join per_revision as p
        on revisions.tenant_id = p.tenant_id
        and revisions.listing_id = p.listing_id
        and revisions.revision = p.listing_revision

)

select * from final
