{#-
    The sum of integer cents as a bigint on both engines, never a decimal: Postgres widens sum(bigint) to
    numeric (a Decimal in Python) and DuckDB to HUGEINT. Marts cast every column anyway; this is for sums
    that reach a table without a contract. A sum beyond the bigint range fails loudly rather than wrapping.
-#}
{% macro sum_cents(expression) -%}
    cast(sum({{ expression }}) as bigint)
{%- endmacro %}
