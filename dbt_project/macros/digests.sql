{#-
    Row digests that DuckDB and Postgres compute byte for byte alike (the ReconcileReport.v1 input
    digests; docs/DECISIONLOG.md "Report input digests").

    row_text: the fields of one row as text, separated by the unit separator chr(31); a null is `\N`
    (a value whose text is exactly `\N` digests like a null: the digest tells changed inputs from
    unchanged ones, it does not authenticate them).
    Timestamps enter as `epoch_microseconds` (an integer: no formatting differences between engines),
    integers in decimal.
-#}
{% macro row_text(expressions) -%}
    {%- set parts = [] -%}
    {%- for expression in expressions -%}
        {%- do parts.append("coalesce(cast(" ~ expression ~ " as " ~ dbt.type_string() ~ "), '\\N')") -%}
    {%- endfor -%}
    {{ parts | join(" || chr(31) || ") }}
{%- endmacro %}

{#- sha256 hex of the rows' texts in `order_by` order, separated by the record separator chr(30). -#}
{% macro rows_digest(row_text_expression, order_by) -%}
    {{ sha256_hex("coalesce(string_agg(" ~ row_text_expression ~ ", chr(30) order by " ~ order_by ~ "), '')") }}
{%- endmacro %}

{#- A naive UTC timestamp as whole microseconds since 1970-01-01T00:00:00Z (bigint). -#}
{% macro epoch_microseconds(ts) -%}
    {{ return(adapter.dispatch('epoch_microseconds', 'settld')(ts)) }}
{%- endmacro %}

{% macro default__epoch_microseconds(ts) -%}
    epoch_us({{ ts }})
{%- endmacro %}

{% macro postgres__epoch_microseconds(ts) -%}
    {#- extract(epoch ...) is numeric (exact) on Postgres 14 and later -#}
    cast(extract(epoch from {{ ts }}) * 1000000 as bigint)
{%- endmacro %}

{#- Epoch seconds (bigint) as a naive UTC timestamp. -#}
{% macro epoch_seconds_to_timestamp(seconds) -%}
    {{ return(adapter.dispatch('epoch_seconds_to_timestamp', 'settld')(seconds)) }}
{%- endmacro %}

{% macro default__epoch_seconds_to_timestamp(seconds) -%}
    make_timestamp({{ seconds }} * 1000000)
{%- endmacro %}

{% macro postgres__epoch_seconds_to_timestamp(seconds) -%}
    (to_timestamp({{ seconds }}) at time zone 'UTC')
{%- endmacro %}
