"""`settld bench-sweep`: `settld bench` at several sizes, one table and one plot (issue 22).

Each size is a whole bench (its own landing zone, floor, copy of the inputs and `settld run`, default
settings), written to `reconciliation-<N>.json` beside the sweep; the fixed-cost line is measured once.
`sweep.json` holds one row per size and `sweep.svg` plots the seconds against the instructions, so the
cost per row of the run can be read against the floor's and the copy's as the rows grow.
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from devtools.bench.sweep_svg import sweep_svg
from settld.cli.bench import DEMO_TARGET_SECONDS, run_bench


def sweep_row(figures: dict) -> dict:
    """What the plot and the table show of one bench."""
    seconds = figures["seconds"]
    return {
        "instructions": figures["rows"]["payout_instructions"],
        "operations": figures["rows"]["money_rail_operations"],
        "settld_run": seconds["settld_run"],
        "floor": seconds["floor_under_pipeline_memory_limit"],
        "copy_inputs": seconds["copy_inputs"],
        "yardstick": figures["yardstick_seconds"],
        "ratio_to_yardstick": figures["ratio_settld_run_to_yardstick"],
        "max_ratio_to_yardstick": figures["targets"]["max_ratio_to_yardstick"],
        "run_peak_rss_mib": figures["peak_rss_mib"]["settld_run"],
        "run_microseconds_per_instruction": round(
            seconds["settld_run"] * 1e6 / figures["rows"]["payout_instructions"], 1
        ),
        "same_mismatches": figures["same_mismatches"],
        "incremental_run": figures["incremental"]["incremental_run"]["seconds"],
        "incremental_share_of_full_run": figures["incremental"]["share_of_full_run"],
        "incremental_same_marts": figures["incremental"]["same_marts_as_full_refresh"],
    }


def run_sweep(console: Console, *, sizes: list[int], out_dir: Path) -> dict:
    rows, fixed = [], None
    for size in sorted(sizes):
        figures = run_bench(
            console, instructions=size, out=out_dir / f"reconciliation-{size}.json", fixed=fixed
        )
        fixed = figures["fixed_cost"]
        rows.append(sweep_row(figures))
    sweep = {"fixed_cost": fixed, "demo_size_max_seconds": DEMO_TARGET_SECONDS, "sizes": rows,
             "machine": figures["machine"]}  # fmt: skip
    (out_dir / "sweep.json").write_text(json.dumps(sweep, indent=2, sort_keys=True) + "\n")
    title = f"settld run against the floor, default settings ({figures['machine']['cores']} cores)"
    (out_dir / "sweep.svg").write_text(sweep_svg(rows, title=title, demo_target_seconds=DEMO_TARGET_SECONDS))
    table = Table(
        title=f"Size sweep (fixed cost {fixed['seconds']} s on {fixed['instructions']} instructions)"
    )
    for column in (
        "instructions",
        "settld run s",
        "floor s",
        "copy s",
        "run / (copy + floor)",
        "target",
        "peak MiB",
    ):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(f"{row['instructions']:,}", str(row["settld_run"]), str(row["floor"]), str(row["copy_inputs"]),
                      str(row["ratio_to_yardstick"]), str(row["max_ratio_to_yardstick"] or "-"),
                      str(row["run_peak_rss_mib"]))  # fmt: skip
    console.print(table)
    console.print(f"written: {out_dir / 'sweep.json'}, {out_dir / 'sweep.svg'}")
    return sweep
