-- Each arbitration case as it stood at the run's as-of instant: its latest revision written by then
-- (the append-only history makes a rerun with the same as-of give the same rows).

{%- set revision_columns = [
    'tenant_id', 'case_id', 'revision', 'revision_seq', 'run_id', 'settlement_id', 'dispute_id',
    'appeal_parent_case_id', 'action', 'arbiter_agent_id', 'priority', 'status', 'evidence_count',
    'verdict_outcome', 'verdict_release_rate_pct', 'opened_at', 'verdict_issued_at', 'closed_at', 'revised_at',
] %}

with

revisions as (

    select * from {{ ref('stg_operator_api__arbitration_case_revisions') }}
    where revised_at <= {{ reconciliation_as_of() }}

),

latest_revisions as (

    {{ deduplicate(
        'revisions',
        partition_by=['tenant_id', 'case_id'],
        order_by='revision desc',
        columns=revision_columns,
    ) }}

)

select * from latest_revisions
