-- The operator API's settlement policy registry: one immutable row per tenant, policy id and version with
-- its hashes. Empty, with the same columns, when no API database is configured.

{#- Always declare the dependency, so lineage shows the API's table even when it is not attached. -#}
{%- set versions_source = source('operator_api', 'settlement_policy_versions') %}

with

versions as (

    {{ operator_api_typed(versions_source, [
        ('tenant_id', string_type()), ('policy_id', string_type()), ('policy_version', 'bigint'),
        ('policy_hash', string_type()), ('verification_method_hash', string_type()), ('description', string_type()),
        ('registered_at', 'timestamp', 'created_at'),
    ]) }}

)

select * from versions
