-- Settlements whose policy reference the registry does not back: the version is not registered (or the
-- settlement names none), or its stored hash is not the settlement's policy_hash. Only tenants that use the
-- registry are judged. The period gate's blocking check `policies.settlement_hashes_registered` lists them
-- by settlement id for the periods they were locked or resolved in.

select
    cast(tenant_id as {{ string_type() }}) as tenant_id,
    cast(settlement_id as {{ string_type() }}) as settlement_id,
    cast(run_id as {{ string_type() }}) as run_id,
    cast(policy_id as {{ string_type() }}) as policy_id,
    cast(policy_version as bigint) as policy_version,
    cast(policy_hash as {{ string_type() }}) as policy_hash,
    cast(registered_policy_hash as {{ string_type() }}) as registered_policy_hash,
    cast(reference_status as {{ string_type() }}) as reference_status,
    cast(locked_period as {{ string_type() }}) as locked_period,
    cast(resolved_period as {{ string_type() }}) as resolved_period

from {{ ref('int_policies__settlement_references') }}
where is_exception
