"""Contract-breaking rows: corrupted *extra copies* of real rows at deterministic positions.

Only JSON Lines and CSV files carry them (Parquet is typed). Each bad row breaks exactly one rule and is
named with a reason code of `ingestion.contracts.REASON_CODES`. Real exports break about one row in
2,000, and so do these. The files of the first generated period also show each applicable reason once, as
far as that stays under 5 % of the file's rows: half the default quarantine threshold (10 %,
`Dataset.max_quarantine_rate`), so a small generated zone (`--tenants 1`) is never a sick one, and a run
or a gate that stops on it has found a real fault.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from ingestion.contracts import REASON_CODES
from ingestion.finance_contracts import FINANCE_FOLDERS

ROWS_PER_MALFORMED = 2_000
# The first period's showcase of every reason stays under this share of a file's good rows.
SHOWCASE_MAX_SHARE = 0.05
_COMMON = (
    "invalid_integer",
    "invalid_enum",
    "invalid_period",
    "missing_required",
    "invalid_timestamp",
    "invalid_currency",
)
_ENUM = {
    "settlements": ("status", ("settled", "pending")),
    "payout_instructions": ("party_role", ("beneficiary", "merchant")),
    "money_rail_operations": ("state", ("completed", "processing")),
}
_TIMESTAMP = {
    "settlements": "locked_at",
    "payout_instructions": "created_at",
    "money_rail_operations": "initiated_at",
}
EXTRA_FIELD = "unexpected_extra_field"


def reasons_for(dataset: str, fmt: str) -> tuple[str, ...]:
    if dataset in FINANCE_FOLDERS:  # the kernel's books are kept clean: their problems are of meaning
        return ()
    reasons = tuple(r for r in _COMMON if r != "invalid_period" or dataset == "payout_instructions")
    reasons += ("invalid_json",) if fmt == "jsonl" else ("malformed_row",) if fmt == "csv" else ()
    assert set(reasons) <= set(REASON_CODES)
    return reasons if fmt in ("jsonl", "csv") else ()


def plan(dataset: str, fmt: str, rows: int, first_period: bool) -> list[tuple[int, str]]:
    """(index of the good row copied and followed by the bad copy, reason) in file order."""
    reasons = reasons_for(dataset, fmt)
    if not reasons or rows == 0:
        return []
    count = rows // ROWS_PER_MALFORMED
    if first_period:
        count = max(count, min(len(reasons), int(rows * SHOWCASE_MAX_SHARE)))
    count = min(count, rows)
    return [((2 * j + 1) * rows // (2 * count), reasons[j % len(reasons)]) for j in range(count)]


def corrupt(row: dict[str, Any], dataset: str, fmt: str, reason: str, variant: int) -> tuple[str, str | None]:
    """The text of one bad line (without newline) and the column it breaks (None for whole-row reasons)."""
    bad = dict(row)
    column: str | None = None
    if reason == "invalid_integer":
        column = "amount_cents"
        bad[column] = (12.5 if fmt == "jsonl" else "12.5") if variant % 2 == 0 else "abc"
    elif reason == "invalid_enum":
        column, values = _ENUM[dataset]
        bad[column] = values[variant % 2]
    elif reason == "invalid_period":
        column = "period"
        bad[column] = "2026-13"
    elif reason == "missing_required":
        column = "tenant_id"
        bad[column] = ""
    elif reason == "invalid_timestamp":
        column = _TIMESTAMP[dataset]
        bad[column] = "2026-02-30T10:00:00Z"
    elif reason == "invalid_currency":
        column = "currency"
        bad[column] = str(row["currency"]).lower()
    if fmt == "jsonl":
        line = json.dumps(bad, separators=(",", ":"), ensure_ascii=False)
        if reason == "invalid_json":
            line = line[: max(1, len(line) // 2)]
        return line, column
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(["" if v is None else v for v in bad.values()])
    line = buffer.getvalue().rstrip("\n")
    if reason == "malformed_row":
        line += "," + EXTRA_FIELD
    return line, column
