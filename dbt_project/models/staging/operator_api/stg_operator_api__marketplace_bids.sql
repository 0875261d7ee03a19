-- Bids on marketplace RFQs (api/marketplace), one row per tenant and bid, with their current terms.
-- Empty, with the same columns, when no API database is configured.

{%- set bids_source = source('operator_api', 'marketplace_bids') %}

with

bids as (

    {{ operator_api_typed(bids_source, [
        ('tenant_id', string_type()), ('bid_id', string_type()), ('rfq_id', string_type()), ('bidder_agent_id', string_type()),
        ('status', string_type()), ('negotiation_round', 'bigint'), ('amount_cents', 'bigint'),
        ('currency', string_type()), ('eta_seconds', 'bigint'), ('created_at', 'timestamp'),
        ('accepted_at', 'timestamp'), ('rejected_at', 'timestamp'),
    ]) }}

)

select * from bids
