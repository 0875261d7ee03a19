-- Disputes of settlements, opened and closed through the operator API (one row per tenant and dispute).
-- Empty, with the same columns, when no API database is configured.

{#- Always declare the dependency, so lineage shows the API's table even when it is not attached. -#}
{%- set disputes_source = source('operator_api', 'disputes') %}

with

disputes as (

    {{ operator_api_typed(disputes_source, [
        ('tenant_id', 'varchar'), ('dispute_id', 'varchar'), ('settlement_id', 'varchar'), ('run_id', 'varchar'),
        ('status', 'varchar'), ('priority', 'varchar'), ('channel', 'varchar'), ('escalation_level', 'varchar'),
        ('outcome', 'varchar'), ('verdict_id', 'varchar'), ('release_rate_pct', 'integer'),
        ('revision', 'bigint'), ('opened_at', 'timestamp'), ('closed_at', 'timestamp'),
        ('updated_at', 'timestamp'),
    ]) }}

)

select * from disputes
