-- Disputes of settlements, opened and closed through the operator API (one row per tenant and dispute).
-- Empty, with the same columns, when no API database is configured.

{#- Always declare the dependency, so lineage shows the API's table even when it is not attached. -#}
{%- set disputes_source = source('operator_api', 'disputes') %}

with

disputes as (

    {{ operator_api_typed(disputes_source, [
        ('tenant_id', string_type()), ('dispute_id', string_type()), ('settlement_id', string_type()), ('run_id', string_type()),
        ('status', string_type()), ('priority', string_type()), ('channel', string_type()), ('escalation_level', string_type()),
        ('outcome', string_type()), ('verdict_id', string_type()), ('release_rate_pct', 'integer'),
        ('revision', 'bigint'), ('opened_at', 'timestamp'), ('closed_at', 'timestamp'),
        ('updated_at', 'timestamp'),
    ]) }}

)

select * from disputes
