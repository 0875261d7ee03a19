-- Every revision of every capability listing (api/marketplace), one row per tenant, listing and revision.
-- Empty, with the same columns, when no API database is configured.

{%- set revisions_source = source('operator_api', 'marketplace_listing_revisions') %}

with

revisions as (

    {{ operator_api_typed(revisions_source, [
        ('tenant_id', string_type()), ('listing_id', string_type()), ('revision', 'bigint'),
        ('capability', string_type()), ('seller_agent_id', string_type()), ('status', string_type()),
        ('price_mode', string_type()), ('currency', string_type()), ('sla_response_hours', 'bigint'),
        ('sla_completion_hours', 'bigint'), ('price_amount_cents', 'bigint'), ('content_hash', string_type()),
        ('created_at', 'timestamp'),
    ]) }}

)

select * from revisions
