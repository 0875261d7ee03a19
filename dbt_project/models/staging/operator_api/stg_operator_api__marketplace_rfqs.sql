-- RFQs of the marketplace (api/marketplace), one row per tenant and RFQ, with the status as of the run:
-- an RFQ stored open whose deadline has passed is expired (the API's lazy expiry, applied here too).
-- Empty, with the same columns, when no API database is configured.

{%- set rfqs_source = source('operator_api', 'marketplace_rfqs') %}

with

rfqs as (

    {{ operator_api_typed(rfqs_source, [
        ('tenant_id', string_type()), ('rfq_id', string_type()), ('listing_id', string_type()),
        ('listing_revision', 'bigint'), ('capability', string_type()), ('poster_agent_id', string_type()),
        ('status', string_type(), 'status'), ('accepted_bid_id', string_type()), ('agreement_id', string_type()),
        ('run_id', string_type()), ('budget_cents', 'bigint'), ('currency', string_type()),
        ('deadline_at', 'timestamp'), ('accepted_at', 'timestamp'), ('created_at', 'timestamp'),
    ]) }}

),

final as (

    select
        tenant_id,
        rfq_id,
        listing_id,
        listing_revision,
        accepted_bid_id,
        agreement_id,
        run_id,
        capability,
        poster_agent_id,
        status as stored_status,
        case
            when status = 'open' and deadline_at <= {{ reconciliation_as_of() }} then 'expired'
            else status
        end as status,
        {{ to_period('created_at') }} as posted_month,
        budget_cents,
        currency,
        deadline_at,
        accepted_at,
        created_at

    from rfqs

)

select * from final
