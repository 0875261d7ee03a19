{#-
    One row per key: of the rows of `relation` (a CTE name or a relation) that share the `partition_by`
    columns, the first in `order_by` order. "Latest version per key" is `order_by='updated_at desc, ...'`;
    "earliest copy" an ascending order. End `order_by` on columns that make it total (file, row), so the
    result never depends on the engine. Returns a select statement of `columns`, to wrap in a CTE:

        latest_versions as (
            {{ deduplicate('renamed', ['tenant_id', 'settlement_id'],
                           'updated_at desc, _source_file desc, _source_row desc', columns) }}
        ),

    Every form returns the same rows (tests/test_deduplicate.py compares them):
    - spark__: the plain ANSI form (`deduplicate_ranked`), a row_number() over every key, which Spark
      runs as one shuffle and a sort per partition;
    - duckdb__ / postgres__: tuned for ten million keys of which almost all occur once. A window over
      millions of one-row partitions costs far more than finding the few keys that need it, so the keys
      that occur more than once are found by a 64-bit hash (macro key_hash: grouping eight-byte values
      is far cheaper than grouping long text keys), only their rows go through the window, and every other
      row is its own first row. A hash collision only sends a few more rows through the exact window
      (docs/performance.md). Read `relation` three times: declare it `as {{ not_materialized() }}`,
      or DuckDB copies every row into a temporary result first.
    - default__: a compile error (adapter_not_supported).
-#}
{% macro deduplicate(relation, partition_by, order_by, columns) -%}
    {{ return(adapter.dispatch('deduplicate', 'settld')(relation, partition_by, order_by, columns)) }}
{%- endmacro %}

{% macro default__deduplicate(relation, partition_by, order_by, columns) -%}
    {{ adapter_not_supported('deduplicate') }}
{%- endmacro %}

{% macro spark__deduplicate(relation, partition_by, order_by, columns) -%}
    {{ deduplicate_ranked(relation, partition_by, order_by, columns) }}
{%- endmacro %}

{#- The plain ANSI form of `deduplicate`: a row_number() over every key. -#}
{% macro deduplicate_ranked(relation, partition_by, order_by, columns) -%}
    with

    rows_ranked as (

        select
            {{ columns | join(', ') }},
            row_number() over (
                partition by {{ partition_by | join(', ') }}
                order by {{ order_by }}
            ) as row_rank

        from {{ relation }}

    )

    select {{ columns | join(', ') }}
    from rows_ranked
    where row_rank = 1
{%- endmacro %}

{% macro duckdb__deduplicate(relation, partition_by, order_by, columns) -%}
    {{ deduplicate_repeated_keys_only(relation, partition_by, order_by, columns) }}
{%- endmacro %}

{% macro postgres__deduplicate(relation, partition_by, order_by, columns) -%}
    {{ deduplicate_repeated_keys_only(relation, partition_by, order_by, columns) }}
{%- endmacro %}

{#- The tuned form of `deduplicate`: the window runs only over the rows whose key hash repeats. -#}
{% macro deduplicate_repeated_keys_only(relation, partition_by, order_by, columns) -%}
    {%- set hashed_key = [] -%}
    {%- for column in partition_by %}{% do hashed_key.append('keyed_rows.' ~ column) %}{% endfor -%}
    with

    repeated_keys as (

        {{ repeated_key_hashes(relation, partition_by) }}

    ),

    single_rows as (

        select {% for column in columns %}keyed_rows.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
        from {{ relation }} as keyed_rows
        left join repeated_keys
            on {{ key_hash(hashed_key) }} = repeated_keys.key_hash
        where repeated_keys.key_hash is null

    ),

    repeated_rows_ranked as (

        select
            keyed_rows.*,
            row_number() over (
                partition by {{ hashed_key | join(', ') }}
                order by {{ order_by }}
            ) as row_rank

        from {{ relation }} as keyed_rows
        inner join repeated_keys
            on {{ key_hash(hashed_key) }} = repeated_keys.key_hash

    )

    select * from single_rows
    union all
    select {{ columns | join(', ') }} from repeated_rows_ranked
    where row_rank = 1
{%- endmacro %}
