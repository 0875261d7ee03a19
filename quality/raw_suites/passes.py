"""Landing files whose raw rows passed their dataset's suite, so a daily run does not validate them again.

The daily run's raw-suite check validates the rows of every loaded file that has no pass yet, and when
the dataset's suite comes back clean (every expectation met, no unexpected row, nothing raised) it records
a pass for each of those files in `audit.raw_suite_passes`. A pass names the file's load exactly: path,
content hash and load time (a reload of the same path, corrected or not, gets a new load time), and the
suite it passed (`suite_hash`: the expectations as data, and the great-expectations version). Any change
to one of them and the file is validated again. A suite with a failure or a warning records nothing, so
a bad file is validated on every run until it is replaced; rows no ledger file accounts for are validated
on every run.

The period gate of the daily run reuses these passes: it validates only the period's rows of files
without one and counts the rest in SQL (`batched.py`); its verdict says so (`geValidation`), and a close
refuses such a verdict. `settld gate`, which decides a close, validates every row of the period
(docs/DECISIONLOG.md, "Reusing raw-suite passes").

Every suite expectation is a rule of one row or a uniqueness within one delivery file (`catalogue.py`),
so a file that passed passes again as long as its rows are the same rows, and a period's share of it
passes too.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.metadata import version
from typing import Any

from quality.raw_suites.catalogue import CHECKS, _require_dataset
from settld.core import sha256_hex

SCHEMA = "audit"
NAME = "raw_suite_passes"
TABLE = f"{SCHEMA}.{NAME}"
COLUMNS = ("pass_key", "dataset", "source_file", "file_sha256", "loaded_at", "suite_hash")
DDL = f"""
create table if not exists {TABLE} (
    pass_key varchar not null,
    dataset varchar not null,
    source_file varchar not null,
    file_sha256 varchar not null,
    loaded_at timestamp not null,
    suite_hash varchar not null
)"""


@cache
def suite_hash(dataset: str) -> str:
    """The dataset's suite as it validates today: its expectations and the great-expectations version."""
    _require_dataset(dataset)
    checks = [[c.check_id, c.expectation, dict(c.kwargs), c.blocking, c.condition] for c in CHECKS[dataset]]
    document = {"checks": checks, "great_expectations": version("great_expectations")}
    return sha256_hex(json.dumps(document, sort_keys=True, default=repr))


def _pending(columns: str) -> str:
    """The dataset's loaded files without a pass of today's suite for their current load (parameters:
    the suite hash, the dataset)."""
    return (
        f"select {columns} from raw.load_files f left join {TABLE} p "
        "on p.dataset = f.dataset and p.source_file = f.source_file and p.file_sha256 = f.file_sha256 "
        "and p.loaded_at = f.loaded_at and p.suite_hash = ? "
        "where f.dataset = ? and f.status = 'loaded' and p.source_file is null"
    )


def not_yet_passed(dataset: str) -> tuple[str, list[Any]]:
    """A condition on `raw.<dataset>` (and its parameters) that keeps the rows of loaded files without a
    pass, and rows no loaded file accounts for. `audit.raw_suite_passes` must exist (`ensure_table`)."""
    sql = (
        "(_source_file is null "
        "or _source_file not in (select source_file from raw.load_files where dataset = ? and status = 'loaded') "
        f"or _source_file in ({_pending('f.source_file')}))"
    )
    return sql, [dataset, suite_hash(dataset), dataset]


def ensure_table(warehouse) -> None:
    warehouse.upsert_rows(DDL, TABLE, COLUMNS, [])


def has_table(warehouse) -> bool:
    return NAME in warehouse.relations(SCHEMA)


def pending_files(warehouse, dataset: str) -> list[dict[str, Any]]:
    """The dataset's loaded files without a pass: what `not_yet_passed` selects, file by file."""
    columns = "f.source_file, f.file_sha256, f.loaded_at"
    return warehouse.query(f"{_pending(columns)} order by f.source_file", [suite_hash(dataset), dataset])


def is_clean(outcomes) -> bool:
    """Every expectation met with no unexpected row and no error: what a pass requires (and what lets the
    gate derive each tenant's outcome from one validation, batched.py)."""
    return all(o.success and o.unexpected_count == 0 and "error" not in o.details for o in outcomes)


def record_passes(warehouse, dataset: str, files: list[dict[str, Any]]) -> None:
    """Record that `files` (rows of `pending_files`) passed today's suite."""
    digest = suite_hash(dataset)
    rows = [
        (f"{dataset}/{f['source_file']}", dataset, f["source_file"], f["file_sha256"], f["loaded_at"], digest)
        for f in files
    ]
    warehouse.upsert_rows(DDL, TABLE, COLUMNS, rows)
