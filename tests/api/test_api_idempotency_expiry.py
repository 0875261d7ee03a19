"""Idempotency keys expire (issue 27): a stored response is replayed for the retention (24 h by default, as
Stripe keeps keys), then forgotten, so the same key is a new request; expired records are purged by
`settld api purge` and by the Dagster job `purge_idempotency_records`. The app's clock is injected: no sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from api.core.database import Database, utc_now
from api.core.settings import ApiSettings
from api.idempotency.models import IdempotencyRecord
from api.idempotency.purge import purge_idempotency_records
from api.main import create_app
from orchestration.defs.operator_api.maintenance import purge_idempotency_records_job
from orchestration.resources import OperatorApiResource
from settld.cli.api_commands import api_app
from tests.api.factories import T0, Factory, auth, mismatch_row

TRIAGE = "/ops/finance/reconciliation/triage"
DAY = timedelta(hours=24)


@dataclass
class FixedClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def timed_client(database_url: str, clock: FixedClock) -> Iterator[TestClient]:
    with TestClient(create_app(ApiSettings(database_url=database_url), clock=clock)) as client:
        yield client


@pytest.fixture
def triage_key(factory: Factory) -> str:
    row = mismatch_row("acme", "payout_expiry")
    factory.publish([row])
    return row["triage_key"]


def records(database_url: str) -> list[tuple[str, datetime]]:
    database = Database(database_url)
    try:
        with database.session() as session:
            rows = session.execute(select(IdempotencyRecord.idempotency_key, IdempotencyRecord.created_at))
            return sorted((key, created_at) for key, created_at in rows)
    finally:
        database.dispose()


def test_a_key_is_replayed_for_24_hours_then_is_a_new_request(
    timed_client: TestClient, clock: FixedClock, token: str, triage_key: str, database_url: str
) -> None:
    def post(body: dict) -> tuple[int, dict, bool]:
        response = timed_client.post(TRIAGE, json=body, headers=auth(token, **{"Idempotency-Key": "k-1"}))
        return response.status_code, response.json(), response.headers.get("Idempotent-Replayed") == "true"

    acknowledge = {"triage_key": triage_key, "status": "acknowledged"}
    status, first, replayed = post(acknowledge)
    assert (status, first["triage"]["revision"], replayed) == (200, 1, False)

    clock.now = T0 + DAY - timedelta(seconds=1)  # within the retention: the stored answer, byte for byte
    assert post(acknowledge) == (200, first, True)
    status, reused, _ = post({**acknowledge, "status": "in_progress"})
    assert (status, reused["code"]) == (409, "IDEMPOTENCY_KEY_REUSED")

    clock.now = T0 + DAY  # expired: the key is forgotten, and another body under it is a new request
    status, second, replayed = post({**acknowledge, "status": "in_progress"})
    assert (status, second["triage"]["status"], second["triage"]["revision"], replayed) == (
        200, "in_progress", 2, False
    )  # fmt: skip
    assert records(database_url) == [("k-1", T0 + DAY)]  # one record for the key, the new one
    assert post({**acknowledge, "status": "in_progress"}) == (200, second, True)  # replayed from now on


def test_purge_deletes_only_what_has_expired(
    timed_client: TestClient, clock: FixedClock, token: str, triage_key: str, database_url: str
) -> None:
    for hours, key in ((0, "old"), (12, "recent")):
        clock.now = T0 + timedelta(hours=hours)
        body = {"triage_key": triage_key, "notes": key}
        response = timed_client.post(TRIAGE, json=body, headers=auth(token, **{"Idempotency-Key": key}))
        assert response.status_code == 200
    assert purge_idempotency_records(database_url, now=T0 + DAY - timedelta(seconds=1), retention=DAY) == 0
    assert purge_idempotency_records(database_url, now=T0 + DAY, retention=DAY) == 1
    assert records(database_url) == [("recent", T0 + timedelta(hours=12))]


def test_settld_api_purge_and_the_dagster_job(
    timed_client: TestClient, token: str, triage_key: str, database_url: str
) -> None:
    """Both run on the wall clock: a record stored at T0 (October 2026) has expired, one stored now has not."""
    for key in ("from-october", "from-today"):
        if key == "from-today":
            timed_client.app.state.clock = utc_now  # type: ignore[attr-defined]
        body = {"triage_key": triage_key, "notes": key}
        assert timed_client.post(
            TRIAGE, json=body, headers=auth(token, **{"Idempotency-Key": key})
        ).is_success
    run = purge_idempotency_records_job.execute_in_process(
        resources={"operator_api": OperatorApiResource(database_url=database_url)}
    )
    assert run.success and run.output_for_node("purge_expired_idempotency_records") == 1
    assert [key for key, _ in records(database_url)] == ["from-today"]

    kept = CliRunner().invoke(api_app, ["purge", "--database-url", database_url])
    assert kept.exit_code == 0, kept.output
    assert "Purged 0 idempotency record(s)" in kept.output and "retention 24 h" in kept.output
    purged = CliRunner().invoke(api_app, ["purge", "--database-url", database_url, "--retention-hours", "0"])
    assert purged.exit_code == 0 and "Purged 1 idempotency record(s)" in purged.output
    assert records(database_url) == []
