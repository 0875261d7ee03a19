-- Per tenant, period, provider and currency: how many payouts were expected and for how much, how
-- many the rails matched, settled or still carry, and the mismatches by type. The provider and
-- currency of a payout are its earliest instruction's; an unexpected operation counts under its own.
-- One count per money-rail mismatch type and per severity those types have, from the seeds (the
-- contract lists the columns: a word added to a seed without its column fails the build).
-- depends_on: {{ ref('reconciliation_mismatch_types') }}, {{ ref('reconciliation_severities') }}

{%- set types = seed_values(
    'reconciliation_mismatch_types', 'mismatch_type', where="source_type = 'money_rails_reconcile'"
) %}
{%- set rule_severities = seed_values(
    'reconciliation_mismatch_types', 'severity', where="source_type = 'money_rails_reconcile'"
) %}
{%- set severities = seed_values('reconciliation_severities', 'severity', order_by='severity_rank')
    | select('in', rule_severities) | list %}

with

payout_keys as (

    select * from {{ ref('int_reconciliation__payout_keys_matched') }}

),

mismatches as (

    select * from {{ ref('fct_reconciliation_mismatches') }}

),

expected_totals as (

    select
        tenant_id,
        period,
        provider_id,
        currency,
        count(*) as expected_payout_count,
        sum(expected_amount_cents) as expected_amount_cents,
        count(case when live_operation_count > 0 then 1 end) as matched_count,
        count(case when confirmed_operation_count > 0 then 1 end) as settled_count,
        count(case when live_operation_count > 0 and confirmed_operation_count = 0 then 1 end) as in_flight_count,
        sum(cancelled_operation_count) as cancelled_operation_count

    from payout_keys
    group by tenant_id, period, provider_id, currency

),

mismatch_counts as (

    select
        tenant_id,
        period,
        provider_id,
        currency,
        count(*) as mismatch_count,
        {%- for severity in severities %}
        count(case when severity = '{{ severity }}' then 1 end) as {{ severity }}_mismatch_count,
        {%- endfor %}
        {%- for type in types %}
        count(case when mismatch_type = '{{ type }}' then 1 end) as {{ type }}_count{{ "," if not loop.last }}
        {%- endfor %}

    from mismatches
    group by tenant_id, period, provider_id, currency

),

spine as (

    select tenant_id, period, provider_id, currency from expected_totals
    union
    select tenant_id, period, provider_id, currency from mismatch_counts

),

final as (

    select
        cast(spine.tenant_id as {{ string_type() }}) as tenant_id,
        cast(spine.period as {{ string_type() }}) as period,
        cast(spine.provider_id as {{ string_type() }}) as provider_id,
        cast(coalesce(e.expected_payout_count, 0) as bigint) as expected_payout_count,
        cast(coalesce(e.matched_count, 0) as bigint) as matched_count,
        cast(coalesce(e.settled_count, 0) as bigint) as settled_count,
        cast(coalesce(e.in_flight_count, 0) as bigint) as in_flight_count,
        cast(coalesce(e.cancelled_operation_count, 0) as bigint) as cancelled_operation_count,
        cast(coalesce(m.mismatch_count, 0) as bigint) as mismatch_count,
        {%- for severity in severities %}
        cast(coalesce(m.{{ severity }}_mismatch_count, 0) as bigint) as {{ severity }}_mismatch_count,
        {%- endfor %}
        {%- for type in types %}
        cast(coalesce(m.{{ type }}_count, 0) as bigint) as {{ type }}_count,
        {%- endfor %}
        cast(coalesce(e.expected_amount_cents, 0) as bigint) as expected_amount_cents,
        cast(spine.currency as {{ string_type() }}) as currency,
        {{ reconciliation_as_of() }} as as_of

    from spine
    left join expected_totals as e
        on spine.tenant_id = e.tenant_id
        and spine.period = e.period
        and spine.provider_id = e.provider_id
        and spine.currency = e.currency
    left join mismatch_counts as m
        on spine.tenant_id = m.tenant_id
        and spine.period = m.period
        and spine.provider_id = m.provider_id
        and spine.currency = m.currency

)

select * from final
