"""`settld warehouse digest` (settld/warehouse_digest.py) on DuckDB: one line per mart, sorted; the digest
does not depend on row or column order and changes with any value. The Spark and Postgres digests of the
same marts are compared in tests/test_spark_parity.py (marker spark). Also the Spark SQL literal binding
the Spark warehouse relies on, which needs no JVM."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from settld.cli.main import app
from settld.spark import bind
from settld.warehouse_digest import multiset_digest, value_text

ROWS = [
    (1, "tnt_a", True, datetime(2026, 10, 1, 12, 0, 0, 5), Decimal("12.50"), None),
    (2, "tnt_b", False, datetime(2026, 10, 2), Decimal("7"), "x\ty"),
    (3, "tnt_c", None, None, None, ""),
]


def _warehouse(path: Path, rows: list[tuple], *, reversed_columns: bool = False) -> Path:
    columns = ["id bigint", "tenant_id varchar", "is_late boolean", "paid_at timestamp", "amount decimal(18,2)",
               "note varchar"]  # fmt: skip
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        order = list(reversed(range(len(columns)))) if reversed_columns else list(range(len(columns)))
        con.execute(f"create table marts.fct_b ({', '.join(columns[i] for i in order)})")
        for row in rows:
            con.execute(
                f"insert into marts.fct_b values ({', '.join('?' for _ in order)})", [row[i] for i in order]
            )
        con.execute("create table marts.fct_a (k varchar)")
        con.execute("create view marts.dim_c as select 1 as one")
        con.execute("create schema staging")
        con.execute("create table staging.stg_x as select 1 as one")  # not a mart: not digested
    return path


def _digest(path: Path) -> list[str]:
    result = CliRunner().invoke(app, ["warehouse", "digest", "--warehouse", str(path)])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_one_sorted_line_per_mart_independent_of_row_and_column_order(tmp_path: Path) -> None:
    first = _digest(_warehouse(tmp_path / "a.duckdb", ROWS))
    second = _digest(_warehouse(tmp_path / "b.duckdb", list(reversed(ROWS)), reversed_columns=True))
    assert [line.split()[:2] for line in first] == [
        ["marts.dim_c", "1"],
        ["marts.fct_a", "0"],
        ["marts.fct_b", "3"],
    ]
    assert all(len(line.split()[2]) == 64 for line in first)
    assert first == second


def test_any_changed_value_changes_the_digest(tmp_path: Path) -> None:
    base = _digest(_warehouse(tmp_path / "a.duckdb", ROWS))[2]
    changed = [ROWS[0], (2, "tnt_b", False, datetime(2026, 10, 2, 0, 0, 0, 1), Decimal("7"), "x\ty"), ROWS[2]]
    assert _digest(_warehouse(tmp_path / "b.duckdb", changed))[2] != base
    nulled = [ROWS[0], ROWS[1], (3, "tnt_c", None, None, None, None)]  # '' and null differ
    assert _digest(_warehouse(tmp_path / "c.duckdb", nulled))[2] != base


def test_values_of_every_engine_read_alike() -> None:
    """DuckDB, Postgres and Spark return the same value as different Python types: one text each."""
    assert value_text(Decimal("12.50")) == value_text(12.5) == "12.5"
    assert value_text(Decimal("7.00")) == value_text(7) == value_text(7.0) == "7"
    assert value_text(True) == "true" and value_text(None) == "\\N"
    assert value_text(datetime(2026, 1, 2)) == "2026-01-02 00:00:00.000000"
    assert multiset_digest(["a"], [{"a": 1}, {"a": 2}]) == multiset_digest(["a"], [{"a": 2}, {"a": 1}])
    assert multiset_digest(["a"], [{"a": 1}, {"a": 1}]) != multiset_digest(["a"], [{"a": 1}])


def test_spark_sql_binds_question_marks_outside_quotes_as_literals() -> None:
    sql = """select '?' as q, `a?`, 'say "?"' from marts."t" where k = ? and at < ? and ok = ? and n is ?"""
    bound = bind(sql, ["it's \\ here", datetime(2026, 1, 2, 3, 4, 5), True, None])
    assert bound == (
        "select '?' as q, `a?`, 'say \"?\"' from marts.`t` where k = 'it\\'s \\\\ here' and "
        "at < timestamp '2026-01-02 03:04:05' and ok = true and n is null"
    )
