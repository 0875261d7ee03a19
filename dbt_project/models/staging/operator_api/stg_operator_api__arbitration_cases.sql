-- Arbitration cases in their current state (ArbitrationCase.v1), one row per tenant and case. Empty,
-- with the same columns, when no API database is configured.

{#- Always declare the dependency, so lineage shows the API's table even when it is not attached. -#}
{%- set cases_source = source('operator_api', 'arbitration_cases') %}

with

cases as (

    {{ operator_api_typed(cases_source, [
        ('tenant_id', string_type()), ('case_id', string_type()), ('run_id', string_type()), ('settlement_id', string_type()),
        ('dispute_id', string_type()), ('appeal_parent_case_id', string_type()), ('arbiter_agent_id', string_type()),
        ('priority', string_type()), ('status', string_type()), ('verdict_id', string_type()),
        ('verdict_outcome', string_type()), ('verdict_release_rate_pct', 'integer'), ('revision', 'bigint'),
        ('opened_at', 'timestamp'), ('verdict_issued_at', 'timestamp'), ('closed_at', 'timestamp'),
        ('updated_at', 'timestamp'),
    ]) }}

)

select * from cases
