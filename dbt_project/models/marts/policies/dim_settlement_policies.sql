-- One row per registered settlement policy version with its hashes and when it held the tenant's active and
-- canary slots (from the rollout history, as of the run): first entered, until when (null while it still
-- holds the slot), whether it holds it now and the canary's percent now.

with

versions as (

    select * from {{ ref('stg_operator_api__settlement_policy_versions') }}

),

intervals as (

    select * from {{ ref('int_policies__stage_intervals') }}

),

by_stage as (

    select
        tenant_id,
        policy_id,
        policy_version,
        min(case when stage = 'active' then valid_from end) as first_active_at,
        max(case when stage = 'active' and valid_to is null then 1 else 0 end) = 1 as is_active,
        max(case when stage = 'active' then valid_to end) as last_active_until,
        min(case when stage = 'canary' then valid_from end) as first_canary_at,
        max(case when stage = 'canary' and valid_to is null then 1 else 0 end) = 1 as is_canary,
        max(case when stage = 'canary' then valid_to end) as last_canary_until,
        max(case when stage = 'canary' and valid_to is null then rollout_percent end) as canary_rollout_percent

    from intervals
    group by tenant_id, policy_id, policy_version

)

select
    cast(versions.tenant_id as {{ string_type() }}) as tenant_id,
    cast(versions.policy_id as {{ string_type() }}) as policy_id,
    cast(versions.policy_version as bigint) as policy_version,
    cast(versions.policy_hash as {{ string_type() }}) as policy_hash,
    cast(versions.verification_method_hash as {{ string_type() }}) as verification_method_hash,
    cast(versions.description as {{ string_type() }}) as description,
    cast(versions.registered_at as timestamp) as registered_at,
    cast(by_stage.first_active_at as timestamp) as first_active_at,
    cast(case when by_stage.is_active then null else by_stage.last_active_until end as timestamp) as active_until,
    cast(coalesce(by_stage.is_active, false) as boolean) as is_active,
    cast(by_stage.first_canary_at as timestamp) as first_canary_at,
    cast(case when by_stage.is_canary then null else by_stage.last_canary_until end as timestamp) as canary_until,
    cast(coalesce(by_stage.is_canary, false) as boolean) as is_canary,
    cast(by_stage.canary_rollout_percent as integer) as canary_rollout_percent

from versions
left join by_stage
    on versions.tenant_id = by_stage.tenant_id
    and versions.policy_id = by_stage.policy_id
    and versions.policy_version = by_stage.policy_version
