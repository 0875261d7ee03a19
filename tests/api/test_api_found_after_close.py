"""Closed months stay honest: a mismatch a publish brings for a period that is closed is marked as found
after the close (once, never unmarked), shown and filtered in the queue, and the period stays closed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from api.reconciliation.publish import PublishResult
from tests.api.factories import T0, Factory, auth, mismatch_row

QUEUE = "/ops/finance/reconciliation/queue"
CLOSED, OPEN = "2026-09", "2026-10"


def row(key: str, period: str = CLOSED, mismatch_type: str = "stale_in_flight", **overrides) -> dict:
    return mismatch_row("acme", key, mismatch_type=mismatch_type, period=period, **overrides)  # medium


def flags(client: TestClient, token: str, **params) -> dict[str, str | None]:
    page = client.get(QUEUE, headers=auth(token), params={"limit": 500, **params}).json()
    assert all(
        item["is_found_after_close"] == (item["found_after_close_at"] is not None) for item in page["items"]
    )
    return {item["mismatch_key"]: item["found_after_close_at"] for item in page["items"]}


def test_a_mismatch_found_after_the_close_is_marked_once_and_the_period_stays_closed(
    closing_client: TestClient, factory: Factory, token: str, artifacts_dir: Path
) -> None:
    client = closing_client
    t1, t2, t3, t4, t5 = (T0 + timedelta(days=n) for n in range(1, 6))
    stamp = t2.isoformat().replace("+00:00", "Z")
    factory.publish([row("known"), row("gone")], at=t1)
    factory.green_verdict("acme", CLOSED, artifacts=artifacts_dir)
    assert client.post(f"/ops/finance/periods/{CLOSED}/close", headers=auth(token)).status_code == 200

    # "late" appears after the close, "gone" comes back after being cleared: both found after the close;
    # "known" was there at the close, and October is open.
    factory.publish([row("known")], at=t1 + timedelta(hours=1))
    result = factory.publish([row("known"), row("gone"), row("late"), row("october", OPEN)], at=t2)
    assert result == PublishResult(
        inserted=2, updated=0, unchanged=1, cleared=0, reappeared=1, found_after_close=2
    )
    assert flags(client, token) == {"known": None, "gone": stamp, "late": stamp, "october": None}
    assert set(flags(client, token, found_after_close=True)) == {"gone", "late"}
    assert set(flags(client, token, found_after_close=False)) == {"known", "october"}
    assert client.get(QUEUE, headers=auth(token), params={"found_after_close": "maybe"}).status_code == 422
    detail = client.post("/ops/finance/reconciliation/triage", headers=auth(token),
                         json={"triage_key": row("late")["triage_key"], "status": "acknowledged"})  # fmt: skip
    assert detail.status_code == 200
    triage = client.get(
        f"/ops/finance/reconciliation/triage/{row('late')['triage_key']}", headers=auth(token)
    )
    assert triage.json()["mismatch"]["found_after_close_at"] == stamp

    # Set once: a change, a clear and a return, and a reopen, never move or remove the mark.
    factory.publish(
        [row("known"), row("gone"), row("late", actual_amount_cents=9_000), row("october", OPEN)], at=t3
    )
    factory.publish([row("known"), row("october", OPEN)], at=t4)
    reopened = client.post(
        f"/ops/finance/periods/{CLOSED}/reopen", headers=auth(token), json={"reason": "late file"}
    )
    assert reopened.status_code == 200
    result = factory.publish(
        [row("known"), row("gone"), row("late"), row("reopened"), row("october", OPEN)], at=t5
    )
    assert result.found_after_close == 0  # the period is open again: a new finding is an ordinary one
    assert flags(client, token) == {
        "known": None,
        "gone": stamp,
        "late": stamp,
        "reopened": None,
        "october": None,
    }


def test_publishing_does_not_reopen_a_closed_period(
    closing_client: TestClient, factory: Factory, token: str, artifacts_dir: Path
) -> None:
    factory.green_verdict("acme", CLOSED, artifacts=artifacts_dir)
    closed = closing_client.post(f"/ops/finance/periods/{CLOSED}/close", headers=auth(token)).json()["close"]
    factory.publish([row("late", mismatch_type="missing_operation")], at=T0 + timedelta(days=1))  # critical
    period = closing_client.get(f"/ops/finance/periods/{CLOSED}", headers=auth(token)).json()
    assert period["close"] == closed  # still closed, same revision: the finding waits in the queue, marked
    assert set(flags(closing_client, token, found_after_close=True, severity="critical")) == {"late"}
