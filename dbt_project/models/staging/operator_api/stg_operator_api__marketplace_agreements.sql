-- Agreements of accepted bids (api/marketplace, MarketplaceTaskAgreement), one row per tenant and
-- agreement: the run and settlement the kernel must lock, the amount agreed and the pinned policy.
-- Empty, with the same columns, when no API database is configured.

{%- set agreements_source = source('operator_api', 'marketplace_agreements') %}

with

agreements as (

    {{ operator_api_typed(agreements_source, [
        ('tenant_id', 'varchar'), ('agreement_id', 'varchar'), ('rfq_id', 'varchar'), ('bid_id', 'varchar'),
        ('listing_id', 'varchar'), ('listing_revision', 'bigint'), ('run_id', 'varchar'),
        ('settlement_id', 'varchar'), ('payer_agent_id', 'varchar'), ('payee_agent_id', 'varchar'),
        ('policy_id', 'varchar'), ('policy_version', 'bigint'), ('policy_hash', 'varchar'),
        ('policy_source', 'varchar'), ('dispute_window_days', 'bigint'), ('amount_cents', 'bigint'),
        ('currency', 'varchar'), ('accepted_at', 'timestamp'),
    ]) }}

),

final as (

    select
        *,
        {{ to_period('accepted_at') }} as accepted_period

    from agreements

)

select * from final
