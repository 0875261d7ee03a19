"""The `deduplicate` macro (dbt_project/macros/deduplicate.sql): its plain ANSI form (Spark's) and the form
tuned for DuckDB and Postgres keep the same rows, the first of each key in the given order.

The tuned form sends only the keys whose 64-bit hash repeats through the window; these rows put many
versions on few keys, single rows beside them, nulls in the key (grouped like any value) and ties on the
version broken by the file and row. On Postgres, tests/test_postgres_warehouse.py compares every staging
table with DuckDB's.
"""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pytest

from tests.dbt_rows import DBT_PROJECT_DIR

pytestmark = pytest.mark.slow

COLUMNS = ["tenant_id", "record_id", "version", "_source_file", "_source_row"]
KEY = ["tenant_id", "record_id"]
ORDER_BY = "version desc, _source_file desc, _source_row desc"
FORMS = ("deduplicate_ranked", "duckdb__deduplicate")


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each form compiled by dbt for the DuckDB target, over a relation named `rows_in`."""
    from dbt.cli.main import dbtRunner

    target = tmp_path_factory.mktemp("dbt_inline")
    forms = {}
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("SETTLD_DBT_TARGET", "duckdb")
        monkeypatch.setenv("SETTLD_DUCKDB_PATH", str(target / "unused.duckdb"))
        for form in FORMS:
            call = f"{{{{ settld.{form}('rows_in', {KEY}, '{ORDER_BY}', {COLUMNS}) }}}}"
            result = dbtRunner().invoke(
                ["compile", "--inline", call, "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
                 "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(target), "--log-path", str(target)]
            )  # fmt: skip
            assert result.success, result.exception
            forms[form] = result.result.results[0].node.compiled_code
    return forms


def _rows(seed: int) -> list[tuple]:
    generator = random.Random(seed)
    rows = []
    for source_row in range(400):
        tenant = generator.choice(["t1", "t2", None])
        # Few keys with many versions, and many keys seen once.
        record = generator.choice(["r1", "r2", "r3", None]) if source_row % 2 else f"single_{source_row}"
        version = generator.randint(1, 4)  # ties are common: the file and row break them
        rows.append((tenant, record, version, generator.choice(["a.jsonl", "b.jsonl"]), source_row))
    return rows


def _expected(rows: list[tuple]) -> list[tuple]:
    first: dict[tuple, tuple] = {}
    for row in rows:
        key = row[:2]
        if key not in first or row[2:] > first[key][2:]:
            first[key] = row
    return sorted(first.values(), key=repr)


def _run(compiled_select: str, rows: list[tuple]) -> list[tuple]:
    con = duckdb.connect()
    try:
        con.execute(
            "create table rows_in (tenant_id varchar, record_id varchar, version integer, "
            "_source_file varchar, _source_row bigint)"
        )
        con.executemany("insert into rows_in values (?, ?, ?, ?, ?)", rows)
        return sorted(con.execute(f"with deduplicated as ({compiled_select}) select * from deduplicated").fetchall(),
                      key=repr)  # fmt: skip
    finally:
        con.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_form_keeps_the_first_row_of_each_key(compiled: dict[str, str], seed: int) -> None:
    rows = _rows(seed)
    expected = _expected(rows)
    assert len(expected) < len(rows)  # the rows do repeat keys
    for form, select in compiled.items():
        assert _run(select, rows) == expected, form


def test_the_tuned_form_windows_only_the_repeated_keys(compiled: dict[str, str]) -> None:
    """The performance trick stays in the tuned form: one row_number() over the rows whose key hash repeats."""
    tuned, plain = compiled["duckdb__deduplicate"], compiled["deduplicate_ranked"]
    assert "having count(*) > 1" in tuned and tuned.count("row_number()") == 1
    assert "hash(" not in plain and plain.count("row_number()") == 1


def test_the_staging_models_use_the_macro() -> None:
    models = DBT_PROJECT_DIR / "models" / "staging"
    for model in ("stg_settlement_kernel__settlements", "stg_money_rails__operations", "stg_stripe__events"):
        sql = next(Path(models).rglob(f"{model}.sql")).read_text()
        assert "{{ deduplicate(" in sql and "row_number()" not in sql, model
