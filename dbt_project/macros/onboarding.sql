{#-
    Durations and percentiles of the onboarding funnel, alike on DuckDB and Postgres
    (docs/DECISIONLOG.md, "Onboarding").

    seconds_between(start, end): whole seconds from `start` to `end` (naive UTC timestamps), floored at 0
    as the old service did (a step stamped before the one before it took no time); null if either is null.

    percentile_seconds(expression, fraction): the continuous percentile (interpolated between the two
    nearest values, so an even count's median is the mean of the middle two), rounded half up to whole
    seconds. `percentile_cont ... within group` is standard SQL that both engines run; the rounding is
    spelt out because a cast of a double to bigint rounds half to even on Postgres and half away from
    zero on DuckDB.
-#}
{% macro seconds_between(start, end) -%}
    {%- set start_us = epoch_microseconds(start) -%}
    {%- set end_us = epoch_microseconds(end) -%}
    case
        when {{ start }} is null or {{ end }} is null then null
        when {{ end_us }} <= {{ start_us }} then 0
        else {{ floor_divide(end_us ~ ' - ' ~ start_us, 1000000) }}
    end
{%- endmacro %}

{% macro percentile_seconds(expression, fraction) -%}
    cast(floor(percentile_cont({{ fraction }}) within group (order by {{ expression }}) + 0.5) as bigint)
{%- endmacro %}
