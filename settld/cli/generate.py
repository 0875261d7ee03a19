"""`settld generate`: the sample landing zone, with a summary of what was injected."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table


def run_generate(console: Console, out: Path, **options) -> dict:
    from devtools.sample_data import generate_landing_zone

    with console.status(f"Generating landing zone in {out} ..."):
        manifest = generate_landing_zone(out, **options)
    table = Table(title=f"Landing zone {out}")
    table.add_column("dataset")
    table.add_column("files", justify="right")
    table.add_column("rows", justify="right")
    for name, dataset in sorted(manifest["datasets"].items()):
        table.add_row(name, str(len(dataset["files"])), f"{dataset['rows']:,}")
    console.print(table)
    injected = manifest.get("injected", {})
    if injected:
        console.print(
            "Injected reconciliation problems: " + ", ".join(f"{k}={v}" for k, v in sorted(injected.items()))
        )
    return manifest
