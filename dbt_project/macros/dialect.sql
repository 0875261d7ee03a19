{#-
    The few spellings that differ between the engines the project runs on (DuckDB, Postgres, Spark), each a
    dispatched macro with one form per engine and a `default__` that is a compile error naming the macro
    (adapter_not_supported): a fourth engine fails at compile time, never with another engine's SQL.
    Models call these, or dbt's cross-database macros; `tests/test_dbt_dialects.py` fails on an engine's
    own syntax written into a model.

    string_type(): the type of text of any length, for casts: `varchar` on DuckDB and Postgres (both
    read it as unbounded text), `string` on Spark (whose `varchar` needs a length). The YAML of the project
    (contracts' `data_type`, which dbt renders without macros) says `varchar`; on Spark, dbt's `cast`
    below reads a bare `varchar` as `string`, and seeds give no type for text columns (each engine's text).
-#}
{% macro string_type() -%}
    {{ return(adapter.dispatch('string_type', 'settld')()) }}
{%- endmacro %}

{% macro default__string_type() -%}
    {{ adapter_not_supported('string_type') }}
{%- endmacro %}

{% macro duckdb__string_type() -%}
    {{ return('varchar') }}
{%- endmacro %}

{% macro postgres__string_type() -%}
    {{ return('varchar') }}
{%- endmacro %}

{% macro spark__string_type() -%}
    {{ return(dbt.type_string()) }}
{%- endmacro %}

{#-
    dbt's `cast(field, type)` on Spark, through which dbt checks an enforced contract against the YAML's
    `data_type`s: a bare `varchar` (the YAML's word for text) becomes `string`; every other type is
    Spark's own. dbt_project.yml's `dispatch` puts this project first for dbt's macros.
-#}
{% macro spark__cast(field, type) -%}
    cast({{ field }} as {{ string_type() if type | trim | lower in ('varchar', 'text') else type }})
{%- endmacro %}

{#-
    not_materialized(): the hint of a CTE that a query reads several times (`name as {{ not_materialized() }} (`).
    DuckDB and Postgres would otherwise compute it once into a temporary result, copying every row
    first (docs/performance.md); Spark has no such hint (its optimizer inlines CTEs), so it is empty there.
-#}
{% macro not_materialized() -%}
    {{ return(adapter.dispatch('not_materialized', 'settld')()) }}
{%- endmacro %}

{% macro default__not_materialized() -%}
    {{ adapter_not_supported('not_materialized') }}
{%- endmacro %}

{% macro duckdb__not_materialized() -%}
    not materialized
{%- endmacro %}

{% macro postgres__not_materialized() -%}
    not materialized
{%- endmacro %}

{% macro spark__not_materialized() -%}
{%- endmacro %}

{#-
    distinct_values_joined(expression, separator): the distinct non-null values of a text expression over
    a group, sorted, joined by `separator` (a SQL expression); null when the group has none.
-#}
{% macro distinct_values_joined(expression, separator) -%}
    {{ return(adapter.dispatch('distinct_values_joined', 'settld')(expression, separator)) }}
{%- endmacro %}

{% macro default__distinct_values_joined(expression, separator) -%}
    {{ adapter_not_supported('distinct_values_joined') }}
{%- endmacro %}

{% macro duckdb__distinct_values_joined(expression, separator) -%}
    string_agg(distinct {{ expression }}, {{ separator }} order by {{ expression }})
{%- endmacro %}

{% macro postgres__distinct_values_joined(expression, separator) -%}
    string_agg(distinct {{ expression }}, {{ separator }} order by {{ expression }})
{%- endmacro %}

{% macro spark__distinct_values_joined(expression, separator) -%}
    case when count({{ expression }}) > 0
        then array_join(array_sort(collect_set({{ expression }})), {{ separator }}) end
{%- endmacro %}

{#-
    Seeds on Spark. dbt-spark writes a seed's `column_types` into its DDL and casts as they are, and a bare
    `varchar` (the YAML's word for text) does not parse there, so it is read as `string` first. Its rows go
    in as SQL literals written here: dbt-spark's session method pastes each binding between quotes unescaped
    (a quote in a title breaks the statement, and an empty cell becomes the text 'None').
-#}
{% macro spark__create_csv_table(model, agate_table) -%}
    {{ return(dbt.spark__create_csv_table(seed_with_spark_types(model), agate_table)) }}
{%- endmacro %}

{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set column_types = seed_with_spark_types(model)['config'].get('column_types') or {} -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for column in agate_table.column_names -%}
                    {%- set type = column_types.get(column, adapter.convert_type(agate_table, loop.index0)) -%}
                    {%- set value = row[loop.index0] -%}
                    cast({{ 'null' if value is none else "'" ~ (value | string | replace('\\', '\\\\') | replace("'", "\\'")) ~ "'" }} as {{ type }})
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first %}{% do statements.append(sql) %}{% endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{%- endmacro %}

{% macro seed_with_spark_types(model) -%}
    {%- set column_types = model['config'].get('column_types') or {} -%}
    {%- for column, type in column_types.items() -%}
        {%- if type | trim | lower in ('varchar', 'text') -%}
            {%- do column_types.update({column: string_type()}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(model) }}
{%- endmacro %}
