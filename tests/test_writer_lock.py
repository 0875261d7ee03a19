"""One writer per warehouse (settld/warehouse.py: `writer_lock`): a second writer waits a bounded time, then
is refused with a message naming the holder; a holder killed with SIGKILL leaves no lock behind. On
DuckDB (a lock file beside the database) and on Postgres (an advisory lock). The race of two real
`settld run`s is in tests/test_run_drills.py."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import duckdb
import pytest

from settld.settings import warehouse_target
from settld.warehouse import WarehouseLocked, writer_lock

REPO_ROOT = Path(__file__).resolve().parent.parent
HOLD = """
import sys, time
from settld.settings import warehouse_target
from settld.warehouse import writer_lock
with writer_lock(warehouse_target(sys.argv[1]), command="settld run --as-of manifest"):
    print("held", flush=True)
    time.sleep(600)
"""


def _assert_refused(target_url: str, *, pid: int, command: str, wait: float = 0) -> WarehouseLocked:
    started = time.monotonic()
    with pytest.raises(WarehouseLocked) as refused, writer_lock(warehouse_target(target_url), command="second",
                                                                 wait_seconds=wait):  # fmt: skip
        pass
    assert time.monotonic() - started >= wait  # it waited as long as it was told, then refused
    message = str(refused.value)
    assert refused.value.code == "WAREHOUSE_LOCKED"
    assert f"pid {pid}" in message and f"host {socket.gethostname()}" in message, message
    assert f"command {command}" in message and "started_at 20" in message, message
    return refused.value


def _hold_in_a_process(target_url: str) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, target_url], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def _kill(holder: subprocess.Popen[str]) -> None:
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)


def test_a_second_duckdb_writer_waits_then_is_refused_naming_the_holder(tmp_path: Path) -> None:
    url = str(tmp_path / "settld.duckdb")
    with writer_lock(warehouse_target(url), command="settld run --as-of manifest"):
        refused = _assert_refused(url, pid=os.getpid(), command="settld run --as-of manifest", wait=0.6)
        assert "waited 0.6 s" in str(refused) or "waited 0.7 s" in str(refused)
        assert (tmp_path / "settld.duckdb.lock").is_file()  # beside the database file
    with writer_lock(warehouse_target(url), command="next"):  # released: the next writer goes
        pass


def test_a_killed_duckdb_writer_leaves_no_lock(tmp_path: Path) -> None:
    url = str(tmp_path / "settld.duckdb")
    holder = _hold_in_a_process(url)
    try:
        _assert_refused(url, pid=holder.pid, command="settld run --as-of manifest")
    finally:
        _kill(holder)
    with writer_lock(warehouse_target(url), command="after the kill"):
        pass


def test_a_process_with_the_duckdb_file_open_counts_as_a_writer(tmp_path: Path) -> None:
    """DuckDB's own lock (the dbt of a killed run, a Dagster UI run, a shell) is waited for too."""
    path = tmp_path / "settld.duckdb"
    script = (
        f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('held', flush=True); time.sleep(600)"
    )
    other = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "held"
        with (
            pytest.raises(WarehouseLocked) as refused,
            writer_lock(warehouse_target(str(path)), command="run"),
        ):
            pass
        assert f"pid {other.pid}" in str(refused.value)
    finally:
        _kill(other)
    with writer_lock(warehouse_target(str(path)), command="run"):
        assert duckdb.connect(str(path)).execute("select 1").fetchone() == (1,)


@pytest.mark.postgres
def test_postgres_writers_are_one_at_a_time_by_an_advisory_lock(postgres_server_url: str) -> None:
    from devtools.postgres_server import create_database

    url = create_database(postgres_server_url, f"settld_lock_{uuid.uuid4().hex[:8]}").replace(
        "postgresql+psycopg://", "postgresql://"
    )
    holder = _hold_in_a_process(url)
    try:
        _assert_refused(url, pid=holder.pid, command="settld run --as-of manifest", wait=0.4)
    finally:
        _kill(holder)  # the server ends the session of a dead client, and with it the lock
    with writer_lock(warehouse_target(url), command="after the kill", wait_seconds=30):
        pass
