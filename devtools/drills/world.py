"""The world a throughput drill loads: a migrated Postgres database, the API served by `settld api serve
--workers N` with a connection pool, and tenants bootstrapped through the API's own route
(POST /ops/tenants/bootstrap with a platform key), each with published mismatches to triage and resolved
settlements to dispute.

    with drill_world(config, work) as world:   # world.base_url, world.tenants, world.database_url
        ...
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from devtools.deploy import deploy_migrations
from devtools.serving import wait_until_serving

WEBHOOK_SECRET = "whsec_drill_settld_throughput_0001"
PERIOD = "2026-11"


@dataclass(frozen=True)
class DrillTenant:
    tenant_id: str
    token: str
    triage_keys: list[str]
    settlement_ids: list[str]


@dataclass(frozen=True)
class DrillWorld:
    base_url: str
    database_url: str  # SQLAlchemy URL of the API database
    server_url: str | None  # the throwaway server's URL when the drill started it (faults need it)
    tenants: list[DrillTenant]
    webhook_secret: str
    server_log: Path
    run_tag: str  # in tenant and event ids: drills on one long-lived database never see each other's rows
    deliveries_before: int  # the webhook delivery rows already there (a shared database's earlier drills)
    server_pid: int  # uvicorn's supervisor; its workers are its children

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "server_log": str(self.server_log)})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def drill_database() -> Iterator[tuple[str, str | None]]:
    """SETTLD_DRILL_DATABASE_URL, or SETTLD_API_DATABASE_URL, when it names Postgres (server URL unknown: the
    incident needs SETTLD_DRILL_POSTGRES_STOP/START or a local server), else a throwaway server of
    devtools/postgres_server.py with database `drill`; yields (database URL, server URL)."""
    configured = os.environ.get("SETTLD_DRILL_DATABASE_URL") or os.environ.get("SETTLD_API_DATABASE_URL", "")
    if configured.startswith("postgresql"):
        yield configured, None
        return
    from devtools.postgres_server import create_database, running_server

    with running_server() as server_url:
        yield create_database(server_url, "drill"), server_url


def _platform_token(database_url: str) -> str:
    from api.core.database import Database
    from api.tenants.keys import create_platform_key

    database = Database(database_url)
    try:
        with database.transaction() as session:
            return create_platform_key(session, scopes=["ops_read", "ops_write"], description="drill").token
    finally:
        database.dispose()


def _bootstrap(base_url: str, platform_token: str, tenant_id: str) -> str:
    body = {
        "tenant_id": tenant_id,
        "name": f"Drill {tenant_id}",
        "api_key": {"description": "throughput drill"},
    }
    headers = {"Authorization": f"Bearer {platform_token}", "Idempotency-Key": f"bootstrap-{tenant_id}"}
    answer = httpx.post(f"{base_url}/ops/tenants/bootstrap", json=body, headers=headers, timeout=30)
    if answer.status_code != 201:
        raise RuntimeError(f"bootstrap of {tenant_id}: {answer.status_code} {answer.text[:300]}")
    return answer.json()["api_key"]["token"]


def _mismatch(tenant_id: str, index: int) -> dict:
    from reports.reconciliation import triage_key

    key = f"{tenant_id}:party:p{index:05d}:period:{PERIOD}:statement:drill"
    return {
        "triage_key": triage_key(source_type="money_rails_reconcile", tenant_id=tenant_id, period=PERIOD,
                                 provider_id="wire_fedline", mismatch_type="amount_mismatch", mismatch_key=key),
        "tenant_id": tenant_id, "period": PERIOD, "provider_id": "wire_fedline",
        "mismatch_type": "amount_mismatch", "mismatch_key": key, "source_type": "money_rails_reconcile",
        "mismatch_code": "MONEY_RAIL_AMOUNT_MISMATCH", "severity": "high", "severity_rank": 2,
        "party_id": f"p{index:05d}", "operation_id": f"mop_{index}", "operation_state": "confirmed",
        "operation_count": 1, "expected_amount_cents": 10_000, "actual_amount_cents": 9_900,
        "amount_delta_cents": -100, "currency": "USD", "actual_currency": "USD",
    }  # fmt: skip


def _settlement(tenant_id: str, index: int, now: datetime) -> dict:
    resolved = now - timedelta(days=1)
    return {
        "tenant_id": tenant_id, "settlement_id": f"setl_drill_{index:06d}", "run_id": f"run_drill_{index:06d}",
        "payer_agent_id": f"agt_payer_{index}", "payee_agent_id": f"agt_payee_{index}", "status": "released",
        "policy_id": "pol_standard", "policy_version": 1, "policy_hash": "d" * 64, "amount_cents": 10_000,
        "released_amount_cents": 10_000, "refunded_amount_cents": 0, "currency": "USD", "resolved_at": resolved,
        "dispute_window_ends_at": resolved + timedelta(days=14),
    }  # fmt: skip


def seed_tenant(database_url: str, tenant_id: str, token: str, *, keys: int, settlements: int) -> DrillTenant:
    """Published mismatches (one triage record per drill user) and resolved settlements (one dispute each)."""
    from api.arbitration.publish import publish_settlements
    from api.reconciliation.publish import publish_mismatches

    now = datetime.now(UTC)
    mismatches = [_mismatch(tenant_id, index) for index in range(keys)]
    publish_mismatches(database_url, mismatches, published_at=now)
    rows = [_settlement(tenant_id, index, now) for index in range(settlements)]
    publish_settlements(database_url, rows, published_at=now)
    return DrillTenant(tenant_id, token, [row["triage_key"] for row in mismatches],
                       [row["settlement_id"] for row in rows])  # fmt: skip


def _delivery_high_water(database_url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                text("select coalesce(max(delivery_id), 0) from stripe_webhook_deliveries")
            ).scalar_one()
    finally:
        engine.dispose()


def serve(database_url: str, *, workers: int, pool_size: int, log: Path) -> tuple[subprocess.Popen, str]:
    """`settld api serve --workers N` on a free loopback port, production settings otherwise."""
    port = free_port()
    env = {**os.environ, "SETTLD_API_DATABASE_URL": database_url, "SETTLD_API_DATABASE_POOL_SIZE": str(pool_size),
           "SETTLD_API_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}  # fmt: skip
    code = "from settld.cli.api_commands import api_app; api_app()"
    command = [sys.executable, "-c", code, "serve", "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    base_url = f"http://127.0.0.1:{port}"
    wait_until_serving(f"{base_url}/readyz", process=server, timeout=60)
    return server, base_url


@contextmanager
def drill_world(
    *,
    tenants: int,
    users_per_tenant: int,
    settlements_per_tenant: int,
    workers: int,
    pool_size: int,
    work: Path,
) -> Iterator[DrillWorld]:
    with ExitStack() as stack:
        database_url, server_url = stack.enter_context(drill_database())
        deploy_migrations(database_url)
        platform = _platform_token(database_url)
        log = work / "api-server.log"
        server, base_url = serve(database_url, workers=workers, pool_size=pool_size, log=log)
        try:
            seeded, run_tag = [], secrets.token_hex(3)
            for number in range(tenants):
                tenant_id = f"tnt_drill_{run_tag}_{number + 1}"
                token = _bootstrap(base_url, platform, tenant_id)
                seeded.append(seed_tenant(database_url, tenant_id, token, keys=users_per_tenant * 2,
                                          settlements=settlements_per_tenant))  # fmt: skip
            from devtools.sample_data.policies import seed_registry

            # the sample registry's presets, one active (accepting a bid pins the run to a policy)
            seed_registry(database_url, [tenant.tenant_id for tenant in seeded], at=datetime.now(UTC))
            before = _delivery_high_water(database_url)
            yield DrillWorld(
                base_url, database_url, server_url, seeded, WEBHOOK_SECRET, log, run_tag, before, server.pid
            )
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
