-- One row per expected payout key (tenant_id, payout_key): the earliest instruction, what the rails
-- did for that key, and one boolean per reconciliation rule. Matching is per tenant on payout_key;
-- only operations with direction = payout take part (collections are not payouts).
-- The rules are written down in docs/DECISIONLOG.md ("Money-rail reconciliation").

-- Incremental (macros/incremental.sql): a build after the first recomputes only the payout keys that
-- changed since the newest load the table has seen (`changed_keys` below says what that means here).
-- depends_on: {{ ref('stg_ingestion__load_deletions') }}
-- depends_on: {{ ref('stg_money_rails__operation_versions') }}
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='delete+insert',
    unique_key=['tenant_id', 'payout_key'],
    on_schema_change='fail',
    pre_hook="{{ forget_deleted_keys(ref('stg_ingestion__load_deletions'), ['payout_instructions', 'money_rail_operations'], ['tenant_id', 'payout_key']) }}",
) }}

with

providers as (

    select * from {{ ref('reconciliation_providers') }}

),

{% if is_incremental() -%}
-- A payout key changed when it has instructions loaded or deleted since, when an operation loaded or
-- deleted since has (in any of its versions) carried it (a corrected operation can move from one key
-- to another, and a deleted latest version hands the operation to an older one), or when what the key
-- was judged by moved: the as-of passed its stale deadline, or its provider's tolerance changed.
changed_operations as (

    {{ keys_loaded_or_deleted_since(
        ref('stg_money_rails__operation_versions'), ref('stg_ingestion__load_deletions'),
        ['money_rail_operations'], ['provider_id', 'operation_id'],
    ) }}

),

changed_keys as (

    -- the staging model rewrote every key with instructions loaded since (its rows carry that load)
    select tenant_id, payout_key
    from {{ ref('stg_settlement_kernel__payout_instructions') }}
    where _loaded_at > {{ loaded_through() }}
    union
    {{ deleted_keys(ref('stg_ingestion__load_deletions'), ['payout_instructions', 'money_rail_operations'], ['tenant_id', 'payout_key']) }}
    union
    select versions.tenant_id, versions.payout_key
    from {{ ref('stg_money_rails__operation_versions') }} as versions
    where versions.payout_key is not null
        and {{ among_keys('changed_operations', 'versions', ['provider_id', 'operation_id']) }}
    union
    select built.tenant_id, built.payout_key
    from {{ this }} as built
    left join providers
        on built.provider_id = providers.provider_id
    where built.is_stale_in_flight is distinct from
            {{ stale_in_flight('built.live_operation_count', 'built.live_state', 'built.period_ends_at') }}
        or built.amount_tolerance_cents is distinct from
            coalesce(providers.amount_tolerance_cents, {{ var('reconciliation_default_tolerance_cents') }})

),

{% endif -%}
instructions as (

    select * from {{ ref('stg_settlement_kernel__payout_instructions') }} as instructions
    {%- if is_incremental() %}
    where {{ among_keys('changed_keys', 'instructions', ['tenant_id', 'payout_key']) }}
    {%- endif %}

),

-- `not_materialized()`: read by three branches below; DuckDB would otherwise copy every row first.
payout_operations as {{ not_materialized() }} (

    select
        *,
        {{ key_hash(['tenant_id', 'payout_key']) }} as key_hash

    from {{ ref('stg_money_rails__operations') }} as operations
    where direction = 'payout'
        and payout_key is not null
        {%- if is_incremental() %}
        and {{ among_keys('changed_keys', 'operations', ['tenant_id', 'payout_key']) }}
        {%- endif %}

),

earliest_instructions as (

    -- With duplicates, the earliest instruction is the one the rails are compared with.
    select * from instructions
    where instruction_seq = 1

),

-- Nearly every payout key has exactly one operation, whose own values are the key's aggregates: only
-- the keys with several operations are grouped (found by a 64-bit hash of the key, macro key_hash; a
-- collision only sends a few more operations through the exact grouping). Grouping ten million long
-- keys cost more than the rest of this model (docs/performance.md).
shared_keys as (

    {{ repeated_key_hashes('payout_operations', ['tenant_id', 'payout_key']) }}

),

single_operation_keys as (

    select
        operations.tenant_id,
        operations.payout_key,
        1 as operation_count,
        case when operations.is_live then 1 else 0 end as live_operation_count,
        case when operations.state = 'confirmed' then 1 else 0 end as confirmed_operation_count,
        case when operations.state in ('initiated', 'submitted') then 1 else 0 end as in_flight_operation_count,
        case when operations.is_terminal_failure then 1 else 0 end as failed_operation_count,
        case when operations.state = 'cancelled' then 1 else 0 end as cancelled_operation_count,
        case when operations.is_live then operations.currency end as live_currency_min,
        case when operations.is_live then operations.currency end as live_currency_max,
        case when operations.is_live then operations.state end as live_state,
        cast(case when operations.is_live then operations.amount_cents end as bigint) as live_amount_cents

    from payout_operations as operations
    left join shared_keys
        on operations.key_hash = shared_keys.key_hash
    where shared_keys.key_hash is null

),

several_operation_keys as (

    select
        operations.tenant_id,
        operations.payout_key,
        count(*) as operation_count,
        count(case when operations.is_live then 1 end) as live_operation_count,
        count(case when operations.state = 'confirmed' then 1 end) as confirmed_operation_count,
        count(case when operations.state in ('initiated', 'submitted') then 1 end) as in_flight_operation_count,
        count(case when operations.is_terminal_failure then 1 end) as failed_operation_count,
        count(case when operations.state = 'cancelled' then 1 end) as cancelled_operation_count,
        -- min = max tells "one currency" without a count(distinct).
        min(case when operations.is_live then operations.currency end) as live_currency_min,
        max(case when operations.is_live then operations.currency end) as live_currency_max,
        -- The min() of a live attribute is *the* live operation's attribute when there is exactly one.
        -- The operation id is not aggregated here: fct_reconciliation_mismatches looks it up for the
        -- flagged keys only.
        min(case when operations.is_live then operations.state end) as live_state,
        {{ sum_cents('case when operations.is_live then operations.amount_cents end') }} as live_amount_cents

    from payout_operations as operations
    inner join shared_keys
        on operations.key_hash = shared_keys.key_hash
    group by operations.tenant_id, operations.payout_key

),

operations_by_key as (

    select * from single_operation_keys
    union all
    select * from several_operation_keys

),

compared as (

    select
        expected.tenant_id,
        expected.payout_key,
        expected.period,
        expected.provider_id,
        expected.party_id,
        expected.instruction_count,
        coalesce(actual.operation_count, 0) as operation_count,
        coalesce(actual.live_operation_count, 0) as live_operation_count,
        coalesce(actual.confirmed_operation_count, 0) as confirmed_operation_count,
        coalesce(actual.in_flight_operation_count, 0) as in_flight_operation_count,
        coalesce(actual.failed_operation_count, 0) as failed_operation_count,
        coalesce(actual.cancelled_operation_count, 0) as cancelled_operation_count,
        -- 0 = no live operation, 1 = one currency, 2 = several currencies (amounts then never summed).
        case
            when actual.live_currency_min is null then 0
            when actual.live_currency_min = actual.live_currency_max then 1
            else 2
        end as live_currency_count,
        actual.live_state,
        coalesce(
            providers.amount_tolerance_cents, {{ var('reconciliation_default_tolerance_cents') }}
        ) as amount_tolerance_cents,
        expected.amount_cents as expected_amount_cents,
        expected.currency,
        -- Never a sum across currencies: null when the live operations disagree on currency.
        case
            when actual.live_currency_min = actual.live_currency_max then actual.live_amount_cents
        end as actual_amount_cents,
        case when actual.live_currency_min = actual.live_currency_max then actual.live_currency_min end
            as actual_currency,
        {{ period_end('expected.period') }} as period_ends_at

    from earliest_instructions as expected
    left join operations_by_key as actual
        on expected.tenant_id = actual.tenant_id
        and expected.payout_key = actual.payout_key
    left join providers
        on expected.provider_id = providers.provider_id

),

flagged as (

    select
        *,
        instruction_count >= 2 as is_duplicate_expected,
        live_operation_count = 0 and failed_operation_count > 0 as is_terminal_failure,
        live_operation_count = 0 and failed_operation_count = 0 as is_missing_operation,
        live_operation_count >= 2 as is_duplicate_operation,
        live_operation_count = 1 and actual_currency <> currency as is_currency_mismatch,
        -- Amounts are compared only in the same currency (a currency mismatch says it all).
        live_operation_count = 1
            and actual_currency = currency
            and abs(actual_amount_cents - expected_amount_cents) > amount_tolerance_cents
            as is_amount_mismatch,
        {{ stale_in_flight('live_operation_count', 'live_state', 'period_ends_at') }} as is_stale_in_flight,
        {{ newest_load(
            [ref('stg_settlement_kernel__payout_instructions'), ref('stg_money_rails__operation_versions')],
            ref('stg_ingestion__load_deletions'),
            ['payout_instructions', 'money_rail_operations'],
        ) }} as _loaded_at

    from compared

)

select * from flagged
