"""Deterministic landing files (JSON Lines, CSV, Parquet) with the malformed rows inserted."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ingestion.contracts import DATASET_FOLDERS, DATASETS
from settld.core import file_sha256

from . import malformed as bad_rows

PART_ROWS = 1_000_000
EXTENSIONS = {"jsonl": "jsonl", "csv": "csv", "parquet": "parquet"}
MIXED_FORMATS = {
    "settlements": "jsonl",
    "payout_instructions": "csv",
    ("money_rail_operations", "stripe_connect"): "jsonl",
    ("money_rail_operations", "wire_fedline"): "csv",
    ("money_rail_operations", "usdc_circle"): "parquet",
    "ledger_postings": "jsonl",
    "gl_batches": "csv",
    "gl_batch_lines": "parquet",
    "party_statements": "csv",
    "party_statement_lines": "parquet",
    "held_exposure_rollforwards": "csv",
    "month_closes": "jsonl",
}
OWNED_FILES = ("manifest.json", "injected.csv")


def prepare_output(out: Path) -> None:
    """Create `out`, or clear a previously generated landing zone; refuse any other non-empty directory."""
    if out.exists():
        if not out.is_dir():
            raise ValueError(f"{out} exists and is not a directory")
        if any(out.iterdir()) and not (out / "manifest.json").is_file():
            raise ValueError(
                f"refusing to write into {out}: it is not empty and holds no manifest.json "
                "(it is not a generated landing zone); pass an empty or new directory"
            )
        for folder in DATASET_FOLDERS.values():
            shutil.rmtree(out / folder, ignore_errors=True)
        stripe = out / "stripe"
        if stripe.is_dir() and not any(stripe.iterdir()):
            stripe.rmdir()
        (out / "injected.csv").unlink(missing_ok=True)  # manifest.json is replaced at the very end
    out.mkdir(parents=True, exist_ok=True)


def file_format(fmt: str, dataset: str, provider: str | None = None) -> str:
    if fmt != "mixed":
        return fmt
    return MIXED_FORMATS[(dataset, provider) if provider else dataset]


def file_name(
    dataset: str,
    period: str,
    ext: str,
    provider: str | None = None,
    tenant_number: int | None = None,
    part: int | None = None,
) -> str:
    stem = f"operations-{provider}-{period}" if dataset == "money_rail_operations" else f"{dataset}-{period}"
    if tenant_number is not None:
        stem += f"-t{tenant_number:04d}-part{part:04d}"
    return f"{DATASET_FOLDERS[dataset]}/{stem}.{EXTENSIONS[ext]}"


def parquet_schema(dataset: str) -> dict[str, type[pl.DataType]]:
    """Parquet column types: integers stay int64, everything else (timestamps too) is a UTF-8 string."""
    return {c.name: pl.Int64 if c.kind == "integer" else pl.String for c in DATASETS[dataset].columns}


@dataclass
class LandingWriter:
    out: Path
    fmt: str
    malformed: bool
    progress: Callable[[str, int], None] | None = None
    first_period: str = ""
    files: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    bad: list[dict[str, Any]] = field(default_factory=list)

    def write(
        self,
        dataset: str,
        period: str,
        frame: pl.DataFrame,
        provider: str | None = None,
        tenant_number: int | None = None,
        part: int | None = None,
    ) -> None:
        ext = file_format(self.fmt, dataset, provider)
        rel = file_name(dataset, period, ext, provider, tenant_number, part)
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = frame.select(DATASETS[dataset].column_names)
        rows = frame.height
        if ext == "parquet":
            frame.cast(parquet_schema(dataset)).write_parquet(
                path, compression="zstd", compression_level=1, statistics=True
            )
        else:
            plan = bad_rows.plan(dataset, ext, rows, period == self.first_period) if self.malformed else []
            self._write_text(path, rel, dataset, ext, frame, plan)
            rows += len(plan)
        entry = {"path": rel, "format": ext, "rows": rows, "sha256": file_sha256(path)}
        self.files.setdefault(dataset, []).append(entry)
        if self.progress:
            self.progress(rel, rows)

    def _write_text(
        self, path: Path, rel: str, dataset: str, ext: str, frame: pl.DataFrame, plan: list[tuple[int, str]]
    ) -> None:
        def dump(piece: pl.DataFrame, handle) -> None:
            if piece.height:
                if ext == "csv":
                    piece.write_csv(handle, include_header=False, line_terminator="\n")
                else:
                    piece.write_ndjson(handle)

        with path.open("wb") as handle:
            if ext == "csv":
                handle.write((",".join(frame.columns) + "\n").encode())
            done = 0
            for j, (index, reason) in enumerate(plan):
                dump(frame.slice(done, index + 1 - done), handle)
                done = index + 1
                line, column = bad_rows.corrupt(frame.row(index, named=True), dataset, ext, reason, index)
                handle.write((line + "\n").encode())
                self.bad.append(
                    {
                        "dataset": dataset,
                        "file": rel,
                        "row": index + j + 2,
                        "reason_code": reason,
                        "column": column,
                    }
                )
            dump(frame.slice(done), handle)

    def write_lines(self, dataset: str, rel: str, lines: list[str]) -> None:
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes("".join(line + "\n" for line in lines).encode())
        self.files.setdefault(dataset, []).append(
            {"path": rel, "format": "jsonl", "rows": len(lines), "sha256": file_sha256(path)}
        )
        if self.progress:
            self.progress(rel, len(lines))


def split_parts(rows: int) -> list[tuple[int, int]]:
    """[lo, hi) bounds of parts of at most PART_ROWS rows, sized evenly."""
    count = max(1, -(-rows // PART_ROWS))
    bounds = [rows * k // count for k in range(count + 1)]
    return list(zip(bounds[:-1], bounds[1:], strict=True))
