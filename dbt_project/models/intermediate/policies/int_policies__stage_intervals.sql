-- When each version held a tenant's canary or active slot: one row per rollout move that set the slot, from
-- the move until the next move of the same slot (null: still there at as-of). A cleared slot holds nothing.

with

moves as (

    select * from {{ ref('stg_operator_api__settlement_policy_rollout_history') }}
    where stage in ('canary', 'active')
        and moved_at <= {{ reconciliation_as_of() }}

),

slots as (

    select
        tenant_id,
        stage,
        to_policy_id as policy_id,
        to_policy_version as policy_version,
        rollout_percent,
        seq,
        moved_at as valid_from,
        lead(moved_at) over (partition by tenant_id, stage order by seq) as valid_to

    from moves

)

select
    cast(tenant_id as {{ string_type() }}) as tenant_id,
    cast(stage as {{ string_type() }}) as stage,
    cast(policy_id as {{ string_type() }}) as policy_id,
    cast(policy_version as bigint) as policy_version,
    cast(rollout_percent as integer) as rollout_percent,
    cast(seq as bigint) as seq,
    cast(valid_from as timestamp) as valid_from,
    cast(valid_to as timestamp) as valid_to

from slots
where policy_id is not null
