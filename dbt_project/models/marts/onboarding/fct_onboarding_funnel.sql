-- One row per tenant of the operator API: when it first reached each funnel step, the time between
-- consecutive steps, its furthest step and its next step. A tenant that skipped a step still has the
-- later steps it reached; the next step is the first one it has not reached.

with

tenants as (

    select * from {{ ref('stg_operator_api__tenants') }}

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

pivoted as (

    select
        tenants.tenant_id,
        tenants.created_at as tenant_created_at,
        max(case when steps_reached.step = 'signup' then steps_reached.reached_at end) as signup_at,
        max(case when steps_reached.step = 'api_key_created' then steps_reached.reached_at end)
            as api_key_created_at,
        max(case when steps_reached.step = 'first_run_started' then steps_reached.reached_at end)
            as first_run_started_at,
        max(case when steps_reached.step = 'first_verification_passed' then steps_reached.reached_at end)
            as first_verification_passed_at,
        max(case when steps_reached.step = 'first_settlement_completed' then steps_reached.reached_at end)
            as first_settlement_completed_at,
        count(steps_reached.step) as steps_reached,
        max(steps_reached.step_order) as furthest_step_order

    from tenants
    left join steps_reached
        on tenants.tenant_id = steps_reached.tenant_id
    group by tenants.tenant_id, tenants.created_at

),

next_steps as (

    select
        pivoted.tenant_id,
        min(funnel_steps.step_order) as next_step_order

    from pivoted
    inner join funnel_steps
        on true
    left join steps_reached
        on pivoted.tenant_id = steps_reached.tenant_id
        and funnel_steps.step = steps_reached.step
    where steps_reached.step is null
    group by pivoted.tenant_id

),

final as (

    select
        cast(pivoted.tenant_id as {{ string_type() }}) as tenant_id,
        cast({{ to_period('coalesce(pivoted.signup_at, pivoted.tenant_created_at)') }} as {{ string_type() }})
            as signup_cohort_month,
        cast(date_trunc('week', coalesce(pivoted.signup_at, pivoted.tenant_created_at)) as date)
            as signup_cohort_week,
        cast(furthest.step as {{ string_type() }}) as furthest_step,
        cast(pivoted.furthest_step_order as integer) as furthest_step_order,
        cast(next_step.step as {{ string_type() }}) as next_step,
        cast(pivoted.steps_reached as integer) as steps_reached,
        cast({{ seconds_between('pivoted.signup_at', 'pivoted.api_key_created_at') }} as bigint)
            as seconds_signup_to_api_key,
        cast({{ seconds_between('pivoted.api_key_created_at', 'pivoted.first_run_started_at') }} as bigint)
            as seconds_api_key_to_first_run,
        cast({{ seconds_between('pivoted.first_run_started_at', 'pivoted.first_verification_passed_at') }}
            as bigint) as seconds_first_run_to_first_verification,
        cast({{ seconds_between('pivoted.first_verification_passed_at', 'pivoted.first_settlement_completed_at') }}
            as bigint) as seconds_first_verification_to_first_settlement,
        cast({{ seconds_between('pivoted.signup_at', 'pivoted.first_settlement_completed_at') }} as bigint)
            as seconds_to_first_settlement,
        cast(pivoted.signup_at as timestamp) as signup_at,
        cast(pivoted.api_key_created_at as timestamp) as api_key_created_at,
        cast(pivoted.first_run_started_at as timestamp) as first_run_started_at,
        cast(pivoted.first_verification_passed_at as timestamp) as first_verification_passed_at,
        cast(pivoted.first_settlement_completed_at as timestamp) as first_settlement_completed_at

    from pivoted
    left join funnel_steps as furthest
        on pivoted.furthest_step_order = furthest.step_order
    left join next_steps
        on pivoted.tenant_id = next_steps.tenant_id
    left join funnel_steps as next_step
        on next_steps.next_step_order = next_step.step_order

)

select * from final
