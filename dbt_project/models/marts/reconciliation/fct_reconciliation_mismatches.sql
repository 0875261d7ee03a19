-- One row per money-rail reconciliation mismatch: expected payouts (one row per rule a key breaks)
-- and unexpected operations, with severity, code and the stable triage key.
-- The rules are the money-rail types of the seed reconciliation_mismatch_types: the actual side is
-- unexpected_operation (int_reconciliation__unexpected_operations), every other type is a flag
-- is_<type> of int_reconciliation__payout_keys_matched, so a type added to the seed without its rule
-- fails to compile.

{%- set actual_side_type = 'unexpected_operation' %}
{%- set expected_rules = seed_values(
    'reconciliation_mismatch_types', 'mismatch_type',
    where="source_type = 'money_rails_reconcile' and mismatch_type <> '" ~ actual_side_type ~ "'",
) %}

with

payout_keys as (

    select * from {{ ref('int_reconciliation__payout_keys_matched') }}

),

unexpected_operations as (

    select * from {{ ref('int_reconciliation__unexpected_operations') }}

),

mismatch_types as (

    select * from {{ ref('reconciliation_mismatch_types') }}

),

severities as (

    select * from {{ ref('reconciliation_severities') }}

),

live_payout_operations as (

    select tenant_id, payout_key, operation_id
    from {{ ref('stg_money_rails__operations') }}
    where direction = 'payout'
        and is_live

),

flagged_keys as (

    select distinct tenant_id, payout_key
    from payout_keys
    where {% for rule in expected_rules %}is_{{ rule }}{% if not loop.last %} or {% endif %}{% endfor %}

),

-- The live operation a flagged key is compared with (the smallest id when there are several), looked up
-- for the flagged keys only: a few percent of the keys the intermediate model carries.
flagged_live_operations as (

    select
        operations.tenant_id,
        operations.payout_key,
        min(operations.operation_id) as operation_id

    from live_payout_operations as operations
    inner join flagged_keys
        on operations.tenant_id = flagged_keys.tenant_id
        and operations.payout_key = flagged_keys.payout_key
    group by operations.tenant_id, operations.payout_key

),

expected_side as (

    {%- for rule in expected_rules %}
    select
        payout_keys.tenant_id,
        payout_keys.period,
        payout_keys.provider_id,
        '{{ rule }}' as mismatch_type,
        payout_keys.payout_key as mismatch_key,
        payout_keys.party_id,
        operations.operation_id,
        payout_keys.operation_count,
        payout_keys.live_state as operation_state,
        payout_keys.expected_amount_cents,
        payout_keys.actual_amount_cents,
        payout_keys.currency,
        payout_keys.actual_currency
    from payout_keys
    left join flagged_live_operations as operations
        on payout_keys.tenant_id = operations.tenant_id
        and payout_keys.payout_key = operations.payout_key
    where payout_keys.is_{{ rule }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

actual_side as (

    select
        tenant_id,
        period,
        provider_id,
        '{{ actual_side_type }}' as mismatch_type,
        mismatch_key,
        cast(null as {{ string_type() }}) as party_id,
        operation_id,
        operation_count,
        operation_state,
        cast(null as bigint) as expected_amount_cents,
        actual_amount_cents,
        actual_currency as currency,
        actual_currency

    from unexpected_operations

),

all_mismatches as (

    select * from expected_side
    union all
    select * from actual_side

),

final as (

    select
        cast({{ triage_key("'money_rails_reconcile'", 'm.tenant_id', 'm.period', 'm.provider_id',
                           'm.mismatch_type', 'm.mismatch_key') }} as {{ string_type() }}) as triage_key,
        cast(m.tenant_id as {{ string_type() }}) as tenant_id,
        cast(m.period as {{ string_type() }}) as period,
        cast(m.provider_id as {{ string_type() }}) as provider_id,
        cast(m.mismatch_type as {{ string_type() }}) as mismatch_type,
        cast(m.mismatch_key as {{ string_type() }}) as mismatch_key,
        cast('money_rails_reconcile' as {{ string_type() }}) as source_type,
        cast(t.mismatch_code as {{ string_type() }}) as mismatch_code,
        cast(t.severity as {{ string_type() }}) as severity,
        cast(s.severity_rank as integer) as severity_rank,
        cast(m.party_id as {{ string_type() }}) as party_id,
        cast(m.operation_id as {{ string_type() }}) as operation_id,
        cast(m.operation_state as {{ string_type() }}) as operation_state,
        cast(m.operation_count as bigint) as operation_count,
        cast(m.expected_amount_cents as bigint) as expected_amount_cents,
        cast(m.actual_amount_cents as bigint) as actual_amount_cents,
        cast(
            case when m.currency = m.actual_currency then m.actual_amount_cents - m.expected_amount_cents end
            as bigint
        ) as amount_delta_cents,
        cast(m.currency as {{ string_type() }}) as currency,
        cast(m.actual_currency as {{ string_type() }}) as actual_currency,
        {{ reconciliation_as_of() }} as as_of

    from all_mismatches as m
    inner join mismatch_types as t
        on m.mismatch_type = t.mismatch_type
    -- a left join: a severity missing from its seed fails the not_null test on severity_rank
    left join severities as s
        on t.severity = s.severity

)

select * from final
