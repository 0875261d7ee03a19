-- Tenants' API keys from the operator API (never their secrets), typed for the warehouse; platform keys
-- are left out. A key's `revoked_at` may lie in the future: a rotated key works until its grace period
-- ends. Without an attached API database this is an empty relation of the same shape.

{#- Always declare the dependency, so lineage shows the API's table even when it is not attached. -#}
{%- set keys_source = source('operator_api', 'api_keys') %}

{% if operator_api_enabled() %}

with

source as (

    select * from {{ keys_source }}

),

renamed as (

    select
        cast(key_id as {{ string_type() }}) as key_id,
        cast(tenant_id as {{ string_type() }}) as tenant_id,
        cast(replaced_by_key_id as {{ string_type() }}) as replaced_by_key_id,
        cast(description as {{ string_type() }}) as description,
        cast(created_at as timestamp) as created_at,
        cast(expires_at as timestamp) as expires_at,
        cast(revoked_at as timestamp) as revoked_at

    from source
    where not cast(is_platform as boolean)

)

select * from renamed

{% else %}

select
    cast(null as {{ string_type() }}) as key_id,
    cast(null as {{ string_type() }}) as tenant_id,
    cast(null as {{ string_type() }}) as replaced_by_key_id,
    cast(null as {{ string_type() }}) as description,
    cast(null as timestamp) as created_at,
    cast(null as timestamp) as expires_at,
    cast(null as timestamp) as revoked_at
where 1 = 0

{% endif %}
