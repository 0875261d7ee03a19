{#-
    Custom schemas are used verbatim (`staging`, `intermediate`, `marts`), on every target:
    the layers are part of the warehouse contract (docs/architecture.md section 3), so they must not
    be prefixed with the target schema as dbt does by default.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
