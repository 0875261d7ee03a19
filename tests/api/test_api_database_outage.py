"""Every way the database can fail is a 503 DATABASE_UNAVAILABLE with Retry-After, within the bound: refused,
pool exhausted, a statement past its timeout, a lock held past SQLite's busy timeout, read-only, and a
connection held past its deadline (cut by the watchdog). Liveness never touches the database; readiness
does, and logs one line when it fails. (A frozen and a stopped server under load: the drill,
tests/api/test_api_database_drill.py.)
"""

from __future__ import annotations

import logging
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from api.core.deadlines import WATCHDOGS, install_deadlines
from api.core.settings import ApiSettings
from api.main import create_app
from tests.api.factories import Factory, auth, mismatch_row

TRIAGE = "/ops/finance/reconciliation/triage"


def assert_unavailable(
    response: httpx.Response, started: float, *, within: float, at_least: float = 0.0
) -> None:
    assert (response.status_code, response.json()["code"]) == (503, "DATABASE_UNAVAILABLE"), response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "1"
    assert at_least <= time.monotonic() - started < within


def serve(database_url: str, **settings: float) -> TestClient:
    return TestClient(create_app(ApiSettings(database_url=database_url, **settings)))


@pytest.fixture
def triage_key(factory: Factory) -> str:
    row = mismatch_row("acme", "outage")
    factory.publish([row])
    return row["triage_key"]


def test_a_refused_database_is_a_503_and_readiness_logs_one_line(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once the probe is closed
    with serve(f"postgresql+psycopg://postgres@127.0.0.1:{port}/settld") as client:  # starts all the same
        assert client.get("/healthz").json() == {"ok": True}
        caplog.clear()
        for path in ("/readyz", "/readyz", "/ops/audit"):
            started = time.monotonic()
            assert_unavailable(
                client.get(path, headers=auth("sk_" + "0" * 20 + "." + "a" * 43)), started, within=3
            )
    logged = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(logged) == 3 and all(record.exc_info is None for record in logged)
    assert all("\n" not in record.getMessage() and len(record.getMessage()) < 400 for record in logged)
    assert [record.name for record in logged] == ["api.health", "api.health", "api.errors"]


@pytest.mark.parametrize("pool_timeout", [0.3, 3.0])
def test_an_exhausted_pool_is_a_503_after_the_pool_timeout(
    database_url: str, token: str, pool_timeout: float
) -> None:
    # The wait is the configured one, not the default (2 s): at least the timeout, and 3 s is longer than
    # the default. No tight upper bound: a loaded CI machine answered 0.3 s in 2.3 s.
    with serve(
        database_url, database_pool_size=1, database_max_overflow=0, database_pool_timeout=pool_timeout
    ) as client:
        with client.app.state.database.engine.connect():  # type: ignore[attr-defined]  # the only connection
            started = time.monotonic()
            assert_unavailable(
                client.get("/ops/audit", headers=auth(token)), started, within=pool_timeout + 10
            )
            assert time.monotonic() - started >= pool_timeout
        assert client.get("/ops/audit", headers=auth(token)).status_code == 200


@contextmanager
def holding_write_lock(database_url: str) -> Iterator[None]:
    """Another writer holds the lock: SQLite's write lock, or the triage table on Postgres."""
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(make_url(database_url).database, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.rollback()
            connection.close()
        return
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(text("LOCK TABLE reconciliation_triage IN ACCESS EXCLUSIVE MODE"))
            yield
            connection.rollback()
    finally:
        engine.dispose()


def test_a_lock_past_the_timeout_is_a_503(database_url: str, token: str, triage_key: str) -> None:
    """Postgres cancels the statement at statement_timeout; SQLite gives up the wait at its busy timeout
    (the statement timeout unless set)."""
    body = {"triage_key": triage_key, "status": "acknowledged"}
    with serve(database_url, database_statement_timeout=0.5) as client:
        with holding_write_lock(database_url):
            started = time.monotonic()
            # The lock is held until the answer comes: without the timeout it would never come. The wait
            # lasts the timeout; the upper bound leaves a loaded machine room (3 s took 3.3 s once).
            response = client.post(TRIAGE, json=body, headers=auth(token))
            assert_unavailable(response, started, within=10, at_least=0.5)
        assert client.post(TRIAGE, json=body, headers=auth(token)).status_code == 200


@pytest.mark.postgres
@pytest.mark.parametrize(
    "database_url", ["postgres"], indirect=True
)  # a standby, default_transaction_read_only
def test_a_read_only_database_answers_writes_503_and_reads_200(
    database_url: str, token: str, triage_key: str, postgres_server_url: str
) -> None:
    admin = create_engine(postgres_server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = make_url(database_url).database
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    try:
        with serve(database_url) as client:
            started = time.monotonic()
            body = {"triage_key": triage_key, "status": "acknowledged"}
            assert_unavailable(client.post(TRIAGE, json=body, headers=auth(token)), started, within=2)
            assert client.get("/ops/finance/reconciliation/queue", headers=auth(token)).status_code == 200
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" RESET default_transaction_read_only'))
        admin.dispose()


@pytest.mark.postgres
def test_the_watchdog_cuts_a_connection_held_past_its_deadline(postgres_server_url: str) -> None:
    """What a frozen server needs (it cannot cancel anything itself): the client cuts a connection waiting
    past the deadline, the waiting thread gets a lost connection at once, and the pool serves a new one.
    Only waits on the server are bounded, not a request's own work between two statements."""
    engine = create_engine(postgres_server_url, connect_args={"connect_timeout": 2})
    watchdog = install_deadlines(engine, ping_seconds=2, deadline_seconds=0.5)
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError), engine.connect() as connection:
            connection.execute(text("select pg_sleep(10)"))
        assert time.monotonic() - started < 2 and watchdog.cuts == 1
        with engine.connect() as connection:  # a new connection; time between statements is not bounded
            assert connection.execute(text("select 1")).scalar() == 1
            time.sleep(0.8)
            assert connection.execute(text("select 2")).scalar() == 2
        assert watchdog.cuts == 1
    finally:
        WATCHDOGS.pop(engine).close()
        engine.dispose()
