-- One row per tenant seen in any source, with when it was first and last seen and how much of
-- each kind of record it has.

with

tenant_activity as (

    select * from {{ ref('int_tenant_activity__unioned') }}

),

aggregated as (

    select
        tenant_id,
        sum(case when activity_type = 'settlement' then 1 else 0 end) as settlement_count,
        sum(case when activity_type = 'payout_instruction' then 1 else 0 end) as payout_instruction_count,
        sum(case when activity_type = 'money_rail_operation' then 1 else 0 end)
            as money_rail_operation_count,
        sum(case when activity_type = 'stripe_event' then 1 else 0 end) as stripe_event_count,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at

    from tenant_activity
    group by tenant_id

),

final as (

    select
        cast(tenant_id as {{ string_type() }}) as tenant_id,
        cast({{ to_period('first_seen_at') }} as {{ string_type() }}) as first_seen_period,
        cast(settlement_count as bigint) as settlement_count,
        cast(payout_instruction_count as bigint) as payout_instruction_count,
        cast(money_rail_operation_count as bigint) as money_rail_operation_count,
        cast(stripe_event_count as bigint) as stripe_event_count,
        cast(first_seen_at as timestamp) as first_seen_at,
        cast(last_seen_at as timestamp) as last_seen_at

    from aggregated

)

select * from final
