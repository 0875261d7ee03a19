-- Every move of a tenant's settlement policy rollout (api/policies/rollout.py), in write order (`seq`):
-- which stage, from and to which version, the canary percent. Empty when no API database is configured.

{#- Always declare the dependency, so lineage shows the API's table even when it is not attached. -#}
{%- set history_source = source('operator_api', 'settlement_policy_rollout_history') %}

with

history as (

    {{ operator_api_typed(history_source, [
        ('seq', 'bigint'), ('tenant_id', string_type()), ('rollout_revision', 'bigint'), ('action', string_type()),
        ('stage', string_type()), ('from_policy_id', string_type()), ('from_policy_version', 'bigint'),
        ('to_policy_id', string_type()), ('to_policy_version', 'bigint'), ('rollout_percent', 'integer'),
        ('moved_at', 'timestamp', adapter.quote('at')),
    ]) }}

)

select * from history
