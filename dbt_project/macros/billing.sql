{#-
    Integer arithmetic for invoice lines (docs/DECISIONLOG.md ("Billing: usage and invoice drafts")). Money is never divided with
    `/` in SQL: on DuckDB `/` of two integers is a DOUBLE, on Postgres it is integer division.

    floor_divide(numerator, denominator): the quotient of two NON-NEGATIVE integers, rounded down, as a
    bigint. For non-negative operands truncation and floor agree, so DuckDB's `//`, Postgres' integer
    `/` and Spark's `div` give the same value. Every caller passes counts and cents, which are never negative.
-#}
{% macro floor_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('floor_divide', 'settld')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__floor_divide(numerator, denominator) -%}
    {{ adapter_not_supported('floor_divide') }}
{%- endmacro %}

{% macro duckdb__floor_divide(numerator, denominator) -%}
    (cast({{ numerator }} as bigint) // cast({{ denominator }} as bigint))
{%- endmacro %}

{% macro postgres__floor_divide(numerator, denominator) -%}
    (cast({{ numerator }} as bigint) / cast({{ denominator }} as bigint))
{%- endmacro %}

{% macro spark__floor_divide(numerator, denominator) -%}
    (cast({{ numerator }} as bigint) div cast({{ denominator }} as bigint))
{%- endmacro %}

{#-
    round_half_up_divide(numerator, denominator): numerator / denominator rounded half-up (2.5 -> 3),
    for non-negative integers: floor((numerator + floor(denominator / 2)) / denominator). The old
    service rounds overage milli-cents with JavaScript's Math.round, which is half-up; Python's round()
    and Postgres' round(numeric) would differ (banker's / half-away), so it is spelled out here.
    Only even denominators are used (1000), so denominator / 2 is exact.
-#}
{% macro round_half_up_divide(numerator, denominator) -%}
    {{ floor_divide("(" ~ numerator ~ ") + " ~ floor_divide(denominator, 2), denominator) }}
{%- endmacro %}

{#- The digest of no rows: sha256 of the empty text (the convention of the report input digests). -#}
{% macro empty_digest() -%}
    {{ sha256_hex("''") }}
{%- endmacro %}
