-- What resolutions of disputes did to settlements: released = floor(amount * rate / 100), refunded the
-- rest, one row per adjustment; a settlement's highest adjustment_seq is the one in force. Empty, with the
-- same columns, when no API database is configured.

{#- Always declare the dependency, so lineage shows the API's table even when it is not attached. -#}
{%- set adjustments_source = source('operator_api', 'settlement_adjustments') %}

with

adjustments as (

    {{ operator_api_typed(adjustments_source, [
        ('tenant_id', string_type()), ('adjustment_id', string_type()), ('settlement_id', string_type()),
        ('adjustment_seq', 'bigint'), ('run_id', string_type()), ('dispute_id', string_type()), ('case_id', string_type()),
        ('verdict_id', string_type()), ('outcome', string_type()), ('release_rate_pct', 'integer'),
        ('amount_cents', 'bigint'), ('released_amount_cents', 'bigint'), ('refunded_amount_cents', 'bigint'),
        ('currency', string_type()), ('adjusted_at', 'timestamp', 'created_at'),
    ]) }}

)

select * from adjustments
