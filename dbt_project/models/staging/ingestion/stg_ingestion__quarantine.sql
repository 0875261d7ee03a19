-- Landing rows that broke their contract, one row per rejected row, for monitoring.

with

source as (

    select * from {{ source('raw', 'quarantine') }}

),

final as (

    select
        cast(dataset as {{ string_type() }}) as dataset,
        cast(source_file as {{ string_type() }}) as source_file,
        cast(source_row as bigint) as source_row,
        cast(file_sha256 as {{ string_type() }}) as file_sha256,
        cast(reason_code as {{ string_type() }}) as reason_code,
        cast(reason_detail as {{ string_type() }}) as reason_detail,
        cast(raw_payload as {{ string_type() }}) as raw_payload,
        {{ to_period('loaded_at') }} as loaded_period,
        cast(loaded_at as timestamp) as loaded_at

    from source

)

select * from final
