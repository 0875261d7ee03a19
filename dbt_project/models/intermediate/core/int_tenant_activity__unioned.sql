-- Every record that names a tenant, from every source, as (tenant, kind of record, id, when):
-- the one place that decides which sources make a tenant "seen".

-- A view: only dim_tenants aggregates it, and a table would copy every staged row once more.
{{ config(materialized='view') }}

with

settlements as (

    select * from {{ ref('stg_settlement_kernel__settlements') }}

),

payout_instructions as (

    select * from {{ ref('stg_settlement_kernel__payout_instructions') }}

),

money_rail_operations as (

    select * from {{ ref('stg_money_rails__operations') }}

),

landed_stripe_events as (

    select * from {{ ref('stg_stripe__events') }}

),

-- The operator API attributes every event by the webhook's rules (metadata, the customer mapping, linked
-- invoices and payments); the landing row knows only metadata.tenant_id.
attributed_stripe_events as (

    select * from {{ ref('stg_operator_api__stripe_events') }}

),

stripe_events as (

    select
        landed.event_id,
        coalesce(attributed.tenant_id, landed.tenant_id) as tenant_id,
        landed.created_at

    from landed_stripe_events as landed
    left join attributed_stripe_events as attributed
        on landed.event_id = attributed.event_id

),

unioned as (

    select
        tenant_id,
        cast('settlement' as {{ string_type() }}) as activity_type,
        settlement_id as activity_id,
        locked_at as occurred_at
    from settlements

    union all

    select
        tenant_id,
        cast('payout_instruction' as {{ string_type() }}) as activity_type,
        payout_instruction_id as activity_id,
        created_at as occurred_at
    from payout_instructions

    union all

    select
        tenant_id,
        cast('money_rail_operation' as {{ string_type() }}) as activity_type,
        provider_id || ':' || operation_id as activity_id,
        first_event_at as occurred_at
    from money_rail_operations

    union all

    -- Billing events the API attributed to a tenant, or whose object carries metadata.tenant_id; the
    -- platform's (payouts, balance) and those not attributed yet name no tenant.
    select
        tenant_id,
        cast('stripe_event' as {{ string_type() }}) as activity_type,
        event_id as activity_id,
        created_at as occurred_at
    from stripe_events
    where tenant_id is not null

)

select * from unioned
