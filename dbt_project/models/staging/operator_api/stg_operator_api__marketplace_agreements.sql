-- Agreements of accepted bids (api/marketplace, MarketplaceTaskAgreement), one row per tenant and
-- agreement: the run and settlement the kernel must lock, the amount agreed and the pinned policy.
-- Empty, with the same columns, when no API database is configured.

{%- set agreements_source = source('operator_api', 'marketplace_agreements') %}

with

agreements as (

    {{ operator_api_typed(agreements_source, [
        ('tenant_id', string_type()), ('agreement_id', string_type()), ('rfq_id', string_type()), ('bid_id', string_type()),
        ('listing_id', string_type()), ('listing_revision', 'bigint'), ('run_id', string_type()),
        ('settlement_id', string_type()), ('payer_agent_id', string_type()), ('payee_agent_id', string_type()),
        ('policy_id', string_type()), ('policy_version', 'bigint'), ('policy_hash', string_type()),
        ('policy_source', string_type()), ('dispute_window_days', 'bigint'), ('amount_cents', 'bigint'),
        ('currency', string_type()), ('accepted_at', 'timestamp'),
    ]) }}

),

final as (

    select
        *,
        {{ to_period('accepted_at') }} as accepted_period

    from agreements

)

select * from final
