"""The raw layer's health per landing dataset, read from the ledger: what a run needs to fail loudly.

`landing_health(db)` gives, for each dataset: the files not loaded (rejected, duplicate) with their reason
and detail, the loaded files without records, the row counts of the loaded files, the quarantine rate
against the contract's `max_quarantine_rate` (over the dataset, and per file as the period gate judges
it, quality/quarantine.py), the rows loaded against the contract's `min_rows`, and the top quarantine
reasons with sample rows. Both thresholds can be overridden per dataset (settings: `max_quarantine_rate`,
`min_rows`; `checked_overrides` refuses an unknown dataset or a value out of range).
`DatasetHealth.problems` are the lines that stop a run (one per rejected file, one for a rate above the
threshold, one for a dataset below its minimum); `warnings` the lines a person must see anyway
(duplicates, files without records).

It judges the ledger, i.e. the raw layer dbt is about to build on, on either engine (settld.warehouse).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
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
    min_rows: int = 0  # rows loaded below this stop the run (a required dataset: above 0)

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
    def below_minimum(self) -> bool:
        return self.rows_loaded < self.min_rows

    @property
    def problems(self) -> list[str]:
        """One line per rejected or unbalanced file, one for a quarantine rate above the threshold and one
        for fewer rows loaded than the dataset's minimum."""
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
        if self.below_minimum:
            loaded = len(self._with_status("loaded"))
            held = f"{loaded} file{'' if loaded == 1 else 's'} loaded" if self.files else "no file delivered"
            lines.append(
                f"{self.dataset}: {self.rows_loaded} rows loaded ({held}), below its minimum of "
                f"{self.min_rows}"
            )
        return lines

    @property
    def reason_samples(self) -> list[str]:
        """The top quarantine reasons, each with its sample rows (file, row, column, the record as sent)."""
        lines = []
        for reason in self.top_reasons:
            lines.append(f"{self.dataset}: {reason.reason_code}: {reason.rows} row(s), e.g.")
            lines += [f"  {_describe_sample(sample)}" for sample in reason.samples]
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
            "rows_loaded": self.rows_loaded,
            "min_rows": self.min_rows,
            "files_over_quarantine_threshold": [f.source_file for f in self.files_over_threshold],
            "problems": self.problems,
            "warnings": self.warnings,
        }


def _describe_sample(sample: dict[str, Any]) -> str:
    """`file row N: column='value' in {record as sent, cut}`: the value that broke the rule first."""
    payload, column = str(sample["raw_payload"] or ""), sample["reason_detail"]
    where = f"{sample['source_file']} row {sample['source_row']}"
    try:
        record = json.loads(payload)
    except ValueError:
        record = None
    if column and isinstance(record, dict) and column in record:
        where += f": {column}={record[column]!r}"
    elif column:
        where += f": {column}"
    cut = payload if len(payload) <= 120 else payload[:117] + "..."
    return f"{where} in {cut}"


def checked_overrides(
    max_quarantine_rate: Mapping[str, float] | None = None, min_rows: Mapping[str, int] | None = None
) -> tuple[dict[str, float], dict[str, int]]:
    """The per-dataset overrides of the settings, refused (ValueError) for an unknown dataset, a rate
    outside [0, 1] or a negative minimum."""
    rates, minimums = dict(max_quarantine_rate or {}), dict(min_rows or {})
    unknown = sorted((set(rates) | set(minimums)) - set(DATASETS))
    if unknown:
        raise ValueError(f"unknown landing datasets: {', '.join(unknown)} (known: {', '.join(DATASETS)})")
    if bad := sorted(name for name, rate in rates.items() if not 0 <= rate <= 1):
        raise ValueError(f"max_quarantine_rate must be between 0 and 1: {', '.join(bad)}")
    if bad := sorted(name for name, minimum in minimums.items() if minimum < 0):
        raise ValueError(f"min_rows must be 0 or more: {', '.join(bad)}")
    return rates, minimums


def landing_health(
    db: Warehouse,
    datasets: Iterable[str] | None = None,
    *,
    max_quarantine_rate: Mapping[str, float] | None = None,
    min_rows: Mapping[str, int] | None = None,
    top: int = 3,
    samples: int = 3,
) -> dict[str, DatasetHealth]:
    """Per dataset (every one, or the named ones): its files' verdicts, rows, rate and top reasons, judged
    against the contract's thresholds or the overrides given."""
    rates, minimums = checked_overrides(max_quarantine_rate, min_rows)
    names = list(datasets) if datasets is not None else list(DATASETS)
    health = {
        name: DatasetHealth(
            name,
            rates.get(name, DATASETS[name].max_quarantine_rate),
            min_rows=minimums.get(name, DATASETS[name].min_rows),
        )
        for name in names
    }
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


def landing_problems(health: Mapping[str, DatasetHealth]) -> list[str]:
    """Every line that stops a run, dataset by dataset."""
    return [line for entry in health.values() for line in entry.problems]
