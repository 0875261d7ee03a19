"""`settld drill throughput [--incident]`: headless locust against `settld api serve --workers N` on
Postgres, on loopback, bounded in time and in requests; then the books (devtools/drills/books.py), a
`ThroughputDrillReport.v1` and a latency plot, and with `--incident` a
`ThroughputIncidentRehearsalReport.v1` (Postgres stopped for `outage_seconds` during the load).

A 4xx the scenario expects (400 on a forged webhook, 409 on a stale If-Match or a lost race) is a success
for locust; anything else is a failure, and a 5xx always is. The thresholds are settings (`DrillConfig`).
"""

from __future__ import annotations

import csv
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from devtools.drills.books import check_books, observe
from devtools.drills.latency_svg import history_points, latency_svg
from devtools.drills.profile import CpuMeter, start_profile, summarise_profile
from devtools.drills.world import drill_world
from devtools.postgres_faults import PostgresFaults
from reports.golive import write_report

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


@dataclass(frozen=True)
class DrillConfig:
    tenants: int = 3
    users: int = 24
    seconds: int = 60
    max_requests: int = 200_000
    workers: int = 2
    pool_size: int = 5
    settlements_per_tenant: int = 600
    p99_ms: float = 50.0
    min_requests_per_second: float = 1000.0
    max_failure_rate: float = 0.001
    max_rejected_ingest_rate: float = 0.05  # forged deliveries are 2 % of webhooks
    incident: bool = False
    incident_after_seconds: float = 15.0
    outage_seconds: float = 10.0
    recovery_seconds: float = 5.0
    profile: bool = False  # py-spy on the API's workers (profile-api.txt, summarised in the report)


@dataclass
class Outage:
    stopped_at: float = 0.0
    started_at: float = 0.0
    error: str | None = None


def _postgres_switch(url: str) -> tuple[Callable[[], None], Callable[[], None]]:
    """How to stop and start the database: SETTLD_DRILL_POSTGRES_STOP / _START (shell commands, e.g. `docker
    stop <container>` for a CI service container), else pg_ctl on the local server (devtools/postgres_faults.py)."""
    stop, start = os.environ.get("SETTLD_DRILL_POSTGRES_STOP"), os.environ.get("SETTLD_DRILL_POSTGRES_START")
    if stop and start:
        return (lambda: subprocess.run(stop, shell=True, check=True, timeout=90),
                lambda: subprocess.run(start, shell=True, check=True, timeout=90))  # fmt: skip
    from devtools.postgres_faults import PostgresFaults

    server = PostgresFaults.of(url)
    return server.stop, server.start


def _stop_postgres_for_a_while(url: str, config: DrillConfig, outage: Outage) -> None:
    try:
        stop, start = _postgres_switch(url)
        time.sleep(config.incident_after_seconds)
        outage.stopped_at = time.time()
        stop()
        time.sleep(config.outage_seconds)
        start()
        outage.started_at = time.time()
    except Exception as error:  # noqa: BLE001 - reported as a failed incident check, never hidden
        outage.error = f"{type(error).__name__}: {error}"


def _endpoint_figures(prefix: Path) -> dict[str, dict[str, Any]]:
    with open(f"{prefix}_stats.csv", newline="") as handle:
        return {row["Name"]: {"requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                              "requests_per_second": round(float(row["Requests/s"]), 1),
                              "p50_ms": float(row["50%"]), "p95_ms": float(row["95%"]), "p99_ms": float(row["99%"]),
                              "max_ms": round(float(row["Max Response Time"]), 1)}
                for row in csv.DictReader(handle)}  # fmt: skip


def _failures_by_status(prefix: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    with open(f"{prefix}_failures.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            found = re.search(
                r"\d{3}|\b0\b", row["Error"]
            )  # CatchResponseError('503'), or a connection error
            status = found.group(0) if found else row["Error"][:60]
            counts[status] = counts.get(status, 0) + int(row["Occurrences"])
    return dict(sorted(counts.items()))


def _statuses(
    timeline: dict[str, dict[str, int]], window: tuple[float, float] | None, *, inside: bool
) -> dict:
    totals: dict[str, int] = {}
    for second, counts in timeline.items():
        within = window is not None and window[0] <= int(second) <= window[1]
        if within == inside:
            for status, count in counts.items():
                totals[status] = totals.get(status, 0) + count
    return dict(sorted(totals.items()))


def _check(check_id: str, ok: bool, **figures: Any) -> dict[str, Any]:
    return {"id": check_id, "ok": bool(ok), **figures}


def run_locust(config: DrillConfig, world_json: str, work: Path) -> tuple[int, Path, dict, float, float]:
    """Locust to completion; returns (exit code, CSV prefix, journal, wall seconds, locust's CPU seconds)."""
    prefix, journal_path = work / "locust", work / "journal.json"
    base_url = json.loads(world_json)["base_url"]
    env = {**os.environ, "SETTLD_DRILL_WORLD": world_json, "SETTLD_DRILL_JOURNAL": str(journal_path),
           "SETTLD_DRILL_MAX_REQUESTS": str(config.max_requests)}  # fmt: skip
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--users", str(config.users),
               "--spawn-rate", str(config.users), "--run-time", f"{config.seconds}s", "--host", base_url,
               "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "30"]  # fmt: skip
    started = time.monotonic()
    with (work / "locust.log").open("wb") as log:
        locust = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = started + config.seconds + 180
        while True:
            pid, status, usage = os.wait4(locust.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                locust.kill()
            time.sleep(0.2)
    elapsed = time.monotonic() - started
    journal = json.loads(journal_path.read_text()) if journal_path.is_file() else {}
    return os.waitstatus_to_exitcode(status), prefix, journal, elapsed, usage.ru_utime + usage.ru_stime


def run_throughput_drill(config: DrillConfig, out: Path, work: Path) -> dict[str, Any]:
    """Run the drill; write the report(s) and the plot into `out`; return the main report."""
    load_before = os.getloadavg()
    out.mkdir(parents=True, exist_ok=True)
    (out / "profile-api.txt").unlink(missing_ok=True)  # an earlier run's profile is not this one's
    users_per_tenant = -(-config.users // config.tenants)
    with drill_world(tenants=config.tenants, users_per_tenant=users_per_tenant, workers=config.workers,
                     settlements_per_tenant=config.settlements_per_tenant, pool_size=config.pool_size,
                     work=work) as world:  # fmt: skip
        outage, fault = Outage(), None
        if config.incident:
            fault = threading.Thread(target=_stop_postgres_for_a_while,
                                     args=(world.server_url or world.database_url, config, outage))  # fmt: skip
            fault.start()
        roots = {"api (uvicorn workers)": world.server_pid}
        if world.server_url:
            roots["postgres"] = PostgresFaults.of(world.server_url).postmaster_pid()
        meter = CpuMeter(roots)
        profiler = (
            start_profile(world.server_pid, config.seconds, out / "profile-api.txt")
            if config.profile
            else None
        )
        exit_code, prefix, journal, elapsed, locust_cpu = run_locust(config, world.to_json(), work)
        cpu = meter.figures(extra={"locust (load generator)": locust_cpu})
        if profiler is not None:
            profiler.wait(timeout=60)
        if fault is not None:
            fault.join(timeout=config.outage_seconds + 120)
        books = None
        if journal:
            tenant_ids = [tenant.tenant_id for tenant in world.tenants]
            seen = observe(
                world.database_url,
                tenant_ids,
                run_tag=world.run_tag,
                deliveries_after=world.deliveries_before,
            )
            books = check_books(journal, seen)
        server_log = world.server_log.read_text(errors="replace")
    window = (
        (outage.stopped_at - 1, outage.started_at + config.recovery_seconds) if outage.started_at else None
    )
    endpoints = _endpoint_figures(prefix)
    total = endpoints.get(
        "Aggregated", {"requests": 0, "failures": 0, "p99_ms": 0.0, "p50_ms": 0.0, "p95_ms": 0.0}
    )
    timeline = journal.get("timeline", {})
    outside = _statuses(timeline, window, inside=False)
    inside = _statuses(timeline, window, inside=True)
    unavailable_inside = inside.get("503", 0) + inside.get("0", 0)
    failures_outside = max(total["failures"] - unavailable_inside, 0)
    hooks = journal.get("webhooks", {})
    webhook_count = journal.get("sent", {}).get("webhook", 0)
    rejected = hooks.get("forged_rejected", 0) + hooks.get("genuine_rejected", 0)
    rps = total["requests"] / elapsed if elapsed else 0.0
    p99_outside = total["p99_ms"]
    checks = [
        _check("load_ran", bool(journal) and total["requests"] > 0, locust_exit_code=exit_code),
        _check("throughput_at_least_target", rps >= config.min_requests_per_second, requests_per_second=round(rps, 1)),
        _check("p99_within_threshold", p99_outside <= config.p99_ms, p99_ms=p99_outside,
               measured_over="the whole run" if window else "all requests"),
        _check("failure_rate_within_threshold", total["requests"] and failures_outside / total["requests"]
               <= config.max_failure_rate, failures_outside_incident=failures_outside),
        _check("no_5xx_outside_incident", not any(status.startswith("5") or status == "0" for status in outside),
               statuses_outside_incident=outside),
        _check("rejected_ingest_within_threshold",
               webhook_count and rejected / webhook_count <= config.max_rejected_ingest_rate,
               rejected=rejected, webhooks=webhook_count),
        _check("books_check_out", books is not None and books.ok),
        _check("no_traceback_in_server_log", "Traceback" not in server_log),
    ]  # fmt: skip
    incident_window = (outage.stopped_at, outage.started_at) if outage.started_at else None
    svg = latency_svg(history_points(Path(f"{prefix}_stats_history.csv")), threshold_ms=config.p99_ms,
                      title="Throughput drill: latency of all requests", incident=incident_window)  # fmt: skip
    (out / "throughput-latency.svg").write_text(svg)
    report = {
        "schemaVersion": "ThroughputDrillReport.v1",
        "config": asdict(config),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_before": [round(v, 2) for v in load_before],
                    "load_average_after": [round(v, 2) for v in os.getloadavg()],
                    "note": "shared machine: other engineers' jobs run beside the drill"},
        "setup": {"server": f"settld api serve --workers {config.workers}, pool {config.pool_size}, 127.0.0.1",
                  "database": "PostgreSQL (throwaway server)" if world.server_url else "SETTLD_API_DATABASE_URL",
                  "load_tool": "locust headless, FastHttpUser, one process"},
        "metrics": {"run_seconds": round(elapsed, 1), "requests": total["requests"],
                    "requests_per_second": round(rps, 1), "p50_ms": total["p50_ms"], "p95_ms": total["p95_ms"],
                    "p99_ms": total["p99_ms"], "failures": total["failures"],
                    "failures_by_status": _failures_by_status(prefix), "statuses": _statuses(timeline, None, inside=False),
                    "webhooks": {k: v for k, v in hooks.items() if k != "acknowledged"},
                    "webhooks_acknowledged": len(hooks.get("acknowledged", [])),
                    "no_answer": journal.get("no_answer", []), "server_errors": journal.get("server_errors", {}), "races": len(journal.get("races", []))},
        "endpoints": {name: row for name, row in endpoints.items() if name != "Aggregated"},
        "where_the_time_goes": {
            "cpu": cpu,
            "api_profile": summarise_profile(out / "profile-api.txt") if (out / "profile-api.txt").is_file() else None,
        },
        "books": books.checks if books else [],
        "checks": checks,
        "plot": "throughput-latency.svg",
        "verdict": {"ok": all(check["ok"] for check in checks),
                    "failedChecks": [check["id"] for check in checks if not check["ok"]]},
    }  # fmt: skip
    write_report(out, report)
    if config.incident:
        write_report(out, incident_report(config, outage, inside, journal, books is not None and books.ok))
    return report


def incident_report(config: DrillConfig, outage: Outage, inside: dict, journal: dict, books_ok: bool) -> dict:
    timeline = journal.get("timeline", {})
    after = outage.started_at + config.recovery_seconds
    late_503 = [s for s, counts in timeline.items() if int(s) > after and counts.get("503")]
    served_after = any(int(s) > outage.started_at and any(k.startswith("2") for k in counts)
                       for s, counts in timeline.items())  # fmt: skip
    last_unavailable = max((int(s) for s, c in timeline.items() if c.get("503")), default=None)
    checks = [
        _check("outage_happened", outage.error is None and outage.started_at > 0, error=outage.error),
        _check("unavailable_answered_503", inside.get("503", 0) > 0, answers_503=inside.get("503", 0)),
        _check("retry_after_on_every_503", journal.get("unavailable_without_retry_after", 1) == 0),
        _check("no_500_and_no_hang", not any(s in inside for s in ("0", "500", "502", "504")), statuses=inside),
        _check("recovered_within_bound", not late_503 and served_after,
               seconds_from_restart_to_last_503=None if last_unavailable is None
               else round(last_unavailable + 1 - outage.started_at, 1)),
        _check("books_check_out", books_ok),
    ]  # fmt: skip
    return {
        "schemaVersion": "ThroughputIncidentRehearsalReport.v1",
        "outage": {"seconds": config.outage_seconds, "after_seconds_of_load": config.incident_after_seconds,
                   "stopped_at_unix": round(outage.stopped_at, 3), "started_at_unix": round(outage.started_at, 3),
                   "recovery_bound_seconds": config.recovery_seconds},
        "statuses_in_incident_window": inside,
        "server_errors_by_code": journal.get("server_errors", {}),
        "seconds_from_restart_to_last_5xx": round(journal.get("last_server_error_at", 0) - outage.started_at, 2)
        if outage.started_at and journal.get("last_server_error_at") else None,
        "checks": checks,
        "verdict": {"ok": all(check["ok"] for check in checks),
                    "failedChecks": [check["id"] for check in checks if not check["ok"]]},
    }  # fmt: skip
