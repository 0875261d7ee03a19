"""The database drill of issue 27: under a small load of real HTTP, Postgres is frozen (SIGSTOP on the
postmaster and its backends: connections stay open and nothing answers, as in a partition) for 40 s, thawed,
then stopped for 10 s (refused) and started again.

Throughout: no 5xx other than 503 (a problem document with Retry-After), no request longer than the API's
bound (`ApiSettings.request_bound_seconds`, from the database timeouts), every write a client saw
acknowledged present exactly once (clients retry 503s with the same Idempotency-Key, as they should), and
the API serves again once the database is back. The server is uvicorn in a subprocess (`settld api serve`)
with the shipped default timeouts, on a throwaway Postgres of its own (the session's is left alone).

`SETTLD_DRILL_FREEZE_SECONDS` and `SETTLD_DRILL_STOP_SECONDS` shorten the outages (defaults 40 and 10: the
whole drill then takes about 75 s).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from api.core.migrate import migrate_database
from api.core.settings import ApiSettings
from devtools.postgres_faults import PostgresFaults
from devtools.postgres_server import create_database, running_server
from devtools.serving import wait_until_serving
from tests.api.factories import Factory, auth, mismatch_row

pytestmark = [pytest.mark.drill, pytest.mark.postgres]
FREEZE_SECONDS = float(os.environ.get("SETTLD_DRILL_FREEZE_SECONDS", "40"))
STOP_SECONDS = float(os.environ.get("SETTLD_DRILL_STOP_SECONDS", "10"))
CLIENTS = 4
BOUND = ApiSettings(database_url="sqlite://").request_bound_seconds
SLACK = 1.5  # HTTP, scheduling and a busy 2-core machine, on top of the API's own bound
TRIAGE = "/ops/finance/reconciliation/triage"


@dataclass(frozen=True)
class Answer:
    at: float
    seconds: float
    method: str
    path: str
    status: int  # 0: no answer within the client's timeout, or the connection failed
    code: str | None
    retry_after: str | None


@dataclass
class Load:
    """`CLIENTS` threads of reads and writes; each write is retried with its key until acknowledged."""

    base_url: str
    token: str
    triage_keys: list[str]
    answers: list[Answer] = field(default_factory=list)
    acknowledged: set[str] = field(default_factory=set)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, client: httpx.Client, method: str, path: str, **kwargs: object) -> Answer:
        started = time.monotonic()
        try:
            response = client.request(method, path, **kwargs)  # type: ignore[arg-type]
            status, retry_after = response.status_code, response.headers.get("retry-after")
            is_problem = response.headers.get("content-type") == "application/problem+json"
            code = response.json().get("code") if is_problem else None
        except httpx.HTTPError:
            status, code, retry_after = 0, None, None
        answer = Answer(started, time.monotonic() - started, method, path, status, code, retry_after)
        with self.lock:
            self.answers.append(answer)
        return answer

    def client(self, number: int) -> None:
        triage_key, write = self.triage_keys[number], 0
        with httpx.Client(base_url=self.base_url, timeout=BOUND + SLACK + 5) as client:
            while not self.stop.is_set():
                self.call(client, "GET", "/ops/finance/reconciliation/queue", headers=auth(self.token))
                note = f"drill-{number}-{write}"
                while not self.stop.is_set():  # the same write, with the same key, until acknowledged
                    body = {"triage_key": triage_key, "notes": note}
                    answer = self.call(client, "POST", TRIAGE, json=body,
                                       headers=auth(self.token, **{"Idempotency-Key": note}))  # fmt: skip
                    if answer.status == 200:
                        with self.lock:
                            self.acknowledged.add(note)
                        break
                    time.sleep(0.2)
                write += 1
                self.call(client, "GET", "/healthz")
                time.sleep(0.05)

    @property
    def last_second(self) -> list[Answer]:
        end = max(answer.at for answer in self.answers)
        return [answer for answer in self.answers if answer.at > end - 1]


@pytest.fixture
def drill_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A throwaway Postgres with a migrated database; yields (server URL, database URL)."""
    with running_server() as server_url:
        database_url = create_database(server_url, "drill")
        migrate_database(database_url)
        yield server_url, database_url


def _serve(database_url: str, log: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = "from settld.cli.api_commands import api_app; api_app()"
    server = subprocess.Popen([sys.executable, "-c", code, "serve", "--port", str(port), "--database-url", database_url],
                              stdout=subprocess.DEVNULL, stderr=log.open("w"))  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    wait_until_serving(f"{base_url}/readyz", process=server)
    return server, base_url


def test_the_api_degrades_through_a_frozen_and_a_stopped_database(
    drill_server: tuple[str, str], tmp_path: Path
) -> None:
    server_url, database_url = drill_server
    factory = Factory(database_url)
    rows = [mismatch_row("acme", f"drill_{number}") for number in range(CLIENTS)]
    factory.publish(rows)
    token = factory.key("acme", "finance_read", "finance_write")
    log = tmp_path / "api.log"
    server, base_url = _serve(database_url, log)
    postgres = PostgresFaults.of(server_url)
    load = Load(base_url, token, [row["triage_key"] for row in rows])
    clients = [threading.Thread(target=load.client, args=(number,)) for number in range(CLIENTS)]
    try:
        for client in clients:
            client.start()
        time.sleep(2)
        frozen_at = time.monotonic()
        with postgres.frozen():
            time.sleep(FREEZE_SECONDS)
        thawed_at = time.monotonic()
        time.sleep(3)
        postgres.stop()
        stopped_at = time.monotonic()
        time.sleep(STOP_SECONDS)
        postgres.start()
        started_at = time.monotonic()
        time.sleep(5)
    finally:
        load.stop.set()
        for client in clients:
            client.join(timeout=BOUND + 30)
        server.terminate()
        server.wait(timeout=20)

    answers = load.answers
    wrong = [a for a in answers if a.status >= 500 and a.status != 503 or a.status == 0]
    assert not wrong, f"5xx other than 503, or no answer: {wrong[:10]}"
    unavailable = [a for a in answers if a.status == 503]
    assert all(a.code == "DATABASE_UNAVAILABLE" and a.retry_after for a in unavailable), unavailable[:5]
    slow = sorted((a for a in answers if a.seconds > BOUND + SLACK), key=lambda a: -a.seconds)
    assert not slow, f"over the bound of {BOUND} s: {slow[:10]}"
    during_freeze = [a for a in answers if frozen_at < a.at and a.at + a.seconds < thawed_at]
    print(summary(answers, frozen_at, thawed_at, stopped_at, started_at))
    assert any(a.status == 503 for a in during_freeze), "the freeze was never seen"
    assert all(a.status == 200 for a in during_freeze if a.path == "/healthz"), (
        "liveness touched the database"
    )
    assert any(a.status == 503 for a in answers if stopped_at + 1 < a.at < started_at)
    assert all(a.status == 200 for a in load.last_second), "the API did not come back"

    engine = create_engine(database_url)
    with engine.connect() as connection:
        counts = dict(connection.execute(text(
            "select notes, count(*) from reconciliation_triage_actions where notes like 'drill-%' group by notes"
        )).all())  # fmt: skip
    engine.dispose()
    assert load.acknowledged, "no write was acknowledged"
    assert {note: counts.get(note, 0) for note in load.acknowledged} == dict.fromkeys(load.acknowledged, 1)
    assert all(count == 1 for count in counts.values()), {n: c for n, c in counts.items() if c != 1}
    assert "Traceback" not in log.read_text(), "an outage logs one line per failure, never a traceback"


def summary(answers: list[Answer], *marks: float) -> str:
    """Answers per phase (before, frozen, thawed, stopped, restarted): status counts and the slowest."""
    names = ("before", "frozen", "thawed", "stopped", "restarted")
    bounds = [float("-inf"), *marks, float("inf")]
    lines = []
    for name, start, end in zip(names, bounds, bounds[1:], strict=False):
        phase = [a for a in answers if start <= a.at < end]
        statuses = sorted({a.status for a in phase})
        counts = ", ".join(f"{status}: {sum(a.status == status for a in phase)}" for status in statuses)
        slowest = max((a.seconds for a in phase), default=0.0)
        lines.append(f"{name}: {len(phase)} requests ({counts}); slowest {slowest:.2f} s")
    return "\n".join(lines)
