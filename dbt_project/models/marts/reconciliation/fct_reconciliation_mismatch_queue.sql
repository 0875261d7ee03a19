-- The mismatch queue as finance sees it: every current mismatch with its triage state from the operator
-- API (open when nobody has touched it yet), its effective severity (an operator's override wins) and
-- its age in days since the period ended, as of the run. The period gate reads is_handled.

with

mismatches as (

    select * from {{ ref('fct_reconciliation_mismatches') }}

),

triage as (

    select * from {{ ref('stg_operator_api__reconciliation_triage') }}

),

severities as (

    select * from {{ ref('reconciliation_severities') }}

),

triage_statuses as (

    select * from {{ ref('reconciliation_triage_statuses') }}

),

joined as (

    select
        mismatches.*,
        triage.status as triage_status,
        triage.owner,
        triage.severity_override,
        triage.revision as triage_revision,
        triage.triaged_at,
        triage.resolved_at,
        triage.updated_at as triage_updated_at,
        triage.triage_key is not null as has_triage,
        {{ period_end('mismatches.period') }} as period_ends_at

    from mismatches
    left join triage
        on mismatches.tenant_id = triage.tenant_id
        and mismatches.triage_key = triage.triage_key

),

-- An operator's override wins; an untriaged mismatch is open. Ranks and what counts as handled come from
-- the seeds (left joins: a word missing from its seed fails the not_null tests instead of hiding a row).
effective as (

    select
        joined.*,
        severities.severity_rank as effective_severity_rank,
        triage_statuses.is_handled

    from joined
    left join severities
        on coalesce(joined.severity_override, joined.severity) = severities.severity
    left join triage_statuses
        on coalesce(joined.triage_status, 'open') = triage_statuses.status

),

final as (

    select
        cast(triage_key as {{ string_type() }}) as triage_key,
        cast(tenant_id as {{ string_type() }}) as tenant_id,
        cast(period as {{ string_type() }}) as period,
        cast(provider_id as {{ string_type() }}) as provider_id,
        cast(mismatch_type as {{ string_type() }}) as mismatch_type,
        cast(mismatch_key as {{ string_type() }}) as mismatch_key,
        cast(mismatch_code as {{ string_type() }}) as mismatch_code,
        cast(coalesce(severity_override, severity) as {{ string_type() }}) as severity,
        cast(effective_severity_rank as integer) as severity_rank,
        cast(coalesce(triage_status, 'open') as {{ string_type() }}) as triage_status,
        cast(owner as {{ string_type() }}) as owner,
        cast(coalesce(triage_revision, 0) as bigint) as triage_revision,
        cast(has_triage as boolean) as has_triage,
        cast(is_handled as boolean) as is_handled,
        cast(
            case when as_of > period_ends_at then {{ dbt.datediff('period_ends_at', 'as_of', 'day') }} else 0 end
            as bigint
        ) as age_days,
        cast(expected_amount_cents as bigint) as expected_amount_cents,
        cast(actual_amount_cents as bigint) as actual_amount_cents,
        cast(currency as {{ string_type() }}) as currency,
        cast(triaged_at as timestamp) as triaged_at,
        cast(resolved_at as timestamp) as resolved_at,
        cast(triage_updated_at as timestamp) as triage_updated_at,
        as_of

    from effective

)

select * from final
