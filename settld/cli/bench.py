"""`settld bench`: measured figures for generation and loading, written to a JSON file.

Speed is measured here, not asserted in tests. Figures depend on the machine; the file records its
cores and the inputs so two runs can be compared.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path

from rich.console import Console


def _timed(label: str, console: Console, fn):
    started = time.perf_counter()
    with console.status(label):
        value = fn()
    seconds = round(time.perf_counter() - started, 2)
    console.print(f"{label}: {seconds} s")
    return value, seconds


def run_bench(console: Console, *, scale: int, tenants: int, fmt: str, out: Path) -> dict:
    from ingestion.loader import load_landing_zone
    from settld.sample_data import generate_landing_zone

    work = Path(tempfile.mkdtemp(prefix="settld-bench-"))
    try:
        landing, warehouse = work / "landing", work / "warehouse.duckdb"
        manifest, generate_s = _timed(
            "generate",
            console,
            lambda: generate_landing_zone(
                landing, tenants=tenants, scale=scale, fmt=fmt, malformed=fmt != "parquet"
            ),
        )
        summary, load_s = _timed("load (first)", console, lambda: load_landing_zone(warehouse, landing))
        _, reload_s = _timed("load (unchanged files)", console, lambda: load_landing_zone(warehouse, landing))
        rows = {name: s.rows_in for name, s in summary.items()}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    figures = {
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "inputs": {
            "scale": scale,
            "tenants": tenants,
            "format": fmt,
            "periods": manifest["arguments"]["periods"],
        },
        "rows": rows,
        "seconds": {"generate": generate_s, "load": load_s, "reload_unchanged": reload_s},
        "rows_per_second_load": round(sum(rows.values()) / load_s) if load_s else None,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    console.print(f"Figures written to {out}")
    return figures
