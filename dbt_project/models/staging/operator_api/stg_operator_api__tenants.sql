-- Tenants of the operator API (bootstrapped or made by `settld keys create`), typed for the warehouse;
-- the platform's own tenant (`_platform`, which holds platform keys) is not a customer and is left out.
-- Without an attached API database this is an empty relation of the same shape.

{#- Always declare the dependency, so lineage shows the API's table even when it is not attached. -#}
{%- set tenants_source = source('operator_api', 'tenants') %}

{% if operator_api_enabled() %}

with

source as (

    select * from {{ tenants_source }}

),

renamed as (

    select
        cast(tenant_id as {{ string_type() }}) as tenant_id,
        cast(name as {{ string_type() }}) as tenant_name,
        cast(billing_plan as {{ string_type() }}) as billing_plan,
        cast(billing_hard_limit_enforced as boolean) as is_hard_limit_enforced,
        cast(policy_ref as {{ string_type() }}) as policy_ref,
        cast(revision as bigint) as revision,
        cast(created_at as timestamp) as created_at,
        cast(updated_at as timestamp) as updated_at

    from source
    where tenant_id <> '_platform'

)

select * from renamed

{% else %}

select
    cast(null as {{ string_type() }}) as tenant_id,
    cast(null as {{ string_type() }}) as tenant_name,
    cast(null as {{ string_type() }}) as billing_plan,
    cast(null as boolean) as is_hard_limit_enforced,
    cast(null as {{ string_type() }}) as policy_ref,
    cast(null as bigint) as revision,
    cast(null as timestamp) as created_at,
    cast(null as timestamp) as updated_at
where 1 = 0

{% endif %}
