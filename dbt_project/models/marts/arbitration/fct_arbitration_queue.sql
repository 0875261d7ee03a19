-- The arbitration queue as of the run's as-of instant: every case as it stood then, with its age, due_at
-- and whether it was over its SLA (not closed and past due; a case with a verdict still counts), as the
-- API's GET /ops/arbitration/queue computes them for its own instant.

{%- set sla_seconds = (arbitration_sla_hours() | float * 3600) | round | int %}

with

cases as (

    select * from {{ ref('int_arbitration__cases_as_of') }}

),

measured as (

    select
        *,
        {{ reconciliation_as_of() }} as as_of,
        {{ dbt.dateadd('second', sla_seconds, 'opened_at') }} as due_at,
        {{ floor_divide(
            epoch_microseconds(reconciliation_as_of()) ~ ' - ' ~ epoch_microseconds('opened_at'), 1000000
        ) }} as age_seconds

    from cases

),

final as (

    select
        cast(tenant_id as {{ string_type() }}) as tenant_id,
        cast(case_id as {{ string_type() }}) as case_id,
        cast(run_id as {{ string_type() }}) as run_id,
        cast(settlement_id as {{ string_type() }}) as settlement_id,
        cast(dispute_id as {{ string_type() }}) as dispute_id,
        cast(appeal_parent_case_id as {{ string_type() }}) as appeal_parent_case_id,
        cast(arbiter_agent_id as {{ string_type() }}) as arbiter_agent_id,
        cast(priority as {{ string_type() }}) as priority,
        cast(status as {{ string_type() }}) as status,
        cast(revision as bigint) as revision,
        cast(evidence_count as bigint) as evidence_count,
        cast(arbiter_agent_id is not null as boolean) as is_assigned,
        cast(status <> 'closed' and as_of > due_at as boolean) as is_over_sla,
        cast(age_seconds as bigint) as age_seconds,
        cast({{ sla_seconds }} as bigint) as sla_seconds,
        cast(opened_at as timestamp) as opened_at,
        cast(due_at as timestamp) as due_at,
        cast(verdict_issued_at as timestamp) as verdict_issued_at,
        cast(closed_at as timestamp) as closed_at,
        cast(as_of as timestamp) as as_of

    from measured

)

select * from final
