"""API load figure: triage writes per second and latency percentiles, measured with locust (headless,
its own process) against uvicorn (its own process) on loopback, on a fresh SQLite database."""

from __future__ import annotations

import csv
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from api.core.database import Database
from api.reconciliation.publish import publish_mismatches
from api.tenants.service import create_key, ensure_tenant
from devtools.deploy import deploy_migrations
from devtools.serving import wait_until_serving
from reports.reconciliation import triage_key

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _seed(database_url: str, mismatches: int) -> tuple[str, list[str]]:
    """Tenant `tnt_bench`, a finance key, and `mismatches` published mismatches to triage."""
    deploy_migrations(database_url)
    rows = []
    for index in range(mismatches):
        key = f"tnt_bench:party:p{index:05d}:period:2026-10:statement:bench"
        rows.append({
            "triage_key": triage_key(source_type="money_rails_reconcile", tenant_id="tnt_bench", period="2026-10",
                                     provider_id="wire_fedline", mismatch_type="amount_mismatch", mismatch_key=key),
            "tenant_id": "tnt_bench", "period": "2026-10", "provider_id": "wire_fedline",
            "mismatch_type": "amount_mismatch", "mismatch_key": key, "source_type": "money_rails_reconcile",
            "mismatch_code": "MONEY_RAIL_AMOUNT_MISMATCH", "severity": "high", "severity_rank": 2,
            "party_id": f"p{index:05d}", "operation_id": f"mop_{index}", "operation_state": "confirmed",
            "operation_count": 1, "expected_amount_cents": 10_000, "actual_amount_cents": 9_900,
            "amount_delta_cents": -100, "currency": "USD", "actual_currency": "USD",
        })  # fmt: skip
    database = Database(database_url)
    try:
        with database.transaction() as session:
            ensure_tenant(session, tenant_id="tnt_bench")
            created = create_key(session, tenant_id="tnt_bench", scopes=["finance_read", "finance_write"],
                                 description="api load bench")  # fmt: skip
            token = created.token
    finally:
        database.dispose()
    publish_mismatches(database_url, rows, published_at=datetime(2026, 11, 3, tzinfo=UTC))
    return token, [row["triage_key"] for row in rows]


def _stats(prefix: Path) -> dict:
    with open(f"{prefix}_stats.csv", newline="") as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}

    def figures(row: dict) -> dict:
        return {
            "requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
            "requests_per_second": round(float(row["Requests/s"]), 1),
            "p50_ms": float(row["50%"]), "p99_ms": float(row["99%"]), "max_ms": round(float(row["Max Response Time"]), 1),
        }  # fmt: skip

    return {
        name: figures(row)
        for name, row in rows.items()
        if name in ("triage write", "queue read", "Aggregated")
    }


def run_api_bench(*, out: Path, users: int = 8, seconds: int = 20, mismatches: int = 200) -> dict:
    work = Path(tempfile.mkdtemp(prefix="settld-api-bench-"))
    database_url = f"sqlite:///{work / 'api.sqlite3'}"
    token, keys = _seed(database_url, mismatches)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SETTLD_API_DATABASE_URL": database_url}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning"], env=env,
    )  # fmt: skip
    try:
        wait_until_serving(f"{base_url}/readyz")
        prefix = work / "locust"
        subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--users", str(users),
             "--spawn-rate", str(users), "--run-time", f"{seconds}s", "--host", base_url, "--csv", str(prefix),
             "--only-summary", "--loglevel", "WARNING"],
            env={**env, "SETTLD_BENCH_TOKEN": token, "SETTLD_BENCH_TRIAGE_KEYS": ",".join(keys)},
            check=False, capture_output=True, timeout=seconds + 60,
        )  # fmt: skip
        stats = _stats(prefix)
    finally:
        server.terminate()
        server.wait(timeout=20)
    figures = {
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "setup": {
            "server": "uvicorn, 1 worker, 127.0.0.1",
            "database": "SQLite file (default)",
            "load_tool": "locust headless",
            "users": users,
            "seconds": seconds,
            "mismatches": mismatches,
            "mix": "4 triage writes (status toggles acknowledged/in_progress: real revisions) : 1 queue read",
        },  # fmt: skip
        "results": stats,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    return figures
