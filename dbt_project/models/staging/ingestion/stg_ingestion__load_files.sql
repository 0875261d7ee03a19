-- One row per loaded landing file (dataset, source_file), for monitoring. A rejected or duplicate file
-- carries no rows and is not a delivery: the ledger's other statuses are left out here (run and gate
-- report them from raw.load_files).

with

source as (

    select * from {{ source('raw', 'load_files') }}
    where status = 'loaded'

),

renamed as (

    select
        cast(dataset as {{ string_type() }}) as dataset,
        cast(source_file as {{ string_type() }}) as source_file,
        cast(file_sha256 as {{ string_type() }}) as file_sha256,
        cast(file_format as {{ string_type() }}) as file_format,
        cast(rows_in as bigint) as rows_in,
        cast(rows_loaded as bigint) as rows_loaded,
        cast(rows_quarantined as bigint) as rows_quarantined,
        cast(loaded_at as timestamp) as loaded_at

    from source

),

final as (

    select
        dataset,
        source_file,
        file_sha256,
        file_format,
        {{ to_period('loaded_at') }} as loaded_period,
        rows_quarantined > 0 as has_quarantined_rows,
        -- Every row read must be either loaded or quarantined: nothing is dropped silently.
        rows_in = rows_loaded + rows_quarantined as is_row_count_balanced,
        rows_in,
        rows_loaded,
        rows_quarantined,
        loaded_at

    from renamed

)

select * from final
