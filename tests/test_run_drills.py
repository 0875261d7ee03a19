"""Drills on `settld run` itself (issue 27): killed with SIGKILL half-way, then run again, the warehouse equals
a clean run's; two runs on one warehouse, the second refuses naming the first (or waits for it), and
nothing is corrupted. On small generated data (one tenant, two months), each run a real `settld run`
process, as an operator starts it.

The kill points are found by watching what the run leaves, never by sleeping: the DuckDB write-ahead log
appears (loading), dbt's log reaches the marts (building), the first report file appears (writing
reports). The comparison is `warehouse_digest` (every table of every schema, without the load-time
columns, which say when a file arrived: they differ between any two runs) and every artifact file's bytes.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.warehouse_snapshots import snapshot_files, warehouse_contents, warehouse_digest

pytestmark = [pytest.mark.slow, pytest.mark.drill]

REPO_ROOT = Path(__file__).resolve().parent.parent
AS_OF = ["--as-of", "manifest"]
POLL_SECONDS = 0.02  # how often the drill looks at what the run has left (a poll, not a synchronisation)


class Home:
    """A folder standing for a clone (SETTLD_HOME): its landing zone, warehouse, API database, artifacts."""

    def __init__(self, root: Path, landing: Path, **env: str) -> None:
        self.root = root
        shutil.copytree(landing, root / "data" / "landing")
        self.env = {
            key: value for key, value in os.environ.items() if not key.startswith(("SETTLD_", "STRIPE_"))
        }
        self.env.pop("DAGSTER_HOME", None)
        self.env |= {"SETTLD_HOME": str(root), "PYTHONPATH": str(REPO_ROOT), "COLUMNS": "200", **env}
        self.started: list[subprocess.Popen[str]] = []
        assert self.settld("api", "migrate").returncode == 0

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse" / "settld.duckdb"

    @property
    def log(self) -> Path:
        return self.root / "warehouse" / "settld-run.log"

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "settld.cli.main", *args]

    def settld(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(*args), cwd=REPO_ROOT, env={**self.env, **env}, capture_output=True,
                              text=True, timeout=600, check=False)  # fmt: skip

    def start_run(self, **env: str) -> subprocess.Popen[str]:
        """`settld run` in a session of its own (so the drill can clean up whatever it leaves running); its
        output goes to a file (`output(process)`), so a full pipe never stalls it."""
        with (self.root / f"run-{len(self.started)}.out").open("w") as out:
            process = subprocess.Popen(self.command("run", *AS_OF), cwd=REPO_ROOT, env={**self.env, **env},
                                       text=True, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        self.started.append(process)
        return process

    def output(self, process: subprocess.Popen[str]) -> str:
        return (self.root / f"run-{self.started.index(process)}.out").read_text()

    def artifacts(self) -> dict[str, bytes]:
        # A writer killed between writing and renaming leaves a stray `.<name>.<random>.tmp`: no reader
        # looks at those (settld.core.atomic_write); every real file must be whole.
        files = snapshot_files(self.root / "artifacts")
        return {name: data for name, data in files.items() if not name.endswith(".tmp")}

    def stop_everything(self) -> None:
        for process in self.started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # the run and any dbt it started
            process.wait(timeout=60)


def _ok(completed: subprocess.CompletedProcess[str]) -> str:
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def _until(what: str, home: Home, process: subprocess.Popen[str], reached: Callable[[], bool],
           timeout: float = 300) -> None:  # fmt: skip
    """Poll until `reached()`; fail if the run ends first (the point was never reached)."""
    deadline = time.monotonic() + timeout
    while not reached():
        assert process.poll() is None, f"the run ended before {what}: {home.output(process)}"
        assert time.monotonic() < deadline, f"{what} not reached in {timeout} s"
        time.sleep(POLL_SECONDS)


@pytest.fixture(scope="module")
def zone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A small landing zone and a clean run on it: the reference every drill compares with."""
    from devtools.sample_data import generate_landing_zone

    root = tmp_path_factory.mktemp("drills")
    generate_landing_zone(root / "landing", seed=5, tenants=1, periods=("2026-09", "2026-10"))
    clean = Home(root / "clean", root / "landing")
    _ok(clean.settld("run", *AS_OF))
    yield {"root": root, "landing": root / "landing", "digest": warehouse_digest(str(clean.warehouse)),
           "artifacts": clean.artifacts(), "clean": clean}  # fmt: skip


def _in_load(home: Home) -> bool:
    wal = home.warehouse.with_name(home.warehouse.name + ".wal")
    return wal.is_file() and wal.stat().st_size > 0 and "Running with dbt" not in _log(home)


def _in_dbt(home: Home) -> bool:
    return re.search(r"^\d+ of \d+ START sql \w+ model marts\.", _log(home), re.MULTILINE) is not None


def _in_reports(home: Home) -> bool:
    return any((home.root / "artifacts").rglob("*.json"))


def _log(home: Home) -> str:
    return home.log.read_text(errors="replace") if home.log.is_file() else ""


KILL_POINTS = {"load": _in_load, "dbt": _in_dbt, "reports": _in_reports}


@pytest.mark.parametrize("point", sorted(KILL_POINTS))
def test_a_run_killed_then_rerun_equals_a_clean_run(zone: dict, tmp_path: Path, point: str) -> None:
    home = Home(tmp_path / "home", zone["landing"])
    try:
        run = home.start_run()
        _until(f"the {point} stage", home, run, lambda: KILL_POINTS[point](home))
        os.kill(run.pid, signal.SIGKILL)  # kill -9 of `settld run`, as an operator or the OOM killer would
        assert run.wait(timeout=60) == -signal.SIGKILL
        # The rerun waits for whatever the killed run left writing (its dbt, until it notices), then runs.
        rerun = _ok(home.settld("run", *AS_OF, SETTLD_RUN_LOCK_WAIT_SECONDS="120"))
        assert "Traceback" not in rerun
    finally:
        home.stop_everything()
    assert warehouse_digest(str(home.warehouse)) == zone["digest"]
    assert home.artifacts() == zone["artifacts"]


def test_a_second_run_on_the_same_duckdb_refuses_naming_the_first_or_waits_for_it(
    zone: dict, tmp_path: Path
) -> None:
    home = Home(tmp_path / "home", zone["landing"])
    lock_file = home.warehouse.with_name(home.warehouse.name + ".lock")
    try:
        first = home.start_run()
        _until("the first run holds the lock", home, first,
               lambda: lock_file.is_file() and f'"pid": {first.pid}' in lock_file.read_text())  # fmt: skip
        refused = home.settld("run", *AS_OF)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        message = " ".join(refused.stdout.split())
        assert "WAREHOUSE_LOCKED" in message and f"pid {first.pid}" in message, message
        assert "command settld run --as-of manifest" in message and "host " in message, message
        assert "Traceback" not in refused.stdout + refused.stderr
        waiting = home.start_run(SETTLD_RUN_LOCK_WAIT_SECONDS="300")
        assert first.wait(timeout=600) == 0, home.output(first)
        assert waiting.wait(timeout=600) == 0, home.output(
            waiting
        )  # it waited for the first, then ran (changing nothing)
    finally:
        home.stop_everything()
    assert warehouse_digest(str(home.warehouse)) == zone["digest"]
    assert home.artifacts() == zone["artifacts"]


@pytest.mark.postgres
def test_a_second_run_on_the_same_postgres_refuses_naming_the_first(
    zone: dict, tmp_path: Path, postgres_server_url: str
) -> None:
    import psycopg

    from devtools.postgres_server import create_database
    from settld.settings import warehouse_target
    from settld.warehouse import connect

    database = create_database(postgres_server_url, f"settld_race_{uuid.uuid4().hex[:8]}")
    url = database.replace("postgresql+psycopg://", "postgresql://")
    # As production is laid out: the operator API in the warehouse's database, schema operator_api.
    api_url = database + "?options=-csearch_path%3Doperator_api"
    home = Home(tmp_path / "home", zone["landing"], SETTLD_WAREHOUSE_URL=url, SETTLD_API_DATABASE_URL=api_url)

    def holder_query() -> str:
        with psycopg.connect(url, autocommit=True) as watcher:
            rows = watcher.execute("select query from pg_stat_activity where query like %s and pid <> pg_backend_pid()",
                                   ["%settld-writer%"]).fetchall()  # fmt: skip
        return " ".join(row[0] for row in rows)

    try:
        first = home.start_run()
        _until(
            "the first run holds the advisory lock",
            home,
            first,
            lambda: f'"pid": {first.pid}' in holder_query(),
        )
        refused = home.settld("run", *AS_OF)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        message = " ".join(refused.stdout.split())
        assert "WAREHOUSE_LOCKED" in message and f"pid {first.pid}" in message, message
        assert "command settld run --as-of manifest" in message, message
        assert first.wait(timeout=600) == 0, home.output(first)
    finally:
        home.stop_everything()
    clean = zone["clean"]
    with (
        connect(warehouse_target(str(clean.warehouse)), read_only=True) as duck,
        connect(warehouse_target(url), read_only=True) as postgres,
    ):
        assert warehouse_contents(postgres) == warehouse_contents(duck)
