{#-
    The kernel's books (docs/DECISIONLOG.md, "Finance integrity").

    kernel_books_staged: the staging select of one raw table of the kernel's books: typed columns, one row
    per `partition_by` key, the first in `order_by` order (end it on the file and row). `columns` is a list
    of (name, type) pairs.
-#}
{% macro kernel_books_staged(table, columns, partition_by, order_by) -%}
{%- set row_columns = columns | map(attribute=0) | list + ['_source_file', '_source_row'] %}
with

source as {{ not_materialized() }} (

    select * from {{ source('raw', table) }}

),

renamed as {{ not_materialized() }} (

    select
        {%- for name, type in columns %}
        cast({{ name }} as {{ type }}) as {{ name }},
        {%- endfor %}
        cast(_source_file as {{ string_type() }}) as _source_file,
        cast(_source_row as bigint) as _source_row

    from source

),

-- `not materialized` above: the macro reads `renamed` three times (docs in macros/deduplicate.sql).
final as (

    {{ deduplicate('renamed', partition_by=partition_by, order_by=order_by, columns=row_columns) }}

)

select * from final
{%- endmacro %}

{#-
    The artifact hash of a GL batch recomputed from its lines: the multiset digest (macros/digests.sql)
    of each line's md5 over party, account, entry and amount joined by chr(31). It does not depend on
    line order; the generator computes the same digest (devtools/sample_data/books.py gl_batch_hashes).
-#}
{% macro gl_line_md5(party_id, account_id, entry_id, amount_cents) -%}
    md5({{ party_id }} || chr(31) || {{ account_id }} || chr(31) || {{ entry_id }} || chr(31)
        || cast({{ amount_cents }} as {{ dbt.type_string() }}))
{%- endmacro %}
