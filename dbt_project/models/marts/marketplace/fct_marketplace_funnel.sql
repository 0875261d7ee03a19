-- The marketplace funnel per tenant and month an RFQ was posted: one row per step of the seed
-- marketplace_funnel_steps (rfq_posted -> bid_received -> accepted -> settlement_locked -> released, and
-- disputed from settlement_locked), with the RFQs that reached it, the step's conversion from its
-- previous step and the drop-off (basis points, rounded half up; null when the previous step is empty),
-- and, on every row of the month, the bids per RFQ, the median seconds from posting to the first bid and
-- to the accept, and the median accepted price against the budget. Rules: docs/DECISIONLOG.md ("Marketplace").

{%- set step_flags = {
    'rfq_posted': 'true', 'bid_received': 'has_bid', 'accepted': 'is_accepted',
    'settlement_locked': 'is_settlement_locked', 'released': 'is_released', 'disputed': 'is_disputed',
} %}
{%- set steps = seed_values('marketplace_funnel_steps', 'step') %}

with

rfqs as (

    select * from {{ ref('int_marketplace__rfqs_progressed') }}

),

funnel_steps as (

    select * from {{ ref('marketplace_funnel_steps') }}

),

months as (

    select
        tenant_id,
        posted_month as month,
        count(*) as rfqs_posted,
        sum(bids) as bids_total,
        {{ percentile_seconds('seconds_to_first_bid', 0.5) }} as median_seconds_to_first_bid,
        {{ percentile_seconds('seconds_to_accept', 0.5) }} as median_seconds_to_accept,
        {{ percentile_seconds('price_to_budget_bps', 0.5) }} as median_price_to_budget_bps

    from rfqs
    group by tenant_id, posted_month

),

reached as (

    {%- for step in steps %}
    select
        tenant_id,
        posted_month as month,
        '{{ step }}' as step,
        sum(case when {{ step_flags[step] }} then 1 else 0 end) as reached_rfqs
    from rfqs
    group by tenant_id, posted_month
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

steps_of_month as (

    select
        months.tenant_id,
        months.month,
        funnel_steps.step,
        funnel_steps.step_order,
        funnel_steps.previous_step,
        reached.reached_rfqs,
        previous.reached_rfqs as previous_reached_rfqs,
        months.rfqs_posted,
        months.bids_total,
        months.median_seconds_to_first_bid,
        months.median_seconds_to_accept,
        months.median_price_to_budget_bps

    from months
    cross join funnel_steps
    inner join reached
        on months.tenant_id = reached.tenant_id
        and months.month = reached.month
        and funnel_steps.step = reached.step
    left join reached as previous
        on months.tenant_id = previous.tenant_id
        and months.month = previous.month
        and funnel_steps.previous_step = previous.step

),

final as (

    select
        cast(tenant_id as {{ string_type() }}) as tenant_id,
        cast(month as {{ string_type() }}) as month,
        cast(step as {{ string_type() }}) as step,
        cast(step_order as integer) as step_order,
        cast(previous_step as {{ string_type() }}) as previous_step,
        cast(reached_rfqs as bigint) as reached_rfqs,
        cast(previous_reached_rfqs as bigint) as previous_reached_rfqs,
        cast(
            case
                when previous_reached_rfqs > 0 then
                    {{ floor_divide('reached_rfqs * 20000 + previous_reached_rfqs', '2 * previous_reached_rfqs') }}
            end
            as bigint
        ) as conversion_bps,
        cast(
            case
                when previous_reached_rfqs > 0 then
                    10000 - {{ floor_divide('reached_rfqs * 20000 + previous_reached_rfqs',
                                            '2 * previous_reached_rfqs') }}
            end
            as bigint
        ) as drop_off_bps,
        cast(rfqs_posted as bigint) as rfqs_posted,
        cast(bids_total as bigint) as bids_total,
        cast({{ floor_divide('bids_total * 200 + rfqs_posted', '2 * rfqs_posted') }} as bigint) as bids_per_rfq_x100,
        cast(median_seconds_to_first_bid as bigint) as median_seconds_to_first_bid,
        cast(median_seconds_to_accept as bigint) as median_seconds_to_accept,
        cast(median_price_to_budget_bps as bigint) as median_price_to_budget_bps

    from steps_of_month

)

select * from final
