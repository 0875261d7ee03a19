{#-
    The operator API's database as a dbt source (models/staging/operator_api/_operator_api.yml).

    DuckDB: the API's SQLite file is attached read-only at the start of every run (`on-run-start`), under the
    catalog `operator_api`, when the var `operator_api_sqlite_path` names it; the sqlite extension is loaded
    from the pip wheel's file (`SETTLD_DUCKDB_SQLITE_EXTENSION`), since nothing can be downloaded.
    Postgres: the API's tables live in the warehouse's own database, in the schema the var
    `operator_api_schema` names; nothing is attached (the hook is a no-op).

    Without an API database the triage-backed models read an empty relation of the same shape
    (`operator_api_enabled()` is false).
-#}
{% macro operator_api_enabled() -%}
    {{ return(adapter.dispatch('operator_api_enabled', 'settld')()) }}
{%- endmacro %}

{% macro default__operator_api_enabled() -%}
    {{ return(target.type == 'duckdb' and var('operator_api_sqlite_path', '') != '') }}
{%- endmacro %}

{% macro postgres__operator_api_enabled() -%}
    {{ return(var('operator_api_schema', '') != '') }}
{%- endmacro %}

{% macro attach_operator_api() -%}
    {%- if target.type == 'duckdb' and operator_api_enabled() -%}
        {%- set extension = env_var('SETTLD_DUCKDB_SQLITE_EXTENSION', '') -%}
        {%- if extension %}load '{{ extension }}';{% endif %}
        attach if not exists '{{ var("operator_api_sqlite_path") }}' as operator_api (type sqlite, read_only)
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
