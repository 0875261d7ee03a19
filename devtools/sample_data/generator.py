"""`generate_landing_zone`: the chunk loop (period x tenant), file layout, injected.csv and manifest.json."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import polars as pl

from ingestion.contracts import DATASETS
from settld.core import canonical_json, file_sha256, parse_period

from . import stripe_events
from .books import (
    BOOKS_DECOY_TYPES,
    ESCROW_MISMATCH_TYPES,
    FINANCE_MISMATCH_TYPES,
    OPEN_MONTH_TENANT,
    BooksState,
    build_books,
)
from .drafts import Usage, chunk_usage
from .kernel import (
    INSTRUCTION_COLUMNS,
    MAX_SETTLEMENTS_PER_SCALE,
    Instructions,
    generate_instructions,
    generate_settlements,
    settlements_frame,
)
from .policies import registry_manifest
from .rail_rows import injected_frame, operation_injections, operations_frame
from .rails import DECOY_TYPES, MISMATCH_TYPES, Rails, build_operations
from .stripe_invoices import INVOICE_MISMATCH_TYPES
from .tenants import PROVIDERS, TS_FORMAT, Tenant, period_epochs, tenant_list
from .writer import PART_ROWS, LandingWriter, prepare_output, split_parts

GENERATOR_VERSION = "1.3.0"
INJECTED_COLUMNS = ("tenant_id", "period", "provider_id", "mismatch_type", "mismatch_key", "note")
EXPORT_DELAY_SECONDS = 2 * 86_400  # the export cut-off (`as_of`): 2 days after the last period ends
Format = Literal["mixed", "jsonl", "csv", "parquet"]


def _validate(seed: int, tenants: int, periods: Sequence[str], scale: int, fmt: str) -> list[str]:
    if isinstance(periods, str):
        periods = [p.strip() for p in periods.split(",")]
    periods = [parse_period(p) for p in periods]
    if not periods or any(a >= b for a, b in zip(periods, periods[1:], strict=False)):
        raise ValueError(f"periods must be a non-empty, strictly increasing list of YYYY-MM, got {periods}")
    if seed < 0 or tenants < 1 or scale < 1:
        raise ValueError("seed must be >= 0, tenants >= 1 and scale >= 1")
    if fmt not in ("mixed", "jsonl", "csv", "parquet"):
        raise ValueError(f"fmt must be mixed, jsonl, csv or parquet, got {fmt!r}")
    return periods


def instruction_rows(instructions: Instructions, rails: Rails) -> pl.DataFrame:
    """Instruction rows plus the injected duplicate deliveries, sorted by (payout_key, created_at)."""
    frame = instructions.frame.select(INSTRUCTION_COLUMNS)
    duplicates = frame[rails.duplicate_rows].with_columns(
        created_at=pl.from_epoch(pl.Series(rails.duplicate_created), time_unit="s").dt.strftime(TS_FORMAT)
    )
    return pl.concat([frame, duplicates]).sort("payout_key", "created_at")


class _Run:
    def __init__(
        self, out: Path, seed: int, scale: int, periods: list[str], writer: LandingWriter, split: bool
    ):
        self.out, self.seed, self.scale, self.periods = out, seed, scale, periods
        self.writer, self.split = writer, split
        self.injected_counts: Counter[str] = Counter()
        self.unregistered: list[str] = []  # settlements whose policy hash matches no registered version
        self.usage: dict[tuple[str, str], Usage] = {}  # billable usage per (tenant, period), for Stripe
        self.books: dict[str, BooksState] = {}  # per tenant: the escrow balance carried between months
        self.books_buffers: dict[str, list[pl.DataFrame]] = {}
        self.injected_handle = (out / "injected.csv").open("wb")
        self.injected_handle.write((",".join(INJECTED_COLUMNS) + "\n").encode())

    def policy_checked(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The frame, its settlements whose hash no registered version has noted for the manifest."""
        known = [row["policy_hash"] for row in registry_manifest([], [])["versions"]]
        self.unregistered += frame.filter(~pl.col("policy_hash").is_in(known))["settlement_id"].to_list()
        return frame

    def chunk(
        self, t: Tenant, period_index: int, period: str, buffers: dict[Any, list[pl.DataFrame]]
    ) -> None:
        is_last = period_index == len(self.periods) - 1
        inject = is_last and t.index > 0  # not the first tenant: the README closes its last month
        w = self.writer
        settlements = generate_settlements(t, period_index, period, self.seed, self.scale)
        self.usage[(t.tenant_id, period)] = chunk_usage(settlements.columns, period)
        instructions = generate_instructions(t, period_index, period, self.seed, settlements)
        self.kernel_books(t, period_index, period, settlements)
        if self.split:
            for part, (lo, hi) in enumerate(split_parts(settlements.rows), start=1):
                frame = self.policy_checked(
                    settlements_frame(t, period, settlements, lo, hi, inject_unregistered=inject)
                )
                w.write("settlements", period, frame, tenant_number=t.number, part=part)
        else:
            frame = settlements_frame(t, period, settlements, 0, settlements.rows, inject_unregistered=inject)
            buffers["settlements"].append(self.policy_checked(frame))
        del settlements
        rails = build_operations(t, period_index, period, self.seed, instructions, is_last)
        kernel_rows = instruction_rows(instructions, rails)
        if self.split:
            for part, (lo, hi) in enumerate(split_parts(kernel_rows.height), start=1):
                w.write(
                    "payout_instructions",
                    period,
                    kernel_rows.slice(lo, hi - lo),
                    tenant_number=t.number,
                    part=part,
                )
        else:
            buffers["payout_instructions"].append(kernel_rows)
        del kernel_rows
        from_operations = []
        for code in t.providers:
            provider = PROVIDERS[code]
            frame = operations_frame(t, period, instructions, rails.operations, code)
            from_operations.append(operation_injections(frame))
            if not self.split:
                buffers[provider].append(frame)
                continue
            for part, (lo, hi) in enumerate(split_parts(frame.height), start=1):
                w.write(
                    "money_rail_operations",
                    period,
                    frame.slice(lo, hi - lo),
                    provider=provider,
                    tenant_number=t.number,
                    part=part,
                )
            del frame
        injected = injected_frame(t, period, instructions, rails, from_operations)
        injected.write_csv(self.injected_handle, include_header=False, line_terminator="\n")
        self.injected_counts.update(injected["mismatch_type"].to_list())

    def kernel_books(self, t: Tenant, period_index: int, period: str, settlements: Any) -> None:
        is_open = t.index == OPEN_MONTH_TENANT and period_index == len(self.periods) - 1
        chunk = t.index * len(self.periods) + period_index
        books = build_books(t, period, chunk, settlements, self.books.setdefault(t.tenant_id, BooksState()),
                            is_open=is_open)  # fmt: skip
        for name, frame in books.frames.items():
            self.books_buffers.setdefault(name, []).append(frame)
        injected = pl.DataFrame(
            books.injected, schema=dict.fromkeys(INJECTED_COLUMNS, pl.String), orient="row"
        )
        injected.write_csv(self.injected_handle, include_header=False, line_terminator="\n")
        self.injected_counts.update(injected["mismatch_type"].to_list())

    def flush_books(self, period: str) -> None:
        for name, frames in sorted(self.books_buffers.items()):
            self.writer.write(name, period, pl.concat(frames, how="vertical_relaxed"))
        self.books_buffers = {}

    def flush_period(self, period: str, buffers: dict[Any, list[pl.DataFrame]]) -> None:
        self.flush_books(period)
        if self.split:
            return
        self.writer.write("settlements", period, pl.concat(buffers["settlements"]))
        self.writer.write("payout_instructions", period, pl.concat(buffers["payout_instructions"]))
        for provider in PROVIDERS:
            if buffers[provider]:
                frame = pl.concat(buffers[provider])
                self.writer.write("money_rail_operations", period, frame, provider=provider)

    def stripe(self, tenants: list[Tenant], as_of: int) -> dict[str, Any]:
        """One file of events per month of their `created` (every period's, and the month after the last
        one, when its invoices are billed before the cut-off); the invoice disagreements into injected.csv.
        """
        events, injected = stripe_events.build_events(self.seed, tenants, self.periods, self.usage)
        late = [e["id"] for month in events.values() for e in month if e["created"] >= as_of]
        if late:
            raise AssertionError(f"Stripe events after the export cut-off: {late[:3]}")
        months = sorted(set(self.periods) | set(events))
        lines = {m: [stripe_events.event_line(e) for e in events.get(m, [])] for m in months}
        paid = [
            (m, i) for m in months for i, e in enumerate(events.get(m, [])) if e["type"] == "invoice.paid"
        ]
        month, dup = paid[0] if paid else (months[0], 0)
        lines[month].insert(dup + 1, lines[month][dup])
        for m in months:
            self.writer.write_lines("stripe_events", f"stripe/events/events-{m}.jsonl", lines[m])
        frame = pl.DataFrame(injected, schema=dict.fromkeys(INJECTED_COLUMNS, pl.String))
        frame.write_csv(self.injected_handle, include_header=False, line_terminator="\n")
        self.injected_counts.update(frame["mismatch_type"].to_list())
        return {
            "file": f"stripe/events/events-{month}.jsonl",
            "event_id": events[month][dup]["id"],
            "event_type": events[month][dup]["type"],
            "rows": [dup + 1, dup + 2],
        }


def generate_landing_zone(
    out: Path,
    *,
    seed: int = 7,
    tenants: int = 4,
    periods: Sequence[str] = ("2026-08", "2026-09", "2026-10"),
    scale: int = 1,
    fmt: Format = "mixed",
    malformed: bool = True,
    progress: Callable[[str, int], None] | None = None,
) -> dict:
    """Write a deterministic sample landing zone into `out`; return its manifest (also manifest.json).

    Raises ValueError for bad arguments, or when `out` is a non-empty directory without manifest.json.
    A previously generated landing zone is replaced: its dataset folders, injected.csv and manifest.json.
    """
    periods = _validate(seed, tenants, periods, scale, fmt)
    out = Path(out)
    prepare_output(out)
    tenant_objects = tenant_list(tenants)
    ordered = sorted(tenant_objects, key=lambda t: t.tenant_id)
    split = tenants * MAX_SETTLEMENTS_PER_SCALE * scale > PART_ROWS
    writer = LandingWriter(out, fmt, malformed, progress, first_period=periods[0])
    run = _Run(out, seed, scale, periods, writer, split)
    as_of = period_epochs(periods[-1])[1] + EXPORT_DELAY_SECONDS
    try:
        for period_index, period in enumerate(periods):
            buffers: dict[Any, list[pl.DataFrame]] = {
                k: [] for k in ("settlements", "payout_instructions", *PROVIDERS)
            }
            for t in ordered:
                run.chunk(t, period_index, period, buffers)
            run.flush_period(period, buffers)
            del buffers
        stripe_duplicate = run.stripe(tenant_objects, as_of)
    finally:
        run.injected_handle.close()
    if progress:
        progress("injected.csv", sum(run.injected_counts.values()))
    counts = run.injected_counts
    bad = sorted(writer.bad, key=lambda r: (r["file"], r["row"]))
    manifest = {
        # The generator's name, not its module path: kept when the module moved, so manifests stay identical.
        "generator": "settld.sample_data",
        "generator_version": GENERATOR_VERSION,
        "arguments": {
            "seed": seed,
            "tenants": tenants,
            "periods": periods,
            "scale": scale,
            "fmt": fmt,
            "malformed": malformed,
        },
        "as_of": pl.select(pl.from_epoch(pl.lit(as_of), time_unit="s").dt.strftime(TS_FORMAT)).item(),
        "layout": "per_tenant_parts" if split else "per_period",
        "tenants": [
            {
                "tenant_id": t.tenant_id,
                "number": t.number,
                "plan": t.plan,
                "currency": t.currency,
                "providers": list(t.provider_names),
            }
            for t in tenant_objects
        ],
        "datasets": {
            name: {
                "files": sorted(writer.files.get(name, []), key=lambda f: f["path"]),
                "rows": sum(f["rows"] for f in writer.files.get(name, [])),
            }
            for name in DATASETS
        },
        "injected": {
            t: counts.get(t, 0)
            for t in (
                *MISMATCH_TYPES,
                *INVOICE_MISMATCH_TYPES,
                *FINANCE_MISMATCH_TYPES,
                *ESCROW_MISMATCH_TYPES,
            )
        },
        "decoys": {t: counts.get(t, 0) for t in (*DECOY_TYPES, *BOOKS_DECOY_TYPES)},
        "injected_file": "injected.csv",
        "injected_rows": sum(counts.values()),
        "injected_sha256": file_sha256(out / "injected.csv"),
        "malformed": {"rows": bad, "counts": dict(sorted(Counter(r["reason_code"] for r in bad).items()))},
        "stripe_duplicate": stripe_duplicate,
        "policy_registry": registry_manifest([t.tenant_id for t in tenant_objects], run.unregistered),
    }
    tmp = out / "manifest.json.tmp"
    tmp.write_text(canonical_json(manifest) + "\n", encoding="utf-8")
    os.replace(tmp, out / "manifest.json")
    return manifest
