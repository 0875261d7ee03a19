"""What `settld run` says about the landing zone after the load stage, before dbt: whether it is fit to
build on (ingestion/health.py, with the settings' overrides of the contracts' thresholds), and if not, one
line per rejected file or sick dataset, the top quarantine reasons with sample rows, and the run log.

The load job's `landing_healthy` checks fail on the same verdict (orchestration/defs/landing/), so the
Dagster UI's daily run stops where `settld run` stops. The rules: docs/DECISIONLOG.md, "A sick landing zone
stops the run".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from ingestion.contracts import DATASETS
from ingestion.health import DatasetHealth, checked_overrides, landing_health, landing_problems
from ingestion.readers import discover_files
from settld.settings import Settings, WarehouseTarget
from settld.warehouse import connect as connect_warehouse


@dataclass
class LandingVerdict:
    health: dict[str, DatasetHealth] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        return landing_problems(self.health)

    @property
    def warnings(self) -> list[str]:
        return [line for entry in self.health.values() for line in entry.warnings]

    @property
    def reason_samples(self) -> list[str]:
        """Top reasons with samples of the datasets quarantined above their threshold."""
        return [
            line for entry in self.health.values() if entry.over_threshold for line in entry.reason_samples
        ]

    @property
    def left_out(self) -> list[str]:
        """What marts built anyway (--keep-going) do not hold: rejected files, the quarantined rows of a
        dataset above its threshold, the rows a dataset below its minimum lacks."""
        lines = [f"{f.source_file} ({f.reason})" for entry in self.health.values() for f in entry.rejected]
        lines += [
            f"{entry.rows_quarantined} quarantined rows of {entry.dataset}"
            for entry in self.health.values()
            if entry.over_threshold
        ]
        lines += [
            f"{entry.dataset}: {entry.rows_loaded} rows loaded, below its minimum of {entry.min_rows}"
            for entry in self.health.values()
            if entry.below_minimum
        ]
        return lines


def empty_landing_zone(landing_dir: Path) -> bool:
    """No file of any dataset in the landing zone (its folders missing or empty)."""
    return not any(discover_files(landing_dir, dataset) for dataset in DATASETS.values())


def invalid_overrides(settings: Settings) -> str | None:
    """Why the settings' threshold overrides cannot be used, or None."""
    try:
        checked_overrides(settings.max_quarantine_rate, settings.min_rows)
    except ValueError as error:
        return f"SETTLD_MAX_QUARANTINE_RATE / SETTLD_MIN_ROWS: {error}"
    return None


def judge_landing(settings: Settings, target: WarehouseTarget) -> LandingVerdict:
    with connect_warehouse(target, read_only=True) as db:
        return LandingVerdict(
            landing_health(db, max_quarantine_rate=settings.max_quarantine_rate, min_rows=settings.min_rows)
        )


def landing_report(verdict: LandingVerdict, *, keep_going: bool) -> list[str]:
    """The lines `settld run` prints (and writes to its log) when the landing zone is not fit to build on."""
    then = (
        "--keep-going: the marts are built on what loaded; the run will exit non-zero."
        if keep_going
        else "The run stops before dbt (nothing downstream is built). Repair or replace the files and run "
        "again, or build anyway with --keep-going (SETTLD_KEEP_GOING)."
    )
    lines = ["The landing zone is not fit to build on:", *(f"  {line}" for line in verdict.problems)]
    if verdict.reason_samples:
        lines += [
            "Top quarantine reasons (raw.quarantine):",
            *(f"  {line}" for line in verdict.reason_samples),
        ]
    return [*lines, then]


def print_landing_report(console: Console, lines: list[str], log_path: Path) -> None:
    first, *rest = lines
    console.print(f"[red]{escape(first)}[/]", soft_wrap=True)
    console.print("\n".join(rest), soft_wrap=True, markup=False, highlight=False)
    console.print(f"Full run log: {log_path}", soft_wrap=True, markup=False, highlight=False)


def quarantine_lines(verdict: LandingVerdict) -> list[str]:
    """Per dataset with quarantined rows: how many, of how many, against its threshold."""
    return [
        f"{entry.dataset}: {entry.rows_quarantined:,} of {entry.rows_in:,} rows quarantined "
        f"({entry.quarantine_rate:.1%}), {'above' if entry.over_threshold else 'within'} its threshold of "
        f"{entry.max_quarantine_rate:.1%}"
        for entry in verdict.health.values()
        if entry.rows_quarantined
    ]
