-- The append-only history of arbitration cases: the case as it stood after each action, keyed
-- (tenant_id, case_id, revision); `revision_seq` orders all revisions as they were written. Empty, with
-- the same columns, when no API database is configured.

{#- Always declare the dependency, so lineage shows the API's table even when it is not attached. -#}
{%- set revisions_source = source('operator_api', 'arbitration_case_revisions') %}

with

revisions as (

    {{ operator_api_typed(revisions_source, [
        ('tenant_id', string_type()), ('case_id', string_type()), ('revision', 'bigint'), ('revision_seq', 'bigint', 'seq'),
        ('run_id', string_type()), ('settlement_id', string_type()), ('dispute_id', string_type()),
        ('appeal_parent_case_id', string_type()), ('action', string_type()), ('arbiter_agent_id', string_type()),
        ('priority', string_type()), ('status', string_type()), ('evidence_count', 'bigint'),
        ('verdict_outcome', string_type()), ('verdict_release_rate_pct', 'integer'),
        ('opened_at', 'timestamp'), ('verdict_issued_at', 'timestamp'), ('closed_at', 'timestamp'),
        ('revised_at', 'timestamp', adapter.quote('at')),
    ]) }}

)

select * from revisions
