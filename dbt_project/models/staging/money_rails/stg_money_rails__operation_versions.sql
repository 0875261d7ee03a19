-- Every raw version of every money-rail operation, keys and load time only: the payout keys an operation
-- has carried, for int_reconciliation__payout_keys_matched to recompute the key an operation left when a
-- later version moved it (macros/incremental.sql). A view: only incremental builds read it, for the few
-- operations that changed.

{{ config(materialized='view') }}

select
    cast(provider_id as {{ string_type() }}) as provider_id,
    cast(operation_id as {{ string_type() }}) as operation_id,
    cast(tenant_id as {{ string_type() }}) as tenant_id,
    cast(payout_key as {{ string_type() }}) as payout_key,
    cast(_loaded_at as timestamp) as _loaded_at

from {{ source('raw', 'money_rail_operations') }}
