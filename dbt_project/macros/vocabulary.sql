{#-
    The values of one column of a seed, as a Jinja list, for SQL that needs the list itself: a pivot with
    one column per word, or one branch per rule. Seeds are the vocabularies (mismatch types, severities,
    triage statuses, webhook rejection reasons): each list lives once, in its CSV, which
    settld/vocabulary.py reads too (docs/DECISIONLOG.md, "Vocabularies"). Where SQL only needs to match a
    word, join the seed instead, and test columns with `relationships` to it, never `accepted_values`.

    The seed is read from the warehouse when the model compiles, so dbt must build it first: a model that
    calls this also refs the seed (`-- depends_on: {{ ref('<seed>') }}` when it reads nothing else of it).
    It is read from the seeds' schema (`reference`, dbt_project.yml) rather than through `ref`, which unit
    tests replace by their fixtures: a unit test sees the real vocabulary (give the seed as an input
    without rows, which is the seed's own file). Before execution (parsing) the list is empty.
-#}
{% macro seed_values(seed_name, column, where=none, order_by=none) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set seed = api.Relation.create(database=target.get('database'), schema='reference', identifier=seed_name) -%}
    {%- set query -%}
        select {{ column }} from {{ seed }}
        {%- if where %} where {{ where }}{% endif %}
        order by {{ order_by or column }}
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}
