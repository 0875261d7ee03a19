"""Quarantined rows and rejected files in the period gate: what of a landing file did not reach raw.

A quarantined row often cannot be placed in a tenant or a period (its tenant or timestamp is what is
broken), so the gate judges files, not periods, as it judges dbt tests: every gate sees every file.
- A file whose quarantined share of rows is above its dataset's `max_quarantine_rate` is sick: blocking.
  The fix (docs/runbooks/period-close.md) is a corrected file under the same name, which replaces the rows
  the old one carried, then `settld run`.
- Any other quarantined row is a warning that names the file, the count and the reasons.
- A rejected file (status `rejected` in the ledger: none of its rows are in raw) blocks, with its reason.
  A dataset quarantined above its threshold has at least one file above it, so the per-file rule covers it.
The threshold is the contract's unless the settings override it (`max_quarantine_rate`), as for the run.
Details list files by name with counts and reason codes only, so a verdict stays reproducible.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from ingestion.contracts import DATASETS
from settld.warehouse import Warehouse

FILES_SQL = """
select dataset, source_file, rows_in, rows_quarantined
from raw.load_files where status = 'loaded' and rows_quarantined > 0 order by dataset, source_file
"""
REJECTED_SQL = """
select dataset, source_file, reason, reason_detail
from raw.load_files where status = 'rejected' order by dataset, source_file
"""
REASONS_SQL = """
select dataset, source_file, reason_code, count(*) as row_count
from raw.quarantine group by dataset, source_file, reason_code order by dataset, source_file, reason_code
"""


def rejected_files(db: Warehouse) -> list[dict[str, Any]]:
    """Landing files the loader rejected, with their reason code and detail."""
    return [
        {"dataset": row["dataset"], "sourceFile": row["source_file"], "reason": row["reason"],
         "reasonDetail": row["reason_detail"]}
        for row in db.query(REJECTED_SQL)
    ]  # fmt: skip


def quarantined_files(
    db: Warehouse, max_quarantine_rate: Mapping[str, float] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(sick files, files with a few quarantined rows), each with its counts and reasons; a dataset's
    threshold is `max_quarantine_rate[dataset]` when given, else its contract's."""
    overrides = max_quarantine_rate or {}
    reasons: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for row in db.query(REASONS_SQL):
        reasons[(row["dataset"], row["source_file"])][row["reason_code"]] = int(row["row_count"])
    sick, warned = [], []
    for row in db.query(FILES_SQL):
        rows_in, quarantined = int(row["rows_in"]), int(row["rows_quarantined"])
        threshold = overrides.get(row["dataset"], DATASETS[row["dataset"]].max_quarantine_rate)
        entry = {
            "dataset": row["dataset"],
            "sourceFile": row["source_file"],
            "rowsIn": rows_in,
            "rowsQuarantined": quarantined,
            "maxQuarantineRatePercent": round(threshold * 100, 2),
            "reasons": reasons.get((row["dataset"], row["source_file"]), {}),
        }
        (sick if quarantined > threshold * rows_in else warned).append(entry)
    return sick, warned
