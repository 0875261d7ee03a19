{#-
    Fails for every listed column that holds a null, with the number of rows that leave it empty.

    One test per model instead of one `not_null` test per column: the table is read once for all its
    columns, and a build runs one node where it ran a dozen (each dbt node and its Dagster asset check cost
    about as much as a demo-size query; docs/performance.md, "Fewer, wider test nodes"). A failing run names
    each column, as the per-column tests did; `failures` counts the empty cells.
-#}
{% test not_null_columns(model, columns) %}

{{ config(fail_calc='coalesce(sum(null_rows), 0)') }}

with

counted as (

    select
        {%- for column in columns %}
        sum(case when {{ column }} is null then 1 else 0 end) as nulls_{{ loop.index }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}

)

{% for column in columns %}
select '{{ column }}' as column_name, nulls_{{ loop.index }} as null_rows
from counted
where nulls_{{ loop.index }} > 0
{{ 'union all' if not loop.last }}
{% endfor %}

{% endtest %}
