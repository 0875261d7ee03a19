-- The adjustment in force per settlement: the one with the highest adjustment_seq (an appeal's verdict
-- supersedes the first one), as of the run's as-of instant.

{%- set adjustment_columns = [
    'tenant_id', 'settlement_id', 'adjustment_id', 'adjustment_seq', 'dispute_id', 'case_id', 'verdict_id',
    'outcome', 'release_rate_pct', 'amount_cents', 'released_amount_cents', 'refunded_amount_cents',
    'currency', 'adjusted_at',
] %}

with

adjustments as (

    select * from {{ ref('stg_operator_api__settlement_adjustments') }}
    where adjusted_at <= {{ reconciliation_as_of() }}

),

in_force as (

    {{ deduplicate(
        'adjustments',
        partition_by=['tenant_id', 'settlement_id'],
        order_by='adjustment_seq desc',
        columns=adjustment_columns,
    ) }}

)

select * from in_force
