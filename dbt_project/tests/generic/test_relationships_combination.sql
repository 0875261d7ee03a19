{#-
    `relationships` for a composite key: every combination of `columns` in the model names a row of `to`
    (matched on `to_columns`, the same names by default). One failing row per combination that names
    none; rows with a null in the combination are not checked, as `relationships` skips null keys.

        data_tests:
          - relationships_combination:
              arguments:
                to: ref('int_billing__plans_resolved')
                columns: [tenant_id, period]
-#}
{% test relationships_combination(model, to, columns, to_columns=none) %}

{%- set to_columns = to_columns or columns %}

with

child_keys as (

    select distinct {{ columns | join(', ') }}
    from {{ model }}
    where {% for column in columns %}{{ column }} is not null{% if not loop.last %} and {% endif %}{% endfor %}

),

parent_keys as (

    select distinct {{ to_columns | join(', ') }}
    from {{ to }}

)

select child_keys.*
from child_keys
left join parent_keys
    on {% for column in columns -%}
        child_keys.{{ column }} = parent_keys.{{ to_columns[loop.index0] }}{% if not loop.last %} and {% endif %}
    {%- endfor %}
where parent_keys.{{ to_columns[0] }} is null

{% endtest %}
