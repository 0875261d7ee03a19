-- Triage decisions made by operators in the API, typed for the warehouse. Without an attached API
-- database this is an empty relation of the same shape, so the queue still builds (everything untriaged).

{#- Always declare the dependency, so lineage shows the API's table even when it is not attached. -#}
{%- set triage_source = source('operator_api', 'reconciliation_triage') %}

{% if operator_api_enabled() %}

with

source as (

    select * from {{ triage_source }}

),

renamed as (

    select
        cast(tenant_id as {{ string_type() }}) as tenant_id,
        cast(triage_key as {{ string_type() }}) as triage_key,
        cast(status as {{ string_type() }}) as status,
        cast(owner as {{ string_type() }}) as owner,
        cast(severity as {{ string_type() }}) as severity_override,
        cast(notes as {{ string_type() }}) as notes,
        cast(resolution as {{ string_type() }}) as resolution,
        cast(revision as bigint) as revision,
        cast(opened_at as timestamp) as opened_at,
        cast(triaged_at as timestamp) as triaged_at,
        cast(resolved_at as timestamp) as resolved_at,
        cast(closed_at as timestamp) as closed_at,
        cast(updated_at as timestamp) as updated_at

    from source

)

select * from renamed

{% else %}

select
    cast(null as {{ string_type() }}) as tenant_id,
    cast(null as {{ string_type() }}) as triage_key,
    cast(null as {{ string_type() }}) as status,
    cast(null as {{ string_type() }}) as owner,
    cast(null as {{ string_type() }}) as severity_override,
    cast(null as {{ string_type() }}) as notes,
    cast(null as {{ string_type() }}) as resolution,
    cast(null as bigint) as revision,
    cast(null as timestamp) as opened_at,
    cast(null as timestamp) as triaged_at,
    cast(null as timestamp) as resolved_at,
    cast(null as timestamp) as closed_at,
    cast(null as timestamp) as updated_at
where 1 = 0

{% endif %}
