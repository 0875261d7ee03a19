{#-
    The kernel's books (docs/DECISIONLOG.md, "Finance integrity").

    kernel_books_staged: the staging model of one raw table of the kernel's books: typed columns, one row
    per `partition_by` key, the first in `order_by` order (end it on the file and row). `columns` is a list
    of (name, type) pairs.

    Incremental (macros/incremental.sql) by `incremental_key`, a prefix of the grain that the contract
    requires (an entry's postings, a batch's lines, a statement's lines, a tenant's period: the dataset's
    key columns in ingestion/contracts.py DELETION_KEY_COLUMNS): a build after the first recomputes every
    row of the keys with a row loaded or deleted since the newest load the table has seen, from all of
    their raw rows, so a day without files of the dataset leaves the table as it is.
-#}
{% macro kernel_books_staged(table, columns, partition_by, order_by, incremental_key) -%}
{%- for column in incremental_key if column not in partition_by %}
    {{ exceptions.raise_compiler_error(
        "kernel_books_staged(" ~ table ~ "): incremental key column " ~ column ~ " is not in partition_by") }}
{%- endfor %}
{%- set key_list = "['" ~ incremental_key | join("', '") ~ "']" %}
{%- set row_columns = columns | map(attribute=0) | list + ['_source_file', '_source_row'] %}
-- depends_on: {{ source('raw', 'load_deletions') }}
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='delete+insert',
    unique_key=incremental_key,
    on_schema_change='fail',
    pre_hook="{{ forget_deleted_keys(source('raw', 'load_deletions'), ['" ~ table ~ "'], " ~ key_list ~ ") }}",
) }}

with

{% if is_incremental() -%}
changed_keys as (

    {{ keys_loaded_or_deleted_since(source('raw', table), source('raw', 'load_deletions'), [table], incremental_key) }}

),

{% endif -%}
source as {{ not_materialized() }} (

    select * from {{ source('raw', table) }} as raw_rows
    {%- if is_incremental() %}
    where {{ among_keys('changed_keys', 'raw_rows', incremental_key) }}
    {%- endif %}

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
deduplicated as (

    {{ deduplicate('renamed', partition_by=partition_by, order_by=order_by, columns=row_columns) }}

),

final as (

    select
        *,
        {{ newest_load([source('raw', table)], source('raw', 'load_deletions'), [table]) }} as _loaded_at

    from deduplicated

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
