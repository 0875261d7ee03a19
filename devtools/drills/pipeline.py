"""`settld drill pipeline`: `settld run` as it is, on the sample landing zone at 10x its volume, then again
after one more day of landing files arrived (the incremental day), each measured (wall and CPU seconds,
peak memory of the process tree: devtools/bench/measure.py); `PipelineDrillReport.v1` in the report folder.

The incremental day: the money-rail operations whose `updated_at` falls on the last day the landing zone
knows are held back from the first run and land as one file of their own before the second
(`hold_back_last_day`). The second run is a plain `settld run` today. HOOK for incremental runs (issue 22):
when `settld run` learns to load only new files, `INCREMENTAL_RUN_COMMAND` is the one line to change (for
example to add its flag); the report keeps both runs' figures so the saving shows.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from devtools.bench.measure import measure
from reports.golive import write_report

CLI = [sys.executable, "-m", "settld.cli.main"]
INCREMENTAL_RUN_COMMAND: list[str] = [*CLI, "run"]  # HOOK (issue 22): the incremental run's command line
OPERATIONS = "money_rail_operations"


def _day_of(line: str) -> str | None:
    """The UTC day of a JSONL row's `updated_at`; None for a row that is not JSON (the injected malformed
    rows stay where they are, for the loader to quarantine)."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError:
        return None
    value = row.get("updated_at") if isinstance(row, dict) else None
    return value[:10] if isinstance(value, str) else None


def hold_back_last_day(landing: Path) -> tuple[str, Path, int]:
    """Move the operations last updated on the landing zone's last day out of their files, into a held-back
    file outside the landing zone; returns (day, held file, rows held). JSONL landing zones only."""
    files = sorted((landing / OPERATIONS).glob("*.jsonl"))
    lines = {path: [line for line in path.read_text().splitlines() if line.strip()] for path in files}
    day = max(d for batch in lines.values() for line in batch if (d := _day_of(line)))
    held: list[str] = []
    for path, batch in lines.items():
        held += [line for line in batch if _day_of(line) == day]
        path.write_text("".join(line + "\n" for line in batch if _day_of(line) != day))
    held_file = landing.parent / f"operations-day-{day}.jsonl"
    held_file.write_text("".join(line + "\n" for line in held))
    return day, held_file, len(held)


def _run_figures(name: str, command: list[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    shown = ["settld", *command[3:]] if command[:3] == CLI else command
    return {"name": name, "command": shown, "log": log.name, **measure(command, env=env, log=log)}


def run_pipeline_drill(*, out: Path, scale: int = 10, keep: bool = False) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="settld-pipeline-drill-"))
    landing, warehouse = work / "landing", work / "warehouse" / "settld.duckdb"
    env = {**os.environ, "SETTLD_HOME": str(work), "SETTLD_LANDING_DIR": str(landing), "SETTLD_WAREHOUSE_URL": str(warehouse),
           "SETTLD_API_DATABASE_URL": f"sqlite:///{work / 'api.sqlite3'}", "SETTLD_ARTIFACTS_DIR": str(work / "artifacts")}  # fmt: skip
    try:
        runs = [_run_figures("generate", [*CLI, "generate", "--out", str(landing), "--scale", str(scale),
                                          "--format", "jsonl"], env, work / "generate.log")]  # fmt: skip
        day, held_file, held_rows = hold_back_last_day(landing)
        as_of_full = f"{day}T00:00:00Z"
        runs.append(_run_figures("api migrate", [*CLI, "api", "migrate"], env, work / "migrate.log"))
        runs.append(
            _run_figures("full run", [*CLI, "run", "--as-of", as_of_full], env, work / "full-run.log")
        )
        shutil.copy(held_file, landing / OPERATIONS / held_file.name)
        day_after = f"{day}T23:59:59Z"
        runs.append(_run_figures("incremental day", [*INCREMENTAL_RUN_COMMAND, "--as-of", day_after], env,
                                 work / "incremental-run.log"))  # fmt: skip
        manifest = json.loads((landing / "manifest.json").read_text())
        failed = [run["name"] for run in runs if run["exit_code"] != 0]
        report = {
            "schemaVersion": "PipelineDrillReport.v1",
            "config": {"scale": scale, "format": "jsonl", "incremental_day": day, "held_back_rows": held_rows,
                       "incremental_command": "settld run (plain: the incremental hook of issue 22 is unset)"
                       if [*CLI, "run"] == INCREMENTAL_RUN_COMMAND else "custom"},
            "landing": {name: {"files": len(d["files"]), "rows": d["rows"]} for name, d in sorted(manifest["datasets"].items())},
            "machine": {"cores": os.cpu_count(), "load_average_after": [round(v, 2) for v in os.getloadavg()],
                        "note": "shared machine: other engineers' jobs run beside the drill"},
            "runs": runs,
            "work": str(work) if keep else None,
            "verdict": {"ok": not failed, "failedChecks": [f"{name}_exit_nonzero" for name in failed]},
        }  # fmt: skip
        write_report(out, report)
        return report
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
