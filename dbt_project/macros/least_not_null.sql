{#-
    The smallest non-null value of a list of expressions (null only when all are null).
    `least` treats nulls differently across engines, so every argument is first replaced by
    itself-or-the-first-non-null-value: the fallback is one of the candidates, so it can never
    lower the minimum.
-#}
{% macro least_not_null(expressions) -%}
    {%- set fallback = 'coalesce(' ~ (expressions | join(', ')) ~ ')' -%}
    least(
        {%- for expression in expressions %}
        coalesce({{ expression }}, {{ fallback }}){{ ',' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}
