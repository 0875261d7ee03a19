-- Agreement-to-settlement reconciliation: one row per marketplace agreement and rule it breaks
-- (int_marketplace__agreements_matched), in the columns of fct_reconciliation_mismatches, so it is
-- published to the same triage queue and judged by the same gate. The period is the accept's UTC month,
-- the key the agreement id, the provider `marketplace`. The rules are the types of source
-- `marketplace_agreement` in the seed reconciliation_mismatch_types, each a flag is_<type> of the
-- intermediate model, so a type added to the seed without its rule fails to compile.

{%- set rules = seed_values(
    'reconciliation_mismatch_types', 'mismatch_type', where="source_type = 'marketplace_agreement'",
) %}

with

agreements as (

    select * from {{ ref('int_marketplace__agreements_matched') }}

),

mismatch_types as (

    select * from {{ ref('reconciliation_mismatch_types') }}

),

severities as (

    select * from {{ ref('reconciliation_severities') }}

),

flagged as (

    {%- for rule in rules %}
    select agreements.*, '{{ rule }}' as mismatch_type
    from agreements
    where is_{{ rule }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

final as (

    select
        cast({{ triage_key("'marketplace_agreement'", 'f.tenant_id', 'f.accepted_period', "'marketplace'",
                           'f.mismatch_type', 'f.agreement_id') }} as {{ string_type() }}) as triage_key,
        cast(f.tenant_id as {{ string_type() }}) as tenant_id,
        cast(f.accepted_period as {{ string_type() }}) as period,
        cast('marketplace' as {{ string_type() }}) as provider_id,
        cast(f.mismatch_type as {{ string_type() }}) as mismatch_type,
        cast(f.agreement_id as {{ string_type() }}) as mismatch_key,
        cast('marketplace_agreement' as {{ string_type() }}) as source_type,
        cast(t.mismatch_code as {{ string_type() }}) as mismatch_code,
        cast(t.severity as {{ string_type() }}) as severity,
        cast(s.severity_rank as integer) as severity_rank,
        cast(f.run_id as {{ string_type() }}) as party_id,
        cast(f.kernel_settlement_id as {{ string_type() }}) as operation_id,
        cast(f.settlement_status as {{ string_type() }}) as operation_state,
        cast(case when f.has_settlement then 1 else 0 end as bigint) as operation_count,
        cast(f.amount_cents as bigint) as expected_amount_cents,
        cast(f.settlement_amount_cents as bigint) as actual_amount_cents,
        cast(f.settlement_amount_cents - f.amount_cents as bigint) as amount_delta_cents,
        cast(f.currency as {{ string_type() }}) as currency,
        cast(f.settlement_currency as {{ string_type() }}) as actual_currency,
        {{ reconciliation_as_of() }} as as_of

    from flagged as f
    -- a left join: were the type missing from the seed, the not_null tests on code and severity fail
    left join mismatch_types as t
        on f.mismatch_type = t.mismatch_type
    left join severities as s
        on t.severity = s.severity

)

select * from final
