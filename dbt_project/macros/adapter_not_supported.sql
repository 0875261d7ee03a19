{#-
    The `default__` of a dispatched macro: a compile error naming the macro and the adapter, instead of
    another engine's SQL failing at run time (or, worse, running). Each dispatched macro of the project has
    a `duckdb__`, a `postgres__` and a `spark__` form; another engine gets its own beside them.
-#}
{% macro adapter_not_supported(macro_name) -%}
    {{ exceptions.raise_compiler_error(
        macro_name ~ " has no form for adapter '" ~ target.type ~ "': add " ~ target.type ~ "__" ~ macro_name
        ~ " beside its duckdb__, postgres__ and spark__ forms"
    ) }}
{%- endmacro %}
