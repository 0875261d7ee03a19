{#-
    A portable md5 surrogate key over several expressions (like dbt_utils' generate_surrogate_key,
    which we cannot install offline). Values are cast to text, nulls become a marker distinct from
    the empty string, and a separator keeps ('ab', 'c') apart from ('a', 'bc').
-#}
{% macro surrogate_key(expressions) -%}
    {%- set parts = [] -%}
    {%- for expression in expressions -%}
        {%- do parts.append("coalesce(cast(" ~ expression ~ " as " ~ dbt.type_string() ~ "), '_null_')") -%}
        {%- if not loop.last -%}{%- do parts.append("'|'") -%}{%- endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}
