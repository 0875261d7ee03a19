{#-
    The `default__` of a dispatched macro that has no ANSI form: a compile error naming the macro and the
    adapter, instead of engine-specific SQL failing at run time. Each such macro has a `duckdb__` and a
    `postgres__` form; another engine gets its own beside them.
-#}
{% macro adapter_not_supported(macro_name) -%}
    {{ exceptions.raise_compiler_error(
        macro_name ~ " has no form for adapter '" ~ target.type ~ "': add " ~ target.type ~ "__" ~ macro_name
        ~ " beside its duckdb__ and postgres__ forms"
    ) }}
{%- endmacro %}
