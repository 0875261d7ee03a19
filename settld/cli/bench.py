"""`settld bench`: time `settld run` on N payout instructions against the hand-written DuckDB floor.

Generates N payout instructions and their operations as Parquet, runs the whole pipeline (`settld run`)
and the floor query (`devtools/bench/floor.sql`) on them, each in its own process measured the same way
(wall and CPU seconds, peak memory of the process tree), checks that the pipeline's mismatch mart, the
floor and the generator's answer key hold the same mismatch set, and writes the figures to JSON. It also
times a plain copy of the two inputs into DuckDB (`devtools/bench/copy_inputs.py`): the least any pipeline
that keeps its inputs spends, set beside the floor.
Speed is measured here, not asserted in tests: figures depend on the machine, so the file records it.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from rich.console import Console

from devtools.bench.floor import MONEY_RAIL_TYPES_SQL
from devtools.bench.measure import measure
from settld.cli.bench_incremental import measure_incremental

TENANTS = 3
PERIODS = ("2026-08", "2026-09", "2026-10")
INSTRUCTIONS_PER_SCALE = 60  # per tenant and period (devtools/sample_data/__init__.py)
REMOVED_FOLDERS = ("settlements", "stripe")  # the bench is about reconciliation
# Settings the bench sets itself (others, e.g. memory limits, pass through to the processes it runs).
OWN_SETTINGS = (
    "SETTLD_HOME",
    "SETTLD_LANDING_DIR",
    "SETTLD_WAREHOUSE_URL",
    "SETTLD_ARTIFACTS_DIR",
    "SETTLD_API_DATABASE_URL",
)
TARGET_PEAK_MIB = 4 * 1024
# Issue 22's targets, as multiples of the yardstick: a plain copy of the inputs into DuckDB plus the floor
# query under the run's own memory limit (what any pipeline that keeps its inputs spends at least).
TARGET_RATIOS = ((10_000_000, 1.5), (1_000_000, 5.0))  # (from this many instructions, at most this ratio)
DEMO_TARGET_SECONDS = 10.0  # the fixed-cost line, a demo-size run


def target_ratio(instructions: int) -> float | None:
    """The ratio `settld run` must stay under at this size, or None below the sizes the targets judge."""
    return next((ratio for size, ratio in TARGET_RATIOS if instructions >= size), None)


# The memory limit `settld run`'s dbt build works under: SETTLD_DUCKDB_MEMORY_LIMIT when set (it passes
# through to the run), else the dbt profile's default, the larger of the limits the run's steps use. The
# floor is timed once more under it: the target's floor may use 80 % of RAM.
PIPELINE_MEMORY_LIMIT = os.environ.get("SETTLD_DUCKDB_MEMORY_LIMIT") or "3GB"
MISMATCH_COLUMNS = "tenant_id, period, provider_id, mismatch_type, mismatch_key"
DBT_TARGET = Path(__file__).resolve().parents[2] / "dbt_project" / "target"  # dagster-dbt run folders


def scale_for(instructions: int) -> int:
    return max(1, round(instructions / (TENANTS * len(PERIODS) * INSTRUCTIONS_PER_SCALE)))


def _bin(name: str) -> str:
    """A console script installed beside this interpreter (works whether or not the venv is on PATH)."""
    return str(Path(sys.executable).parent / name)


# Pairs of mismatch sets that must be equal: the pipeline, the floor and the answer key ...
ANSWER_PAIRS = (
    ("settld_run", "floor"),
    ("floor", "settld_run"),
    ("floor", "injected"),
    ("injected", "floor"),
)
# ... and the floor timed under the pipeline's memory limit, whose time says nothing unless it finds the same.
BOUNDED_FLOOR_PAIRS = (("floor", "floor_bounded"), ("floor_bounded", "floor"))


def _mismatch_sets(con: duckdb.DuckDBPyConnection, work: Path, landing: Path) -> dict:
    """Compare the mart, the floor (also under the memory limit) and the answer key (injected.csv's
    money-rail rows: no decoys, no invoice disagreements) as sets."""
    con.execute(f"attach '{work / 'warehouse.duckdb'}' as warehouse (read_only)")
    sources = {
        "settld_run": f"select distinct {MISMATCH_COLUMNS} from warehouse.marts.fct_reconciliation_mismatches",
        "floor": f"select distinct {MISMATCH_COLUMNS} from read_parquet('{work / 'floor.parquet'}')",
        "floor_bounded": f"select distinct {MISMATCH_COLUMNS} from read_parquet('{work / 'floor-bounded.parquet'}')",
        "injected": f"select distinct {MISMATCH_COLUMNS} from read_csv('{landing / 'injected.csv'}', "
        f"all_varchar = true) where mismatch_type in ({MONEY_RAIL_TYPES_SQL})",  # no decoys, no invoices
    }
    for name, sql in sources.items():
        con.execute(f"create temp table {name} as {sql}")
    counts = {
        name: dict(
            con.execute(f"select mismatch_type, count(*) from {name} group by 1 order by 1").fetchall()
        )
        for name in sources
    }
    differences = {}
    for left, right in ANSWER_PAIRS + BOUNDED_FLOOR_PAIRS:
        rows = con.execute(f"select * from {left} except select * from {right} order by all").fetchall()
        differences[f"{left}_not_in_{right}"] = {"count": len(rows), "examples": [list(r) for r in rows[:5]]}

    def same(pairs: tuple[tuple[str, str], ...]) -> bool:
        return all(differences[f"{left}_not_in_{right}"]["count"] == 0 for left, right in pairs)

    return {
        "same_mismatches": same(ANSWER_PAIRS),
        "same_bounded_floor": same(BOUNDED_FLOOR_PAIRS),
        "rows": {name: sum(c.values()) for name, c in counts.items()},
        "by_type": counts,
        "differences": differences,
    }


def _run_breakdown(dagster_home: Path, dbt_target: Path, started: float) -> dict:
    """Where `settld run`'s time went: each Dagster run and step, the slowest dbt nodes, the rest."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        records = sorted(instance.get_run_records(), key=lambda r: r.start_time or 0)
        runs = []
        for record in records:
            steps = {
                s.step_key: round((s.end_time or 0) - (s.start_time or 0), 2)
                for s in instance.get_run_step_stats(record.dagster_run.run_id)
            }
            runs.append(
                {
                    "run_id": record.dagster_run.run_id[:8],
                    "seconds": round((record.end_time or 0) - (record.start_time or 0), 2),
                    "steps": steps,
                }
            )
    dbt_nodes: dict[str, float] = {}
    for results in dbt_target.glob("*/run_results.json"):
        if results.stat().st_mtime < started:
            continue
        if not any(run["run_id"][:7] in results.parent.name for run in runs):
            continue
        for node in json.loads(results.read_text())["results"]:
            dbt_nodes[node["unique_id"]] = round(node.get("execution_time") or 0, 2)
    slowest = dict(sorted(dbt_nodes.items(), key=lambda kv: -kv[1])[:12])
    return {
        "dagster_runs": runs,
        "dbt_nodes": len(dbt_nodes),
        "dbt_node_seconds_total": round(sum(dbt_nodes.values()), 2),
        "dbt_tests_seconds_total": round(sum(v for k, v in dbt_nodes.items() if k.startswith("test.")), 2),
        "dbt_slowest_nodes": slowest,
    }


def fixed_cost(work: Path, env: dict) -> dict:
    """`settld run` on the smallest landing zone (scale 1, the bench's tenants and periods) in a folder
    and warehouse of its own: the bench's line for what a run costs whatever its size."""
    home = work / "fixed-cost"
    landing = home / "landing"
    own = {**env, "SETTLD_HOME": str(home)}
    _step("settld generate (fixed cost)",
          [_bin("settld"), "generate", "--out", str(landing), "--tenants", str(TENANTS), "--periods",
           ",".join(PERIODS), "--scale", "1", "--format", "parquet", "--no-malformed"],
          env=own, log=home.parent / "fixed-cost-generate.log")  # fmt: skip
    for folder in REMOVED_FOLDERS:
        shutil.rmtree(landing / folder, ignore_errors=True)
    manifest = json.loads((landing / "manifest.json").read_text())
    _step("settld api migrate (fixed cost)", [_bin("settld"), "api", "migrate"], env=own,
          log=home.parent / "fixed-cost-migrate.log")  # fmt: skip
    run = _step("settld run (fixed cost)",
                [_bin("settld"), "run", "--landing", str(landing), "--warehouse", str(home / "warehouse.duckdb"),
                 "--as-of", manifest["as_of"]], env=own, log=home.parent / "fixed-cost-run.log")  # fmt: skip
    shutil.rmtree(home, ignore_errors=True)
    instructions = manifest["datasets"]["payout_instructions"]["rows"]
    return {"seconds": run["seconds"], "cpu_seconds": run["cpu_seconds"], "instructions": instructions}


def _mart_digests(warehouse: Path) -> list[str]:
    from settld.settings import warehouse_target
    from settld.warehouse import connect
    from settld.warehouse_digest import digest_lines

    with connect(warehouse_target(str(warehouse)), read_only=True) as db:
        return digest_lines(db)


def _step(name: str, command: list[str], *, env: dict, log: Path) -> dict:
    """Measure one step in its own process; a step that fails stops the bench with where to look."""
    result = measure(command, env=env, log=log)
    if result["exit_code"]:
        raise RuntimeError(f"{name} failed: see {log}")
    return result


def run_bench(
    console: Console, *, instructions: int, out: Path, keep: bool = False, fixed: dict | None = None
) -> dict:
    """One size: the figures, also written to `out`. `fixed`: a fixed-cost line measured before (the
    sweep measures it once), else it is measured here."""
    scale = scale_for(instructions)
    work = Path(tempfile.mkdtemp(prefix="settld-bench-"))
    landing, warehouse = work / "landing", work / "warehouse.duckdb"
    dagster_home = work / "dagster_home"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {k: v for k, v in os.environ.items() if k not in OWN_SETTINGS}
    # Default settings: the raw great-expectations suites run (on the rows each load brings in).
    # SETTLD_HOME: the artifacts and the operator API's database (the run publishes into it) are the work
    # folder's, never the repository's.
    env.update(DAGSTER_HOME=str(dagster_home), SETTLD_HOME=str(work))
    # The bench's landing zone has no settlements or Stripe events by design (REMOVED_FOLDERS): their
    # minimum of rows is 0 here, or the landing verdict stops the run before dbt.
    env.setdefault("SETTLD_MIN_ROWS", json.dumps({"settlements": 0, "stripe_events": 0}))
    figures: dict = {}
    try:
        console.print(f"Generating ~{instructions:,} payout instructions (scale {scale}) into {landing} ...")
        generate = _step(
            "settld generate",
            [_bin("settld"), "generate", "--out", str(landing), "--tenants", str(TENANTS),
             "--periods", ",".join(PERIODS), "--scale", str(scale), "--format", "parquet", "--no-malformed"],
            env=env, log=work / "generate.log",
        )  # fmt: skip
        for folder in REMOVED_FOLDERS:
            shutil.rmtree(landing / folder, ignore_errors=True)
        manifest = json.loads((landing / "manifest.json").read_text())
        as_of = manifest["as_of"]
        rows = {d: manifest["datasets"][d]["rows"] for d in ("payout_instructions", "money_rail_operations")}
        console.print(f"generate: {generate['seconds']} s; rows {rows}; as of {as_of}")

        floor = _step(
            "the floor query",
            [sys.executable, "-m", "devtools.bench.floor", str(landing), as_of, str(work / "floor.parquet")],
            env=env, log=work / "floor.log",
        )  # fmt: skip
        floor["query_seconds"] = json.loads((work / "floor.log").read_text().splitlines()[-1])["seconds"]
        console.print(f"floor: {floor['seconds']} s, peak {floor['peak_rss_mib']} MiB")

        floor_bounded = _step(
            f"the floor query under {PIPELINE_MEMORY_LIMIT}",
            [sys.executable, "-m", "devtools.bench.floor", str(landing), as_of, str(work / "floor-bounded.parquet"),
             PIPELINE_MEMORY_LIMIT],
            env=env, log=work / "floor-bounded.log",
        )  # fmt: skip
        console.print(
            f"floor under {PIPELINE_MEMORY_LIMIT}: {floor_bounded['seconds']} s, peak {floor_bounded['peak_rss_mib']} MiB"
        )

        # What persisting the inputs costs at least, before any check or matching (devtools/bench/copy_inputs.py).
        copy = _step(
            "the input copy",
            [sys.executable, "-m", "devtools.bench.copy_inputs", str(landing), str(work / "copy.duckdb")],
            env=env, log=work / "copy.log",
        )  # fmt: skip
        (work / "copy.duckdb").unlink(missing_ok=True)
        console.print(f"copy of the inputs: {copy['seconds']} s, peak {copy['peak_rss_mib']} MiB")

        _step("settld api migrate", [_bin("settld"), "api", "migrate"], env=env, log=work / "migrate.log")
        fixed = fixed or fixed_cost(work, env)
        console.print(
            f"fixed cost (settld run on {fixed['instructions']} instructions): {fixed['seconds']} s"
        )
        started = time.time()
        run = _step(
            "settld run (and settld-run.log beside it)",
            [_bin("settld"), "run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", as_of],
            env=env, log=work / "settld-run.stdout",
        )  # fmt: skip
        console.print(f"settld run: {run['seconds']} s, peak {run['peak_rss_mib']} MiB")
        run["breakdown"] = _run_breakdown(dagster_home, DBT_TARGET, started)
        # process start, imports, dbt parse, summary: everything outside the Dagster runs
        in_runs = sum(r["seconds"] for r in run["breakdown"]["dagster_runs"])
        run["breakdown"]["outside_dagster_runs_seconds"] = round(run["seconds"] - in_runs, 2)

        with duckdb.connect() as con:
            comparison = _mismatch_sets(con, work, landing)

        def run_again(name: str, extra: list[str]) -> dict:
            started = time.time()
            result = _step(
                f"settld run ({name})",
                [_bin("settld"), "run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", as_of,
                 *extra],
                env=env, log=work / f"settld-run-{name}.stdout",
            )  # fmt: skip
            return {**result, "breakdown": _run_breakdown(dagster_home, DBT_TARGET, started)}

        incremental = measure_incremental(
            landing=landing, period=PERIODS[-1], full_run_seconds=run["seconds"], run=run_again,
            digest=lambda: _mart_digests(warehouse),
        )  # fmt: skip
        console.print(
            f"one new day {incremental['new_day_rows']}: settld run {incremental['incremental_run']['seconds']} s "
            f"({incremental['share_of_full_run']:.1%} of the full run), full refresh "
            f"{incremental['full_refresh_run']['seconds']} s, same marts: {incremental['same_marts_as_full_refresh']}"
        )
        ratio = round(run["seconds"] / floor["seconds"], 2)
        yardstick = round(copy["seconds"] + floor_bounded["seconds"], 2)
        limit = target_ratio(instructions)
        figures = {
            "machine": {
                "cores": os.cpu_count(),
                "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
                "python": platform.python_version(),
                "duckdb": duckdb.__version__,
                "platform": platform.platform(),
                "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            },
            "inputs": {
                "instructions_requested": instructions,
                "tenants": TENANTS,
                "periods": list(PERIODS),
                "scale": scale,
                "format": "parquet",
                "malformed": False,
                "as_of": as_of,
                "removed_from_landing": [f"{folder}/" for folder in REMOVED_FOLDERS],
                "note": "settlements and Stripe events are generated, then deleted: the bench is about reconciliation",
                "raw_quality_checks": os.environ.get("SETTLD_QUALITY_RAW_CHECKS", "default (on)"),
                "min_rows": env["SETTLD_MIN_ROWS"],
            },
            "rows": rows,
            "seconds": {
                "generate": generate["seconds"],
                "settld_run": run["seconds"],
                "floor": floor["seconds"],
                "floor_query": floor["query_seconds"],
                "floor_under_pipeline_memory_limit": floor_bounded["seconds"],
                "copy_inputs": copy["seconds"],
                "fixed_cost": fixed["seconds"],
            },
            # `settld run` on the smallest landing zone the generator makes, same settings and machine:
            # what a run costs before its size shows (process start, imports, dbt parse, the nodes).
            "fixed_cost": fixed,
            "cpu_seconds": {"settld_run": run["cpu_seconds"], "floor": floor["cpu_seconds"]},
            "peak_rss_mib": {
                "generate": generate["peak_rss_mib"],
                "settld_run": run["peak_rss_mib"],
                "floor": floor["peak_rss_mib"],
                "floor_under_pipeline_memory_limit": floor_bounded["peak_rss_mib"],
                "copy_inputs": copy["peak_rss_mib"],
            },
            "max_single_process_rss_mib": {
                "settld_run": run["max_process_rss_mib"],
                "floor": floor["max_process_rss_mib"],
            },
            "settld_run_peak_rss_mib_by_process": run["peak_rss_mib_by_process"],
            # One new day on the loaded warehouse, then --full-refresh on the same files (bench_incremental).
            "incremental": incremental,
            "ratio_settld_run_to_floor": ratio,
            # Copying the inputs into DuckDB unchanged, as a multiple of the floor: the part of the
            # target any pipeline that keeps its inputs spends before computing anything.
            "ratio_copy_inputs_to_floor": round(copy["seconds"] / floor["seconds"], 2),
            # The same floor query given the memory limit settld run's dbt build has: not the target's
            # yardstick, but how much of the gap is the floor's use of memory the run may not take.
            "pipeline_memory_limit": PIPELINE_MEMORY_LIMIT,
            "ratio_settld_run_to_floor_under_pipeline_memory_limit": round(
                run["seconds"] / floor_bounded["seconds"], 2
            ),
            "floor_under_pipeline_memory_limit_same_rows": comparison["same_bounded_floor"],
            "settld_run_breakdown": run["breakdown"],
            "mismatches": comparison,
            "same_mismatches": comparison["same_mismatches"],
            # Issue 22's yardstick: the copy of the inputs plus the floor under the run's memory limit.
            "yardstick_seconds": yardstick,
            "ratio_settld_run_to_yardstick": round(run["seconds"] / yardstick, 2),
            "targets": {
                "max_ratio_to_yardstick": limit,
                "ratio_met": None if limit is None else run["seconds"] / yardstick <= limit,
                "max_peak_rss_mib": TARGET_PEAK_MIB,
                "memory_met": run["peak_rss_mib"] < TARGET_PEAK_MIB,
                "demo_size_max_seconds": DEMO_TARGET_SECONDS,
                "demo_size_met": fixed["seconds"] <= DEMO_TARGET_SECONDS,
            },
        }
    finally:
        if keep:
            console.print(f"Kept the work directory: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    verdict = "same" if figures["same_mismatches"] else "[red]DIFFERENT[/]"
    if not figures["floor_under_pipeline_memory_limit_same_rows"]:
        verdict += f" [red](the floor under {PIPELINE_MEMORY_LIMIT} found other rows)[/]"
    console.print(
        f"ratio settld run / (copy + floor under {PIPELINE_MEMORY_LIMIT}): "
        f"{figures['ratio_settld_run_to_yardstick']}; / floor: {figures['ratio_settld_run_to_floor']} "
        f"({figures['ratio_settld_run_to_floor_under_pipeline_memory_limit']} against the floor under "
        f"{PIPELINE_MEMORY_LIMIT}); mismatch sets: {verdict}; "
        f"figures written to {out}"
    )
    return figures
