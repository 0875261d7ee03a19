{#-
    Incremental models (docs/DECISIONLOG.md, "Incremental runs"). The models whose rows are functions of
    one key's raw rows (a payout key's instructions, an operation's versions, a payout key's
    instructions and operations) rebuild only the keys that changed since their last build:

    - every row carries `_loaded_at`, the newest load the build that wrote it had seen; the largest
      in the table is the model's watermark (`loaded_through()`);
    - a key changed when a raw row of it was loaded after the watermark, or `raw.load_deletions` records
      a row of it leaving raw after the watermark (a corrected file, a file now rejected);
    - the pre-hook `forget_deleted_keys` removes the rows of keys with deletions, and dbt's delete+insert
      replaces the rows of every key the model's query returns (all of a changed key's rows, from raw).

    Recomputing a key twice is harmless, so a watermark that is too low costs work and never a result:
    the pre-hook may delete the rows that held the largest `_loaded_at`, and a full build's rows carry
    the newest raw load (not the newest deletion). Load times only ever grow (ingestion.loader.load_time).
    `settld run --full-refresh` rebuilds them whole; a change of a model's SQL needs it too.
-#}

{#- 'incremental' where dbt's delete+insert exists on the engine; 'table' on Spark's plain Parquet tables. -#}
{% macro incremental_or_table() -%}
    {{ return(adapter.dispatch('incremental_or_table', 'settld')()) }}
{%- endmacro %}

{% macro default__incremental_or_table() -%}
    {{ adapter_not_supported('incremental_or_table') }}
{%- endmacro %}

{% macro duckdb__incremental_or_table() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro postgres__incremental_or_table() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__incremental_or_table() -%}
    {{ return('table') }}
{%- endmacro %}

{#-
    The newest load the model's rows have seen (a scalar subquery); only in an incremental build. An empty
    table has seen nothing: every load is after the epoch.
-#}
{% macro loaded_through() -%}
    (select coalesce(max(_loaded_at), cast('1970-01-01 00:00:00' as timestamp)) from {{ this }})
{%- endmacro %}

{#-
    The newest load the build sees, for the `_loaded_at` of the rows it writes: the largest `_loaded_at`
    of `relations`, and in an incremental build also of the deletions of the `datasets`' rows
    (`deletions`: the relation of `raw.load_deletions` the model may read).
-#}
{% macro newest_load(relations, deletions, datasets) -%}
    (select max(moment) from (
        {%- for relation in relations %}
        select max(_loaded_at) as moment from {{ relation }}
        {%- if not loop.last %} union all{% endif %}
        {%- endfor %}
        {%- if is_incremental() %}
        union all
        select max(deleted_at) as moment from {{ deletions }}
        where dataset in ('{{ datasets | join("', '") }}')
        {%- endif %}
    ) as loads)
{%- endmacro %}

{#-
    Keys whose rows left raw after the model's watermark: `columns` of `deletions` (`raw.load_deletions`
    or its staging view) for the `datasets`, rows with a null key column left out (they match no row).
-#}
{% macro deleted_keys(deletions, datasets, columns) -%}
    select {{ columns | join(', ') }}
    from {{ deletions }}
    where dataset in ('{{ datasets | join("', '") }}')
        and deleted_at > {{ loaded_through() }}
        {%- for column in columns %}
        and {{ column }} is not null
        {%- endfor %}
{%- endmacro %}

{#-
    Keys with a row of `relation` loaded after the model's watermark, or a row of the `datasets` deleted
    after it (`deletions`): what an incremental build of a model keyed by `columns` recomputes.
-#}
{% macro keys_loaded_or_deleted_since(relation, deletions, datasets, columns) -%}
    select {{ columns | join(', ') }}
    from {{ relation }}
    where _loaded_at > {{ loaded_through() }}
    union
    {{ deleted_keys(deletions, datasets, columns) }}
{%- endmacro %}

{#- Pre-hook: the rows of keys with deletions go; the model's query writes back those keys still in raw. -#}
{% macro forget_deleted_keys(deletions, datasets, columns) -%}
    {%- if is_incremental() %}
    delete from {{ this }} as built
    where exists (
        select 1 from ({{ deleted_keys(deletions, datasets, columns) }}) as deleted
        where {% for column in columns %}deleted.{{ column }} = built.{{ column }}{% if not loop.last %} and {% endif %}{% endfor %}
    )
    {%- endif %}
{%- endmacro %}

{#- `alias` has a row with the same `columns` in `keys` (a CTE of distinct keys). -#}
{% macro among_keys(keys, alias, columns) -%}
    exists (
        select 1 from {{ keys }}
        where {% for column in columns %}{{ keys }}.{{ column }} = {{ alias }}.{{ column }}{% if not loop.last %} and {% endif %}{% endfor %}
    )
{%- endmacro %}

{#-
    Models rebuilt whole when an input changed and left as they are otherwise (the finance models over the
    kernel's books: they aggregate every key, and most days bring no file of the books). An input changed
    when one of `relations` (incremental models, whose rows carry `_loaded_at`) has a row written after
    this model's watermark, or `deletions` records a row of the `datasets` leaving raw after it. Such a
    model is incremental with `append`: its pre-hook `forget_all_when_inputs_changed` empties it when an
    input changed, and its query then returns every row; else each of its inputs, filtered by
    `inputs_changed`, reads nothing, so nothing is aggregated and no row returned. An empty table has seen
    nothing, so a model without rows is rebuilt on every run (correct, only not saved).
-#}
{% macro inputs_changed(relations, deletions, datasets) -%}
    (
        {%- for relation in relations %}
        exists (select 1 from {{ relation }} where _loaded_at > {{ loaded_through() }}) or
        {%- endfor %}
        exists (
            select 1 from {{ deletions }}
            where dataset in ('{{ datasets | join("', '") }}') and deleted_at > {{ loaded_through() }}
        )
    )
{%- endmacro %}

{% macro forget_all_when_inputs_changed(relations, deletions, datasets) -%}
    {%- if is_incremental() %}
    delete from {{ this }} where {{ inputs_changed(relations, deletions, datasets) }}
    {%- endif %}
{%- endmacro %}

{#-
    The config of a model rebuilt when its inputs change: `inputs` the names of the incremental models it
    reads, `datasets` the raw datasets behind them (their deletions count). In the model, filter each
    input's select with `when_inputs_changed` and write `inputs_loaded_at` as its `_loaded_at`.
-#}
{% macro rebuilt_when_inputs_change(inputs, datasets) -%}
-- depends_on: {{ ref('stg_ingestion__load_deletions') }}
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ forget_all_when_inputs_changed(input_refs(" ~ tojson(inputs) ~ "), ref('stg_ingestion__load_deletions'), " ~ tojson(datasets) ~ ") }}",
) }}
{%- endmacro %}

{% macro input_refs(inputs) -%}
    {%- set relations = [] %}
    {%- for name in inputs %}{% do relations.append(ref(name)) %}{% endfor %}
    {{- return(relations) }}
{%- endmacro %}

{% macro when_inputs_changed(inputs, datasets) -%}
    {%- if is_incremental() %}
    where {{ inputs_changed(input_refs(inputs), ref('stg_ingestion__load_deletions'), datasets) }}
    {%- endif %}
{%- endmacro %}

{% macro inputs_loaded_at(inputs, datasets) -%}
    {{ newest_load(input_refs(inputs), ref('stg_ingestion__load_deletions'), datasets) }}
{%- endmacro %}
