{#-
    Fails for every combination of the given columns that occurs more than once.

    The combinations are first grouped by their 64-bit hash (macro key_hash), and only the rows whose
    hash repeats are grouped by the real columns: equal combinations have equal hashes, so every
    repeated combination is among those rows, and a collision only adds a row to the exact grouping.
    Grouping ten million long text keys directly cost more than the models it checked
    (docs/performance.md). Nulls group together, as in a plain `group by`.
-#}
{% test unique_combination(model, combination_of_columns) %}

with

-- `not_materialized()`: read twice below; DuckDB would otherwise copy every row first.
checked as {{ not_materialized() }} (

    select {{ combination_of_columns | join(', ') }}
    from {{ model }}

),

repeated_hashes as (

    {{ repeated_key_hashes('checked', combination_of_columns) }}

),

grouped as (

    select
        {{ combination_of_columns | join(', ') }},
        count(*) as occurrences
    from checked
    where {{ key_hash(combination_of_columns) }} in (select key_hash from repeated_hashes)
    group by {{ combination_of_columns | join(', ') }}

)

select *
from grouped
where occurrences > 1

{% endtest %}
