from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.postgres_server import PostgresNotInstalled, find_bindir, running_server
from tests.warehouse_snapshots import snapshot_files, snapshot_tables

REPO_ROOT = Path(__file__).resolve().parent.parent
# Every default location (warehouse, landing zone, artifacts, the API's database) under a folder of the
# suite's own, so a test that forgets a setting never touches the repository's demo state.
os.environ.setdefault("SETTLD_HOME", tempfile.mkdtemp(prefix="settld-test-home-"))
THROWAWAY_DOMAINS = REPO_ROOT / "tests" / "throwaway_domains" / "orchestration"


def pytest_configure(config: pytest.Config) -> None:
    """Parse the dbt project once per session (in the controller, before xdist workers start), so the
    Dagster definitions the tests load always match the SQL on disk, never a stale manifest."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    from orchestration.defs.transform.project import refresh_manifest

    refresh_manifest()


# The go-live gate's critical subset (`pytest -m critical`, run by `settld gate go-live`): the money and
# isolation rules a launch must never break, cheap enough to run before every cutover. Listed here, in one
# place, instead of a marker in each file; a module that moves or is renamed fails
# tests/test_golive_gate.py's check of this list.
CRITICAL_MODULES = (
    "tests/test_money.py",
    "tests/test_drill_books.py",
    "tests/test_golive_gate.py",
    "tests/test_lighthouse_tracker.py",
    "tests/api/test_api_triage.py",
    "tests/api/test_api_idempotency.py",
    "tests/api/test_api_stripe_webhook.py",
    "tests/api/test_api_marketplace_accept.py",
    "tests/api/test_api_tenant_isolation.py",
    "tests/api/test_api_database_outage.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.relative_to(REPO_ROOT).as_posix() in CRITICAL_MODULES:
            item.add_marker(pytest.mark.critical)


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A PostgreSQL server for this session (one per xdist worker): SETTLD_API_TEST_POSTGRES_URL's, or a
    throwaway one (devtools/postgres_server.py). Without PostgreSQL binaries the Postgres variants skip, unless
    SETTLD_REQUIRE_POSTGRES=1 (CI), which makes them fail instead."""
    configured = os.environ.get("SETTLD_API_TEST_POSTGRES_URL")
    if configured:
        yield _normalise(configured)
        return
    try:
        bindir = find_bindir()
    except PostgresNotInstalled as error:
        if os.environ.get("SETTLD_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"SETTLD_REQUIRE_POSTGRES=1 but PostgreSQL is unavailable: {error}", pytrace=False)
        pytest.skip(f"PostgreSQL unavailable: {error}")
    with running_server(bindir=bindir) as url:
        yield url


def _normalise(url: str) -> str:
    from api.core.settings import normalise_database_url

    return normalise_database_url(url)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """Debian's chromium through Playwright, one per worker (devtools/browser.py). Skipped where it is not
    installed, unless SETTLD_REQUIRE_BROWSER=1 (CI), which makes the browser tests fail instead."""
    from playwright.sync_api import sync_playwright

    from devtools.browser import ChromiumMissing, launch_chromium

    with sync_playwright() as playwright:
        try:
            chromium = launch_chromium(playwright)
        except ChromiumMissing as missing:
            if os.environ.get("SETTLD_REQUIRE_BROWSER") == "1":
                pytest.fail(f"SETTLD_REQUIRE_BROWSER=1 but {missing}", pytrace=False)
            pytest.skip(str(missing))
        yield chromium
        chromium.close()


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    root.mkdir()
    return root


@pytest.fixture
def warehouse_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """`settld generate` then `settld run` twice on the same files, as of the landing zone's manifest.

    Shared by the end-to-end and reconciliation tests (they run on one xdist worker: group `pipeline`).
    """
    import json

    from typer.testing import CliRunner

    import orchestration.defs
    from settld.cli.main import app

    root = tmp_path_factory.mktemp("pipeline")
    landing, warehouse, artifacts = root / "landing", root / "warehouse.duckdb", root / "artifacts"
    runner = CliRunner()
    run_args = ["run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", "manifest"]
    with pytest.MonkeyPatch.context() as patch:
        # A throwaway domain, found as any folder under orchestration/defs/ is (see its docstring).
        patch.setattr(orchestration.defs, "__path__", [*orchestration.defs.__path__, str(THROWAWAY_DOMAINS)])
        patch.setenv("SETTLD_TEST_PROBE_MARKER", str(root / "probe-marker.txt"))
        patch.setenv("SETTLD_ARTIFACTS_DIR", str(artifacts))
        # With an operator API (as `make demo`): landed Stripe events reach its event store, mismatches
        # are published, and the Postgres run of the same files has the same inputs.
        patch.setenv("SETTLD_API_DATABASE_URL", f"sqlite:///{root / 'api.sqlite3'}")
        generated = runner.invoke(app, ["generate", "--out", str(landing), "--tenants", "3", "--seed", "11"])
        assert generated.exit_code == 0, generated.output
        migrated = runner.invoke(app, ["api", "migrate"])  # the deploy step, as `make demo` runs it first
        assert migrated.exit_code == 0, migrated.output
        seeded = runner.invoke(app, ["api", "seed-policies", "--landing", str(landing)])  # as `make demo`
        assert seeded.exit_code == 0, seeded.output
        first = runner.invoke(app, run_args)
        assert first.exit_code == 0, first.output
        tables, files = snapshot_tables(warehouse), snapshot_files(artifacts)
        second = runner.invoke(app, run_args)
    return {
        "root": root, "landing": landing, "warehouse": warehouse, "artifacts": artifacts,
        "first": first, "second": second, "tables": tables, "artifact_files": files,
        "manifest": json.loads((landing / "manifest.json").read_text()),
    }  # fmt: skip
