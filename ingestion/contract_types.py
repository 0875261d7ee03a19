"""The shape of a landing contract: `Column` and `Dataset` (the datasets are in contracts.py and
finance_contracts.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnKind = Literal[
    "string", "integer", "timestamp", "epoch_seconds", "period", "currency", "enum", "boolean"
]

SQL_TYPES: dict[str, str] = {
    "string": "varchar",
    "integer": "bigint",
    "timestamp": "timestamp",  # naive TIMESTAMP columns always hold UTC (see DECISIONLOG)
    "epoch_seconds": "timestamp",
    "period": "varchar",
    "currency": "varchar",
    "enum": "varchar",
    "boolean": "boolean",
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind = "string"
    required: bool = False
    values: tuple[str, ...] = ()
    min_value: int | None = None
    # Where the value sits in a JSON record; defaults to the top-level member of the same name.
    json_path: str | None = None

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]

    @property
    def path(self) -> str:
        return self.json_path or f"$.{self.name}"


@dataclass(frozen=True)
class Dataset:
    name: str
    columns: tuple[Column, ...]
    natural_key: tuple[str, ...]
    formats: tuple[str, ...] = ("jsonl", "csv", "parquet")
    # Keep the whole JSON record in a `payload` column (Stripe events are read by later models).
    keep_payload: bool = False
    description: str = ""
    # What the upstream promises: a new export at least every this many hours. A dataset whose newest
    # file is older than that, as of a run, is stale (quality/freshness.py); the dbt sources declare the
    # same bound as their freshness.
    delivery_interval_hours: int = 36
    # The share of a file's rows that may break the contract before the file counts as sick: its
    # quarantined rows then block the period gate (below it they are a warning). quality/quarantine.py.
    max_quarantine_rate: float = 0.10
    # The rows (loaded, not quarantined) the raw layer must hold before dbt builds on it: a dataset with
    # fewer stops `settld run` (ingestion/health.py). A dataset with a minimum above 0 is *required*; 0
    # means it may be absent (Stripe events also arrive by webhook and pull).
    min_rows: int = 0
    column_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_names", tuple(c.name for c in self.columns))

    @property
    def folder(self) -> str:
        from ingestion.contracts import DATASET_FOLDERS  # the folders live beside the datasets

        return DATASET_FOLDERS[self.name]
