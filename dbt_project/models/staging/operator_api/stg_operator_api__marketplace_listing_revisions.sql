-- Every revision of every capability listing (api/marketplace), one row per tenant, listing and revision.
-- Empty, with the same columns, when no API database is configured.

{%- set revisions_source = source('operator_api', 'marketplace_listing_revisions') %}

with

revisions as (

    {{ operator_api_typed(revisions_source, [
        ('tenant_id', 'varchar'), ('listing_id', 'varchar'), ('revision', 'bigint'),
        ('capability', 'varchar'), ('seller_agent_id', 'varchar'), ('status', 'varchar'),
        ('price_mode', 'varchar'), ('currency', 'varchar'), ('sla_response_hours', 'bigint'),
        ('sla_completion_hours', 'bigint'), ('price_amount_cents', 'bigint'), ('content_hash', 'varchar'),
        ('created_at', 'timestamp'),
    ]) }}

)

select * from revisions
