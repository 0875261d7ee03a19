"""Issue 17's acceptance, end to end: a brand-new tenant is bootstrapped over HTTP (uvicorn on loopback),
its first settlement lands through the real pipeline (`settld generate` into the landing zone, `settld
run`), and `first_settlement_completed` appears in its checklist and in marts.fct_onboarding_funnel. No
database is edited by hand: the API, the CLI and the pipeline write everything."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from api.core.settings import ApiSettings
from api.main import create_app
from devtools.postgres_server import create_database
from devtools.serving import wait_until_serving
from settld.cli.main import app
from settld.settings import warehouse_target
from settld.warehouse import connect as connect_warehouse

pytestmark = [pytest.mark.slow]
runner = CliRunner()


@contextmanager
def serving(database_url: str) -> Iterator[str]:
    """The API on 127.0.0.1 and a free port, in a thread; yields its base URL."""
    config = uvicorn.Config(create_app(ApiSettings(database_url=database_url)), host="127.0.0.1", port=0,
                            log_level="warning")  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        threading.Event().wait(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    wait_until_serving(f"{base_url}/healthz")
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


# Both cases are drills (`make test-drills`, which CI runs too): each is a full pipeline run of its own, which
# would put `make test` over its 10 minutes; the API's onboarding routes are tested in make test.
@pytest.fixture(
    params=[
        pytest.param("duckdb", marks=[pytest.mark.drill]),
        pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.drill]),
    ]
)
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """(warehouse, API database URL): a DuckDB file and a SQLite file, or one new Postgres database with
    the API in its schema `operator_api`, as production is laid out."""
    if request.param == "duckdb":
        return str(tmp_path / "warehouse.duckdb"), f"sqlite:///{tmp_path / 'api.sqlite3'}"
    server = request.getfixturevalue("postgres_server_url")
    database = create_database(server, f"settld_onboarding_{uuid.uuid4().hex[:10]}")
    warehouse = database.replace("postgresql+psycopg://", "postgresql://")
    return warehouse, f"{database}?options=-csearch_path%3Doperator_api"


def test_a_bootstrapped_tenant_sees_its_first_settlement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stores: tuple[str, str]
) -> None:
    warehouse, api_url = stores
    landing = tmp_path / "landing"
    monkeypatch.setenv("SETTLD_API_DATABASE_URL", api_url)
    monkeypatch.setenv("SETTLD_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    invoke("api", "migrate")
    platform = invoke("keys", "create", "--platform", "--scope", "ops_write", "--scope", "ops_read")
    ops = {"Authorization": f"Bearer {platform.strip().splitlines()[-1]}"}
    run_args = ("run", "--landing", str(landing), "--warehouse", warehouse, "--as-of", "manifest")

    with serving(api_url) as base:
        boot = httpx.post(f"{base}/ops/tenants/bootstrap", headers={**ops, "Idempotency-Key": "boot-acme"},
                          json={"tenant_id": "tnt_acme", "name": "Acme", "billing": {"plan": "growth"}})  # fmt: skip
        assert boot.status_code == 201, boot.text
        tenant = {"Authorization": f"Bearer {boot.json()['api_key']['token']}"}
        checklist_url = f"{base}/v1/tenants/tnt_acme/onboarding/checklist"
        before = httpx.get(checklist_url, headers=tenant).json()
        assert [s["done"] for s in before["steps"]] == [True, True, False, False, False]
        ran = httpx.post(f"{base}/v1/tenants/tnt_acme/onboarding/events", headers=tenant,
                         json={"event_type": "first_run_started", "event_id": "run-1"})  # fmt: skip
        assert ran.status_code == 200, ran.text

        invoke("generate", "--out", str(landing), "--tenants", "2", "--seed", "5", "--periods", "2026-10")
        invoke(*run_args)
        after = httpx.get(checklist_url, headers=tenant).json()
        # Another tenant's checklist stays out of reach of this key.
        other = httpx.get(f"{base}/v1/tenants/tnt_globex/onboarding/checklist", headers=tenant)
        assert (other.status_code, other.json()["code"]) == (404, "TENANT_NOT_FOUND")

        # The cohorts are published for platform keys; a tenant key is refused them.
        published = httpx.get(f"{base}/ops/onboarding/cohorts", params={"cohort_grain": "month"}, headers=ops)
        refused = httpx.get(f"{base}/ops/onboarding/cohorts", headers=tenant)
        assert (refused.status_code, refused.json()["code"]) == (403, "PLATFORM_KEY_REQUIRED")

        invoke(*run_args)  # a second run writes nothing back again
        again = httpx.get(checklist_url, headers=tenant).json()

    steps = {step["step"]: step for step in after["steps"]}
    settled = steps["first_settlement_completed"]
    assert settled["done"] and settled["recorded_by"] == "platform"
    # first_verification_passed was skipped: the first settlement still counts, and the next step is it.
    assert after["next_step"] == "first_verification_passed" and after["completed_steps"] == 4
    assert again == after
    with connect_warehouse(warehouse_target(warehouse), read_only=True) as db:
        first_resolved = db.scalar(
            "select min(resolved_at) from marts.fct_settlements where tenant_id = 'tnt_acme' and is_resolved"
        )
        funnel = db.query(
            "select first_settlement_completed_at, furthest_step, next_step, first_run_started_at "
            "from marts.fct_onboarding_funnel"
        )
        cohorts = db.query(
            "select reached_tenants, is_shareable from marts.fct_onboarding_cohorts "
            "where cohort_grain = 'month' and step = 'first_settlement_completed'"
        )
    # Only tenants of the API are onboarded (not tnt_globex, whose settlements landed too).
    assert [(row["first_settlement_completed_at"], row["furthest_step"], row["next_step"]) for row in funnel] == [
        (first_resolved, "first_settlement_completed", "first_verification_passed")]  # fmt: skip
    assert funnel[0]["first_run_started_at"] is not None
    assert settled["at"].replace("Z", "+00:00") == first_resolved.replace(tzinfo=UTC).isoformat()
    assert [(row["reached_tenants"], row["is_shareable"]) for row in cohorts] == [(1, False)]  # ops only
    # The funnel's rules (dbt unit tests: skipped steps, a cohort of one, an empty step, ties in the median)
    # hold on this engine too.
    monkeypatch.setenv("SETTLD_WAREHOUSE_URL", warehouse)
    unit_tests = runner.invoke(app, ["dbt", "test", "--select", "test_type:unit,+fct_onboarding_cohorts"])
    assert unit_tests.exit_code == 0, unit_tests.output
    settled_cohort = [c for c in published.json()["items"] if c["step"] == "first_settlement_completed"]
    assert [(c["reached_tenants"], c["is_shareable"]) for c in settled_cohort] == [(1, False)]
