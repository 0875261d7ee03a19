{#-
    A 64-bit hash of a row's key columns, to find the few keys that occur more than once without
    grouping ten million long text keys (docs/performance.md). Only ever a pre-filter: a row whose hash
    occurs once has a key that occurs once; rows whose hash repeats (a repeated key or, rarely, two keys
    that collide) go on to the exact logic over the real columns, so a collision costs a little work and
    never changes a result. Never stored or compared across engines: the values differ between them.
    No ANSI form: an engine without one uses the plain forms (`default__deduplicate`).
-#}
{% macro key_hash(columns) -%}
    {{ return(adapter.dispatch('key_hash', 'settld')(columns)) }}
{%- endmacro %}

{% macro default__key_hash(columns) -%}
    {{ adapter_not_supported('key_hash') }}
{%- endmacro %}

{% macro duckdb__key_hash(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__key_hash(columns) -%}
    xxhash64({{ columns | join(', ') }})
{%- endmacro %}

{% macro postgres__key_hash(columns) -%}
    hashtextextended(
        {%- for column in columns %}coalesce(cast({{ column }} as text), ''){% if not loop.last %} || chr(1) || {% endif %}{% endfor -%}
    , 0)
{%- endmacro %}

{#-
    The key hashes that occur more than once among the rows of `relation` (a CTE name or a relation):
    the rows whose key hash is not among them have a key that occurs once.
-#}
{% macro repeated_key_hashes(relation, columns) -%}
    select {{ key_hash(columns) }} as key_hash
    from {{ relation }}
    group by 1
    having count(*) > 1
{%- endmacro %}
