-- The keys of raw rows that left raw (a corrected file replaced them, or a file is now rejected), with
-- when: what the incremental models recompute besides the rows loaded since their last build
-- (macros/incremental.sql). A view: only the incremental builds read it, and only its newest rows. Each
-- dataset fills its own key columns (ingestion/contracts.py DELETION_KEY_COLUMNS), the others are null.

{{ config(materialized='view') }}

select
    cast(dataset as {{ string_type() }}) as dataset,
    cast(source_file as {{ string_type() }}) as source_file,
    cast(tenant_id as {{ string_type() }}) as tenant_id,
    cast(payout_key as {{ string_type() }}) as payout_key,
    cast(provider_id as {{ string_type() }}) as provider_id,
    cast(operation_id as {{ string_type() }}) as operation_id,
    cast(entry_id as {{ string_type() }}) as entry_id,
    cast(batch_id as {{ string_type() }}) as batch_id,
    cast(statement_id as {{ string_type() }}) as statement_id,
    cast(period as {{ string_type() }}) as period,
    cast(deleted_at as timestamp) as deleted_at

from {{ source('raw', 'load_deletions') }}
