{#-
    Row digests that DuckDB, Postgres and Spark compute byte for byte alike (the ReconcileReport.v1 input
    digests; docs/DECISIONLOG.md "Report input digests").

    row_text: the fields of one row as text, separated by the unit separator chr(31); a null is `\N`
    (a value whose text is exactly `\N` digests like a null: the digest tells changed inputs from
    unchanged ones, it does not authenticate them).
    Timestamps enter as `epoch_microseconds` (an integer: no formatting differences between engines),
    integers in decimal. The backslash is `chr(92)`: Spark reads a backslash in a
    string literal as an escape (`'\N'` would be `N` there).
-#}
{% macro row_text(expressions) -%}
    {%- set parts = [] -%}
    {%- for expression in expressions -%}
        {%- do parts.append("coalesce(cast(" ~ expression ~ " as " ~ dbt.type_string() ~ "), chr(92) || 'N')") -%}
    {%- endfor -%}
    {{ parts | join(" || chr(31) || ") }}
{%- endmacro %}

{#-
    A multiset digest of rows: each row's md5 hex (`row_hash`, 32 hex digits) gives four 32-bit words; the digest is the sha256 hex of "<rows>|<sum of word 1>|...|<sum of word 4>" (exact integer
    sums: 2^32 x 2^31 rows stays inside a bigint). It does not depend on row order, so it needs no sort
    and no string of all rows, and both engines compute the same text. Additive digests can be collided on
    purpose: it tells changed inputs from unchanged ones; the landing files' sha256 authenticate them.
-#}
{% macro multiset_digest(row_hash) -%}
    {%- set parts = ["cast(count(*) as " ~ dbt.type_string() ~ ")"] -%}
    {%- for word in range(4) -%}
        {%- do parts.append("cast(cast(sum(" ~ hex32_to_bigint("substr(" ~ row_hash ~ ", " ~ (word * 8 + 1) ~ ", 8)")
            ~ ") as bigint) as " ~ dbt.type_string() ~ ")") -%}
    {%- endfor -%}
    {{ sha256_hex(parts | join(" || '|' || ")) }}
{%- endmacro %}

{#- Eight hex digits as a bigint. -#}
{% macro hex32_to_bigint(hex8) -%}
    {{ return(adapter.dispatch('hex32_to_bigint', 'settld')(hex8)) }}
{%- endmacro %}

{% macro default__hex32_to_bigint(hex8) -%}
    {{ adapter_not_supported('hex32_to_bigint') }}
{%- endmacro %}

{% macro duckdb__hex32_to_bigint(hex8) -%}
    cast('0x' || {{ hex8 }} as bigint)
{%- endmacro %}

{% macro postgres__hex32_to_bigint(hex8) -%}
    cast(cast('x' || lpad({{ hex8 }}, 16, '0') as bit(64)) as bigint)
{%- endmacro %}

{% macro spark__hex32_to_bigint(hex8) -%}
    cast(conv({{ hex8 }}, 16, 10) as bigint)
{%- endmacro %}

{#- A naive UTC timestamp as whole microseconds since 1970-01-01T00:00:00Z (bigint). -#}
{% macro epoch_microseconds(ts) -%}
    {{ return(adapter.dispatch('epoch_microseconds', 'settld')(ts)) }}
{%- endmacro %}

{% macro default__epoch_microseconds(ts) -%}
    {{ adapter_not_supported('epoch_microseconds') }}
{%- endmacro %}

{% macro duckdb__epoch_microseconds(ts) -%}
    epoch_us({{ ts }})
{%- endmacro %}

{% macro postgres__epoch_microseconds(ts) -%}
    {#- extract(epoch ...) is numeric (exact) on Postgres 14 and later -#}
    cast(extract(epoch from {{ ts }}) * 1000000 as bigint)
{%- endmacro %}

{% macro spark__epoch_microseconds(ts) -%}
    {#- Spark's timestamp is an instant read in the session time zone, which the profile pins to UTC. -#}
    unix_micros(cast({{ ts }} as timestamp))
{%- endmacro %}

{#- Epoch seconds (bigint) as a naive UTC timestamp. -#}
{% macro epoch_seconds_to_timestamp(seconds) -%}
    {{ return(adapter.dispatch('epoch_seconds_to_timestamp', 'settld')(seconds)) }}
{%- endmacro %}

{% macro default__epoch_seconds_to_timestamp(seconds) -%}
    {{ adapter_not_supported('epoch_seconds_to_timestamp') }}
{%- endmacro %}

{% macro duckdb__epoch_seconds_to_timestamp(seconds) -%}
    make_timestamp({{ seconds }} * 1000000)
{%- endmacro %}

{% macro postgres__epoch_seconds_to_timestamp(seconds) -%}
    (to_timestamp({{ seconds }}) at time zone 'UTC')
{%- endmacro %}

{% macro spark__epoch_seconds_to_timestamp(seconds) -%}
    timestamp_seconds({{ seconds }})
{%- endmacro %}

{#-
    `dbt run-operation mart_digests`: one line per mart, `marts.<table> <rows> <digest>`, sorted, with the
    multiset digest of its rows (columns in name order; timestamps as epoch microseconds, everything else
    as text), so two warehouses on any engines compare with `diff`. Printed on stdout.
-#}
{% macro mart_digests() -%}
    {%- set lines = [] -%}
    {%- for node in graph.nodes.values()
            if node.resource_type == 'model' and node.schema == 'marts' and node.config.materialized == 'table' -%}
        {%- set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
        {%- set fields = [] -%}
        {%- for column in adapter.get_columns_in_relation(relation) | sort(attribute='name') -%}
            {%- do fields.append(epoch_microseconds(column.name) if 'timestamp' in column.data_type | lower
                else column.name) -%}
        {%- endfor -%}
        {%- set query -%}
            select cast(count(*) as bigint) as row_count, {{ multiset_digest(dbt.hash(row_text(fields))) }} as digest
            from {{ relation }}
        {%- endset -%}
        {%- set row = run_query(query).rows[0] -%}
        {%- do lines.append(node.schema ~ '.' ~ node.alias ~ ' ' ~ row[0] ~ ' ' ~ row[1]) -%}
    {%- endfor -%}
    {%- for line in lines | sort %}{{ print(line) }}{% endfor -%}
{%- endmacro %}
