-- Every settlement with what its policy reference names in the registry, and the stage its run was given.
--   reference_status: registered (the version exists and its stored hash is the settlement's policy_hash),
--   hash_mismatch (the version exists with another hash), version_not_registered (no such version, or no
--   reference at all), registry_not_used (the tenant has registered no version yet: not judged).
--   stage: the run's recorded assignment when the API recorded one; else the slot (canary, then active)
--   that held the settlement's version when it was locked; else unassigned.

with

settlements as (

    select tenant_id, settlement_id, run_id, policy_id, policy_version, policy_hash, locked_at,
        locked_period, resolved_period
    from {{ ref('stg_settlement_kernel__settlements') }}

),

versions as (

    select * from {{ ref('stg_operator_api__settlement_policy_versions') }}

),

registry_tenants as (

    select distinct tenant_id from versions

),

assignments as (

    select * from {{ ref('stg_operator_api__settlement_policy_assignments') }}

),

intervals as (

    select * from {{ ref('int_policies__stage_intervals') }}

),

held as (

    -- The slot holding the settlement's version at locked_at; canary first when both did.
    select
        settlements.tenant_id,
        settlements.settlement_id,
        min(case when intervals.stage = 'canary' then 0 else 1 end) as slot_rank

    from settlements
    inner join intervals
        on settlements.tenant_id = intervals.tenant_id
        and settlements.policy_id = intervals.policy_id
        and settlements.policy_version = intervals.policy_version
        and settlements.locked_at >= intervals.valid_from
        and (intervals.valid_to is null or settlements.locked_at < intervals.valid_to)
    group by settlements.tenant_id, settlements.settlement_id

)

select
    cast(settlements.tenant_id as {{ string_type() }}) as tenant_id,
    cast(settlements.settlement_id as {{ string_type() }}) as settlement_id,
    cast(settlements.run_id as {{ string_type() }}) as run_id,
    cast(settlements.policy_id as {{ string_type() }}) as policy_id,
    cast(settlements.policy_version as bigint) as policy_version,
    cast(settlements.policy_hash as {{ string_type() }}) as policy_hash,
    cast(versions.policy_hash as {{ string_type() }}) as registered_policy_hash,
    cast(
        case
            when registry_tenants.tenant_id is null then 'registry_not_used'
            when versions.policy_hash is null then 'version_not_registered'
            when versions.policy_hash = settlements.policy_hash then 'registered'
            else 'hash_mismatch'
        end as {{ string_type() }}
    ) as reference_status,
    cast(
        registry_tenants.tenant_id is not null
        and (versions.policy_hash is null or settlements.policy_hash is null
            or versions.policy_hash <> settlements.policy_hash)
        as boolean
    ) as is_exception,
    cast(
        coalesce(
            assignments.stage,
            case held.slot_rank when 0 then 'canary' when 1 then 'active' end,
            'unassigned'
        ) as {{ string_type() }}
    ) as stage,
    cast(assignments.stage is not null as boolean) as is_assignment_recorded,
    cast(settlements.locked_at as timestamp) as locked_at,
    cast(settlements.locked_period as {{ string_type() }}) as locked_period,
    cast(settlements.resolved_period as {{ string_type() }}) as resolved_period

from settlements
left join registry_tenants
    on settlements.tenant_id = registry_tenants.tenant_id
left join versions
    on settlements.tenant_id = versions.tenant_id
    and settlements.policy_id = versions.policy_id
    and settlements.policy_version = versions.policy_version
left join assignments
    on settlements.tenant_id = assignments.tenant_id
    and settlements.run_id = assignments.run_id
left join held
    on settlements.tenant_id = held.tenant_id
    and settlements.settlement_id = held.settlement_id
