{#-
    The Settld period of a timestamp: its UTC calendar month as `YYYY-MM` text.
    Raw timestamps are naive and already hold UTC, so no time-zone conversion happens here.
    Built from `extract` + `lpad`, which DuckDB and Postgres share; null in, null out.
-#}
{% macro to_period(ts) -%}
    {{ return(adapter.dispatch('to_period', 'settld')(ts)) }}
{%- endmacro %}

{% macro default__to_period(ts) -%}
    (
        lpad(cast(cast(extract(year from {{ ts }}) as integer) as varchar), 4, '0')
        || '-'
        || lpad(cast(cast(extract(month from {{ ts }}) as integer) as varchar), 2, '0')
    )
{%- endmacro %}
