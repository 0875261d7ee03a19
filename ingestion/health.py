"""The raw layer's health per landing dataset, read from the ledger: what a run needs to fail loudly.

`landing_health(db)` gives, for each dataset: the files not loaded (rejected, duplicate) with their reason
and detail, the loaded files without records, the row counts of the loaded files, the quarantine rate
against the contract's `max_quarantine_rate` (over the dataset, and per file as the period gate judges
it, quality/quarantine.py), and the top quarantine reasons with sample rows. `DatasetHealth.problems` are
the lines that should stop a run (one per rejected file, one for a rate above the threshold);
`warnings` the lines a person must see anyway (duplicates, files without records).

It judges the ledger, i.e. the raw layer dbt is about to build on, on either engine (settld.warehouse).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ingestion.contracts import DATASETS
from settld.warehouse import Warehouse

FILES_SQL = """
select dataset, source_file, status, reason, reason_detail, rows_in, rows_loaded, rows_quarantined
from raw.load_files order by dataset, source_file
"""
REASONS_SQL = """
select dataset, reason_code, count(*) as row_count
from raw.quarantine group by dataset, reason_code order by dataset, row_count desc, reason_code
"""
SAMPLES_SQL = """
select source_file, source_row, reason_detail, raw_payload from raw.quarantine
where dataset = ? and reason_code = ? order by source_file, source_row limit ?
"""


@dataclass(frozen=True)
class FileVerdict:
    source_file: str
    status: str  # loaded | rejected | duplicate
    reason: str | None
    reason_detail: str | None
    rows_in: int
    rows_loaded: int
    rows_quarantined: int

    def describe(self) -> str:
        return f"{self.source_file}: {self.status} ({self.reason}): {self.reason_detail}"


@dataclass(frozen=True)
class QuarantineReason:
    reason_code: str
    rows: int
    samples: list[dict[str, Any]]  # source_file, source_row, reason_detail, raw_payload


@dataclass
class DatasetHealth:
    dataset: str
    max_quarantine_rate: float
    files: list[FileVerdict] = field(default_factory=list)
    top_reasons: list[QuarantineReason] = field(default_factory=list)

    def _with_status(self, status: str) -> list[FileVerdict]:
        return [f for f in self.files if f.status == status]

    @property
    def rejected(self) -> list[FileVerdict]:
        return self._with_status("rejected")

    @property
    def duplicates(self) -> list[FileVerdict]:
        return self._with_status("duplicate")

    @property
    def empty_files(self) -> list[FileVerdict]:
        return [f for f in self._with_status("loaded") if f.rows_in == 0]

    @property
    def unbalanced(self) -> list[FileVerdict]:
        return [f for f in self._with_status("loaded") if f.rows_in != f.rows_loaded + f.rows_quarantined]

    @property
    def rows_in(self) -> int:
        return sum(f.rows_in for f in self._with_status("loaded"))

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self._with_status("loaded"))

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self._with_status("loaded"))

    @property
    def quarantine_rate(self) -> float:
        return self.rows_quarantined / self.rows_in if self.rows_in else 0.0

    @property
    def over_threshold(self) -> bool:
        return self.quarantine_rate > self.max_quarantine_rate

    @property
    def files_over_threshold(self) -> list[FileVerdict]:
        """Loaded files whose own quarantined share is above the threshold (the period gate's rule)."""
        return [
            f
            for f in self._with_status("loaded")
            if f.rows_quarantined > self.max_quarantine_rate * f.rows_in
        ]

    @property
    def problems(self) -> list[str]:
        """One line per rejected or unbalanced file, and one for a quarantine rate above the threshold."""
        lines = [f"{self.dataset}: {f.describe()}" for f in self.rejected]
        lines += [
            f"{self.dataset}: {f.source_file}: {f.rows_in} rows read, "
            f"{f.rows_loaded} loaded + {f.rows_quarantined} quarantined"
            for f in self.unbalanced
        ]
        if self.over_threshold:
            reasons = ", ".join(f"{r.reason_code} ({r.rows})" for r in self.top_reasons)
            lines.append(
                f"{self.dataset}: {self.rows_quarantined} of {self.rows_in} rows quarantined "
                f"({self.quarantine_rate:.1%}), above its threshold of {self.max_quarantine_rate:.1%}; "
                f"top reasons: {reasons}"
            )
        return lines

    @property
    def warnings(self) -> list[str]:
        lines = [f"{self.dataset}: {f.describe()}" for f in self.duplicates]
        lines += [f"{self.dataset}: {f.source_file}: loaded, no data rows" for f in self.empty_files]
        return lines

    def as_metadata(self) -> dict[str, Any]:
        return {
            "quarantine_rate": round(self.quarantine_rate, 6),
            "max_quarantine_rate": self.max_quarantine_rate,
            "quarantine_rate_above_threshold": self.over_threshold,
            "files_over_quarantine_threshold": [f.source_file for f in self.files_over_threshold],
            "problems": self.problems,
            "warnings": self.warnings,
        }


def landing_health(
    db: Warehouse, datasets: Iterable[str] | None = None, *, top: int = 3, samples: int = 3
) -> dict[str, DatasetHealth]:
    """Per dataset (every one, or the named ones): its files' verdicts, rows, rate and top reasons."""
    names = list(datasets) if datasets is not None else list(DATASETS)
    health = {name: DatasetHealth(name, DATASETS[name].max_quarantine_rate) for name in names}
    for row in db.query(FILES_SQL):
        if row["dataset"] in health:
            counts = (int(row[k]) for k in ("rows_in", "rows_loaded", "rows_quarantined"))
            verdict = FileVerdict(
                row["source_file"], row["status"], row["reason"], row["reason_detail"], *counts
            )
            health[row["dataset"]].files.append(verdict)
    by_dataset: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in db.query(REASONS_SQL):
        by_dataset[row["dataset"]].append(row)
    for name, entry in health.items():
        for row in by_dataset[name][:top]:
            rows = db.query(SAMPLES_SQL, [name, row["reason_code"], samples])
            entry.top_reasons.append(QuarantineReason(row["reason_code"], int(row["row_count"]), rows))
    return health
