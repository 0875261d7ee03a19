"""Quarantined rows in the period gate: the rows a landing file carried that broke their contract.

A quarantined row often cannot be placed in a tenant or a period (its tenant or timestamp is what is
broken), so the gate judges files, not periods, as it judges dbt tests: every gate sees every file.
- A file whose quarantined share of rows is above its dataset's `max_quarantine_rate` is sick: blocking.
  The fix (docs/runbooks/period-close.md) is a corrected file under the same name, which replaces the rows
  the old one carried, then `settld run`.
- Any other quarantined row is a warning that names the file, the count and the reasons.
Details list files by name with counts only, so a verdict stays reproducible.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ingestion.contracts import DATASETS
from settld.warehouse import Warehouse

FILES_SQL = """
select dataset, source_file, rows_in, rows_quarantined
from raw.load_files where rows_quarantined > 0 order by dataset, source_file
"""
REASONS_SQL = """
select dataset, source_file, reason_code, count(*) as row_count
from raw.quarantine group by dataset, source_file, reason_code order by dataset, source_file, reason_code
"""


def quarantined_files(db: Warehouse) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(sick files, files with a few quarantined rows), each with its counts and reasons."""
    reasons: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for row in db.query(REASONS_SQL):
        reasons[(row["dataset"], row["source_file"])][row["reason_code"]] = int(row["row_count"])
    sick, warned = [], []
    for row in db.query(FILES_SQL):
        rows_in, quarantined = int(row["rows_in"]), int(row["rows_quarantined"])
        threshold = DATASETS[row["dataset"]].max_quarantine_rate
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
