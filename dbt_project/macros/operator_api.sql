{#-
    The operator API's database as a dbt source (models/staging/operator_api/_operator_api__sources.yml).

    DuckDB: the API's SQLite file is attached read-only at the start of every run (`on-run-start`), under the
    catalog `operator_api`, when the var `operator_api_sqlite_path` names it; the sqlite extension is loaded
    from the pip wheel's file (`SETTLD_DUCKDB_SQLITE_EXTENSION`), since nothing can be downloaded.
    Postgres: the API's tables live in the warehouse's own database, in the schema the var
    `operator_api_schema` names; nothing is attached (the hook is a no-op).
    Spark: the pipeline writes a snapshot of the API's tables into the Spark database `operator_api` (same
    table and column names) at the start of a run and sets the var `operator_api_snapshot` to 'true';
    nothing is attached.

    Without an API database the triage-backed models read an empty relation of the same shape
    (`operator_api_enabled()` is false). operator_api_database() and operator_api_schema() name where the
    source's tables are when it is enabled.
-#}
{% macro operator_api_enabled() -%}
    {{ return(adapter.dispatch('operator_api_enabled', 'settld')()) }}
{%- endmacro %}

{% macro default__operator_api_enabled() -%}
    {{ adapter_not_supported('operator_api_enabled') }}
{%- endmacro %}

{% macro duckdb__operator_api_enabled() -%}
    {{ return(var('operator_api_sqlite_path', '') != '') }}
{%- endmacro %}

{% macro postgres__operator_api_enabled() -%}
    {{ return(var('operator_api_schema', '') != '') }}
{%- endmacro %}

{% macro spark__operator_api_enabled() -%}
    {{ return(var('operator_api_snapshot', 'false') | string | lower == 'true') }}
{%- endmacro %}

{% macro attach_operator_api() -%}
    {{ return(adapter.dispatch('attach_operator_api', 'settld')()) }}
{%- endmacro %}

{% macro default__attach_operator_api() -%}
    {{ adapter_not_supported('attach_operator_api') }}
{%- endmacro %}

{% macro duckdb__attach_operator_api() -%}
    {%- if operator_api_enabled() -%}
        {%- set extension = env_var('SETTLD_DUCKDB_SQLITE_EXTENSION', '') -%}
        {%- if extension %}load '{{ extension }}';{% endif %}
        attach if not exists '{{ var("operator_api_sqlite_path") }}' as operator_api (type sqlite, read_only)
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro postgres__attach_operator_api() -%}
    select 1
{%- endmacro %}

{% macro spark__attach_operator_api() -%}
    select 1
{%- endmacro %}
