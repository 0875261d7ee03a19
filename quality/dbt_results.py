"""dbt test outcomes kept in the warehouse (`audit.dbt_test_results`), so the period gate can read them.

The Dagster dbt asset records the tests of every `dbt build` right after it, passed or not, keyed by the
test's unique_id: the table holds the latest outcome of every data test and unit test that has run (a
partial build updates only its own tests), with the model each one is attached to. A gate that finds no
table (no build yet) fails closed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from settld.warehouse import Warehouse

TABLE = "audit.dbt_test_results"
COLUMNS = (
    "unique_id", "test_name", "test_type", "attached_node", "severity", "status", "failures", "message",
    "as_of",
)  # fmt: skip
DDL = f"""
create table if not exists {TABLE} (
    unique_id varchar not null,
    test_name varchar not null,
    test_type varchar not null,
    attached_node varchar,
    severity varchar,
    status varchar not null,
    failures bigint,
    message varchar,
    as_of timestamp not null
)"""
# dbt statuses of a test that did not pass (`warn` passes with a warning; `skipped` never ran: a failure
# upstream, which fails closed too).
FAILING_STATUSES = ("fail", "error", "skipped", "runtime error")


def test_result_rows(
    run_results: dict[str, Any], manifest: dict[str, Any], *, as_of: datetime
) -> list[tuple]:
    """One row per test node of a dbt invocation's run_results.json, sorted by unique_id (no invocation id
    or timing: the same build of the same inputs records the same rows)."""
    nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    rows = []
    for result in run_results.get("results", []):
        unique_id = result["unique_id"]
        test_type = unique_id.split(".", 1)[0]
        if test_type not in ("test", "unit_test"):
            continue
        node = nodes.get(unique_id, {})
        attached = node.get("attached_node") or (node.get("depends_on", {}).get("nodes") or [None])[0]
        if test_type == "unit_test":
            attached = attached or f"model.{node.get('package_name', '')}.{node.get('model', '')}"
        rows.append(
            (
                unique_id,
                node.get("name") or unique_id.split(".")[2],
                test_type,
                attached,
                (node.get("config") or {}).get("severity"),
                str(result.get("status")),
                result.get("failures"),
                (result.get("message") or None) and str(result["message"])[:2000],
                as_of,
            )
        )
    return sorted(rows)


def record_test_results(
    db: Warehouse, run_results: dict[str, Any], manifest: dict[str, Any], *, as_of: datetime
) -> int:
    rows = test_result_rows(run_results, manifest, as_of=as_of)
    db.upsert_rows(DDL, TABLE, COLUMNS, rows)
    return len(rows)


def read_test_results(db: Warehouse) -> list[dict[str, Any]] | None:
    """The latest build's test outcomes, or None when no build has recorded any."""
    if "dbt_test_results" not in db.relations("audit"):
        return None
    return db.query(f"select * from {TABLE} order by unique_id")


def build_as_of(db: Warehouse) -> datetime | None:
    """The as-of instant of the latest dbt build the warehouse records (its tests' `as_of`: the run's
    `--as-of`), or None before any build. A gate verdict names it, and a close takes it as its instant."""
    results = read_test_results(db)
    return max(row["as_of"] for row in results) if results else None
