"""The dbt project is portable by construction (dbt_project/README.md, "Portable SQL"), read from the files:
no dbt run needed.

- models, tests and their YAML name no engine and use no engine's own syntax: what differs between
  DuckDB, Postgres and Spark goes through dbt's cross-database macros or a dispatched macro of ours;
- every dispatched macro of ours has a `duckdb__`, a `postgres__` and a `spark__` form, and its `default__`
  is a compile error naming it (adapter_not_supported), so a fourth engine never compiles another's SQL;
- contracts and seeds name only the portable types.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.dbt_rows import DBT_PROJECT_DIR

ENGINES = ("duckdb", "postgres", "spark")
# Engine-only spellings, each with what to write instead.
BANNED = {
    r"\b(duckdb|postgres(ql)?|spark|databricks|snowflake|bigquery)\b": "an engine's name (dispatch a macro)",
    r"\btarget\s*\.\s*type\b": "a branch on the engine (dispatch a macro)",
    r"\bvarchar\b": "{{ string_type() }} (Spark's varchar needs a length)",
    r"\bnot\s+materialized\b": "{{ not_materialized() }}",
    r"\bsha256\s*\(": "sha256_hex()",
    r"\bmd5\s*\(": "dbt.hash() or gl_line_md5()",
    r"\bepoch_us\s*\(|\bepoch\s*\(": "epoch_microseconds()",
    r"\bmake_timestamp\s*\(|\bto_timestamp\s*\(": "epoch_seconds_to_timestamp()",
    r"//": "floor_divide()",
    r"'0x'": "hex32_to_bigint()",
    r"\bstring_agg\s*\(|\blistagg\s*\(|\bgroup_concat\s*\(": "distinct_values_joined() or dbt.listagg()",
    r"::": "cast(... as ...)",
    r"\bqualify\b": "deduplicate()",
    r"\b(strftime|strptime|date_format)\s*\(": "to_period() or dbt's date macros",
    r"(?<![.\w])(hash|xxhash64|hashtext\w*)\s*\(": "key_hash()",
    r"\binterval\s+'": "dbt.dateadd()",
    r"\b(ilike|regexp_matches|list_\w+|struct_pack|unnest)\b": "portable SQL",
    r"'[^'\n]*\\[^'\n]*'": "chr(92) for a backslash (Spark reads it in a literal as an escape)",
}
# Outside Jinja only (Jinja's own strings may use double quotes).
BANNED_IN_SQL_TEXT = {
    r'(?<![\w\'])"\w+"(?![\w\'])': "{{ adapter.quote('name') }} (a double-quoted name is a string on Spark)",
}
PORTABLE_TYPES = {"varchar", "bigint", "integer", "boolean", "timestamp", "date"}
DISPATCH = re.compile(r"""adapter\.dispatch\(\s*['"](\w+)['"]\s*,\s*['"]settld['"]\s*\)""")


def _code_of_sql(text: str) -> str:
    """The SQL and Jinja a file runs: without Jinja comments and SQL line comments."""
    text = re.sub(r"\{#.*?#\}", "", text, flags=re.S)
    return "\n".join(line.split("--", 1)[0] for line in text.splitlines())


def _code_of_yaml(node: object) -> list[str]:
    """Every string a YAML file gives dbt, except descriptions (prose)."""
    if isinstance(node, dict):
        return [s for key, value in node.items() if key != "description" for s in _code_of_yaml(value)]
    if isinstance(node, list):
        return [s for item in node for s in _code_of_yaml(item)]
    return [node] if isinstance(node, str) else []


def _project_files() -> list[Path]:
    roots = [DBT_PROJECT_DIR / "models", DBT_PROJECT_DIR / "tests", DBT_PROJECT_DIR / "seeds"]
    return sorted(p for root in roots for p in root.rglob("*") if p.suffix in (".sql", ".yml"))


def _banned_in(text: str, rules: dict[str, str] = BANNED) -> list[str]:
    return [f"{match.group(0)!r}: use {instead}" for pattern, instead in rules.items()
            for match in re.finditer(pattern, text, flags=re.I)]  # fmt: skip


@pytest.mark.parametrize("path", _project_files(), ids=lambda p: str(p.relative_to(DBT_PROJECT_DIR)))
def test_models_and_tests_name_no_engine_and_use_no_engine_only_syntax(path: Path) -> None:
    text = path.read_text()
    if path.suffix == ".sql":
        code = _code_of_sql(text)
        sql_text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", code, flags=re.S)
        found = _banned_in(code) + _banned_in(sql_text, BANNED_IN_SQL_TEXT)
    else:
        # YAML: contract types and seed column_types are checked below; unit-test rows are data.
        document = yaml.safe_load(text) or {}
        for model in document.get("models", []) + document.get("seeds", []):
            for column in model.get("columns", []):
                column.pop("data_type", None)
            (model.get("config") or {}).pop("column_types", None)
        document.pop("unit_tests", None)
        found = [f"{s!r} -> {problem}" for s in _code_of_yaml(document) for problem in _banned_in(s)]
    assert not found, f"{path.relative_to(DBT_PROJECT_DIR)}: " + "; ".join(found)


def test_the_check_finds_what_it_bans() -> None:
    """The patterns are live: each banned spelling of the issue's review is caught."""
    sql = _code_of_sql(
        "select cast(x as varchar), sha256(y), epoch_us(z), make_timestamp(1), a // b, cast('0x' || h as bigint),\n"
        "string_agg(distinct f, ',' order by f) from t as not materialized  -- duckdb in a comment is prose\n"
        "{% if target.type == 'spark' %}{% endif %}"
    )
    found = " ".join(_banned_in(sql))
    for spelling in ("varchar", "sha256(", "epoch_us(", "make_timestamp(", "//", "'0x'", "string_agg(",
                     "not materialized", "target.type", "'spark'"):  # fmt: skip
        assert spelling in found, spelling
    assert "duckdb in a comment" not in found


def _macros() -> dict[str, str]:
    """Every macro of the project: name -> body."""
    found = {}
    for path in (DBT_PROJECT_DIR / "macros").rglob("*.sql"):
        for match in re.finditer(
            r"\{%-?\s*macro\s+(\w+)\s*\(.*?%\}(.*?)\{%-?\s*endmacro", path.read_text(), re.S
        ):
            assert match.group(1) not in found, f"macro {match.group(1)} is defined twice"
            found[match.group(1)] = match.group(2)
    return found


def test_every_dispatched_macro_has_a_form_per_engine_and_a_default_that_refuses() -> None:
    macros = _macros()
    dispatched = {name for body in macros.values() for name in DISPATCH.findall(body)}
    assert {"to_period", "deduplicate", "sha256_hex", "operator_api_enabled", "string_type"} <= dispatched
    for name in sorted(dispatched):
        for engine in ENGINES:
            assert f"{engine}__{name}" in macros, f"macro {name} has no {engine}__{name}"
        default = macros.get(f"default__{name}", "")
        assert f"adapter_not_supported('{name}')" in default, (
            f"default__{name} must be {{{{ adapter_not_supported('{name}') }}}}, not one engine's SQL"
        )


def _yaml_documents() -> list[dict]:
    return [yaml.safe_load(p.read_text()) or {} for p in _project_files() if p.suffix == ".yml"]


def test_contracts_and_seeds_name_only_portable_types() -> None:
    """The YAML cannot call a macro, so it names types every engine reads alike; on Spark a bare `varchar`
    is read as `string` (macros/dialect.sql)."""
    for document in _yaml_documents():
        for node in document.get("models", []) + document.get("seeds", []):
            types = {c["name"]: c["data_type"] for c in node.get("columns", []) if "data_type" in c}
            types |= (node.get("config") or {}).get("column_types", {})
            odd = {column: t for column, t in types.items() if t.strip().lower() not in PORTABLE_TYPES}
            assert not odd, f"{node['name']}: {odd} (portable types: {sorted(PORTABLE_TYPES)})"
