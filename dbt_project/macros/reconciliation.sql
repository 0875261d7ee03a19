{#-
    The instant reconciliation judges "stale" against. Runs pass it explicitly so a rerun with the same
    inputs gives the same mismatches: Dagster in the environment variable SETTLD_DBT_AS_OF (from the run's
    `settld/as_of` tag; a var that changes every run would make dbt re-parse the whole project every run,
    docs/performance.md), or `--vars '{as_of: ...}'` (unit tests, by hand), which wins; without either,
    the time dbt started (UTC).
    Read only when dbt executes, never while it parses: dbt's partial parsing notes each environment
    variable a file reads while parsing and parses that file again whenever the value differs, so a parse
    that saw the variable unset and a build that sees it set would re-parse every model using the as-of
    (and their tests) in every build (docs/performance.md, "The as-of is not read while parsing").
-#}
{% macro reconciliation_as_of() -%}
    {%- if execute -%}
    cast('{{ var("as_of", env_var("SETTLD_DBT_AS_OF", run_started_at.strftime("%Y-%m-%d %H:%M:%S"))) }}' as timestamp)
    {%- else -%}
    cast(null as timestamp)
    {%- endif -%}
{%- endmacro %}

{#-
    `stale_in_flight`: the key's one live operation is still initiated or submitted when the as-of is past
    its period's end plus the grace days. One expression for the rule and for the incremental model's
    check of which keys the as-of has moved across their deadline.
-#}
{% macro stale_in_flight(live_operation_count, live_state, period_ends_at) -%}
    ({{ live_operation_count }} = 1
        and {{ live_state }} in ('initiated', 'submitted')
        and {{ reconciliation_as_of() }}
            > {{ dbt.dateadd('day', var('reconciliation_grace_days'), period_ends_at) }})
{%- endmacro %}

{#- First instant after a `YYYY-MM` period: the start of the next UTC month. -#}
{% macro period_end(period) -%}
    {{ dbt.dateadd('month', 1, "cast(" ~ period ~ " || '-01' as timestamp)") }}
{%- endmacro %}

{#- sha256 hex digest of a text expression (its UTF-8 bytes), lower-case hex. -#}
{% macro sha256_hex(expression) -%}
    {{ return(adapter.dispatch('sha256_hex', 'settld')(expression)) }}
{%- endmacro %}

{% macro default__sha256_hex(expression) -%}
    {{ adapter_not_supported('sha256_hex') }}
{%- endmacro %}

{% macro duckdb__sha256_hex(expression) -%}
    sha256({{ expression }})
{%- endmacro %}

{% macro postgres__sha256_hex(expression) -%}
    encode(sha256(convert_to({{ expression }}, 'UTF8')), 'hex')
{%- endmacro %}

{% macro spark__sha256_hex(expression) -%}
    sha2(cast({{ expression }} as binary), 256)
{%- endmacro %}

{#-
    The stable id of a mismatch across re-runs, so triage decisions stick to it:
    frt_<yyyymm>_<first 24 hex of sha256(source, tenant, period, provider, type, key joined by newlines)>.
    reports.reconciliation.triage_key() computes the same value in Python.
-#}
{% macro triage_key(source_type, tenant_id, period, provider_id, mismatch_type, mismatch_key) -%}
    'frt_' || replace({{ period }}, '-', '') || '_' || substr({{ sha256_hex(
        source_type ~ " || chr(10) || " ~ tenant_id ~ " || chr(10) || " ~ period ~ " || chr(10) || coalesce("
        ~ provider_id ~ ", 'none') || chr(10) || " ~ mismatch_type ~ " || chr(10) || " ~ mismatch_key
    ) }}, 1, 24)
{%- endmacro %}
