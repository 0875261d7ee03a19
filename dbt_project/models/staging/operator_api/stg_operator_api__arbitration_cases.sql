-- Arbitration cases in their current state (ArbitrationCase.v1), one row per tenant and case. Empty,
-- with the same columns, when no API database is configured.

{#- Always declare the dependency, so lineage shows the API's table even when it is not attached. -#}
{%- set cases_source = source('operator_api', 'arbitration_cases') %}

with

cases as (

    {{ operator_api_typed(cases_source, [
        ('tenant_id', 'varchar'), ('case_id', 'varchar'), ('run_id', 'varchar'), ('settlement_id', 'varchar'),
        ('dispute_id', 'varchar'), ('appeal_parent_case_id', 'varchar'), ('arbiter_agent_id', 'varchar'),
        ('priority', 'varchar'), ('status', 'varchar'), ('verdict_id', 'varchar'),
        ('verdict_outcome', 'varchar'), ('verdict_release_rate_pct', 'integer'), ('revision', 'bigint'),
        ('opened_at', 'timestamp'), ('verdict_issued_at', 'timestamp'), ('closed_at', 'timestamp'),
        ('updated_at', 'timestamp'),
    ]) }}

)

select * from cases
