-- One row per signup cohort (by ISO week and by month) and funnel step: how many of the cohort's tenants
-- reached the step, the step's conversion from the step before (reach_i / reach_{i-1}, in basis points;
-- null when the step before was reached by no one) and its drop-off (10000 - conversion), with the
-- cohort's median and p90 time from signup to first settlement on every row of the cohort.
-- A tenant that skipped a step counts for the later steps it reached, so a conversion may pass 10000.

with

funnel as (

    select * from {{ ref('fct_onboarding_funnel') }}

),

steps_reached as (

    select * from {{ ref('int_onboarding__steps_reached') }}

),

event_types as (

    select * from {{ ref('onboarding_event_types') }}

),

funnel_steps as (

    select event_type as step, funnel_step_order as step_order
    from event_types
    where funnel_step_order is not null

),

members as (

    select 'week' as cohort_grain, cast(signup_cohort_week as {{ string_type() }}) as cohort, tenant_id,
        seconds_to_first_settlement
    from funnel
    union all
    select 'month' as cohort_grain, signup_cohort_month as cohort, tenant_id, seconds_to_first_settlement
    from funnel

),

cohorts as (

    select
        cohort_grain,
        cohort,
        count(*) as cohort_tenants,
        {{ percentile_seconds('seconds_to_first_settlement', 0.5) }} as median_seconds_to_first_settlement,
        {{ percentile_seconds('seconds_to_first_settlement', 0.9) }} as p90_seconds_to_first_settlement

    from members
    group by cohort_grain, cohort

),

reach as (

    select
        members.cohort_grain,
        members.cohort,
        steps_reached.step,
        count(*) as reached_tenants

    from members
    inner join steps_reached
        on members.tenant_id = steps_reached.tenant_id
    group by members.cohort_grain, members.cohort, steps_reached.step

),

cohort_steps as (

    select
        cohorts.cohort_grain,
        cohorts.cohort,
        funnel_steps.step,
        funnel_steps.step_order,
        cohorts.cohort_tenants,
        coalesce(reach.reached_tenants, 0) as reached_tenants,
        cohorts.median_seconds_to_first_settlement,
        cohorts.p90_seconds_to_first_settlement

    from cohorts
    cross join funnel_steps
    left join reach
        on cohorts.cohort_grain = reach.cohort_grain
        and cohorts.cohort = reach.cohort
        and funnel_steps.step = reach.step

),

with_previous as (

    select
        *,
        -- The first step converts from the cohort itself.
        coalesce(
            lag(reached_tenants) over (partition by cohort_grain, cohort order by step_order),
            cohort_tenants
        ) as previous_reached_tenants

    from cohort_steps

),

final as (

    select
        cast(cohort_grain as {{ string_type() }}) as cohort_grain,
        cast(cohort as {{ string_type() }}) as cohort,
        cast(step as {{ string_type() }}) as step,
        cast(step_order as integer) as step_order,
        cast(cohort_tenants as bigint) as cohort_tenants,
        cast(reached_tenants as bigint) as reached_tenants,
        cast(previous_reached_tenants as bigint) as previous_reached_tenants,
        cast(
            case
                when previous_reached_tenants > 0 then
                    {{ floor_divide('reached_tenants * 20000 + previous_reached_tenants',
                                    '2 * previous_reached_tenants') }}
            end
            as bigint
        ) as conversion_bps,
        cast(
            case
                when previous_reached_tenants > 0 then
                    10000 - {{ floor_divide('reached_tenants * 20000 + previous_reached_tenants',
                                            '2 * previous_reached_tenants') }}
            end
            as bigint
        ) as drop_off_bps,
        cast(cohort_tenants >= {{ var('onboarding_min_cohort_tenants', 3) }} as boolean) as is_shareable,
        cast(median_seconds_to_first_settlement as bigint) as median_seconds_to_first_settlement,
        cast(p90_seconds_to_first_settlement as bigint) as p90_seconds_to_first_settlement

    from with_previous

)

select * from final
