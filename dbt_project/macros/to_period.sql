{#-
    The Settld period of a timestamp: its UTC calendar month as `YYYY-MM` text.
    Raw timestamps are naive and already hold UTC (Spark's session time zone is pinned to UTC), so no
    time-zone conversion happens here. Built from `extract` + `lpad`, which every engine shares; null in,
    null out.
-#}
{% macro to_period(ts) -%}
    {{ return(adapter.dispatch('to_period', 'settld')(ts)) }}
{%- endmacro %}

{% macro default__to_period(ts) -%}
    {{ adapter_not_supported('to_period') }}
{%- endmacro %}

{% macro duckdb__to_period(ts) -%}
    {{ to_period_from_parts(ts) }}
{%- endmacro %}

{% macro postgres__to_period(ts) -%}
    {{ to_period_from_parts(ts) }}
{%- endmacro %}

{% macro spark__to_period(ts) -%}
    {{ to_period_from_parts(ts) }}
{%- endmacro %}

{% macro to_period_from_parts(ts) -%}
    (
        lpad(cast(cast(extract(year from {{ ts }}) as integer) as {{ string_type() }}), 4, '0')
        || '-'
        || lpad(cast(cast(extract(month from {{ ts }}) as integer) as {{ string_type() }}), 2, '0')
    )
{%- endmacro %}
