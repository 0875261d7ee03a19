-- The policy each run was given when it resolved one (canary when its bucket was below the canary percent,
-- else active), recorded once and never changed by a later move. Empty when no API database is configured.

{#- Always declare the dependency, so lineage shows the API's table even when it is not attached. -#}
{%- set assignments_source = source('operator_api', 'settlement_policy_assignments') %}

with

assignments as (

    {{ operator_api_typed(assignments_source, [
        ('tenant_id', string_type()), ('run_id', string_type()), ('stage', string_type()), ('policy_id', string_type()),
        ('policy_version', 'bigint'), ('policy_hash', string_type()), ('bucket', 'integer'),
        ('rollout_percent', 'integer'), ('rollout_revision', 'bigint'), ('assigned_at', 'timestamp'),
    ]) }}

)

select * from assignments
