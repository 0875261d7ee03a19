{#-
    A staging model of an operator API table, typed: `select cast(<column> as <type>) as <name>, ...` from the
    source when the API database is attached, else an empty relation of the same columns and types (so the
    models downstream still build). `columns` is a list of (name, type) or (name, type, source column).
-#}
{% macro operator_api_typed(source_relation, columns) -%}
    {%- if operator_api_enabled() %}
    select
        {%- for column in columns %}
        cast({{ column[2] if column | length > 2 else column[0] }} as {{ column[1] }}) as {{ column[0] }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ source_relation }}
    {%- else %}
    select
        {%- for column in columns %}
        cast(null as {{ column[1] }}) as {{ column[0] }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    where 1 = 0
    {%- endif %}
{%- endmacro %}

{#- The SLA (hours) the warehouse judges arbitration cases against; the API's queue default is the same. -#}
{% macro arbitration_sla_hours() -%}
    {{ var('arbitration_sla_hours', 24) }}
{%- endmacro %}
