"""publish_mismatches: insert, identical republish, update, clear, reappear; the audit log's append-only rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from api.core.database import Database
from api.core.migrate import SchemaOutdated, migrate_database
from api.reconciliation.models import ReconciliationMismatch
from api.reconciliation.publish import PublishResult, publish_mismatches
from tests.api.factories import T0, mismatch_row

ROWS = [
    mismatch_row("acme", "p1"),
    mismatch_row(
        "acme", "p2", mismatch_type="missing_operation", actual_amount_cents=None, amount_delta_cents=None
    ),
    mismatch_row("globex", "p3", mismatch_type="stale_in_flight", period="2026-08"),
]


def stored(url: str) -> dict[str, dict]:
    database = Database(url)
    try:
        with database.session() as session:
            rows = session.scalars(select(ReconciliationMismatch)).all()
            return {
                row.mismatch_key: {
                    c.key: getattr(row, c.key) for c in ReconciliationMismatch.__table__.columns
                }
                for row in rows
            }
    finally:
        database.dispose()


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'api.sqlite3'}"
    migrate_database(url)
    return url


def test_publish_refuses_a_database_not_at_head(tmp_path: Path) -> None:
    with pytest.raises(SchemaOutdated, match="settld api migrate"):
        publish_mismatches(f"sqlite:///{tmp_path / 'fresh.sqlite3'}", ROWS, published_at=T0)


def test_publish_lifecycle(url: str) -> None:
    t1, t2, t3, t4 = (T0 + timedelta(days=n) for n in range(4))

    assert publish_mismatches(url, ROWS, published_at=t1) == PublishResult(3, 0, 0, 0, 0)
    first = stored(url)
    assert first["p1"]["first_seen_at"] == first["p1"]["last_seen_at"] == first["p1"]["published_at"] == t1
    assert first["p2"]["actual_amount_cents"] is None and first["p1"]["cleared_at"] is None

    assert publish_mismatches(url, list(reversed(ROWS)), published_at=t2) == PublishResult(0, 0, 3, 0, 0)
    assert stored(url) == first  # identical rows: nothing written, not even timestamps

    changed = [{**ROWS[0], "actual_amount_cents": 9_000, "amount_delta_cents": -1_000}, ROWS[2]]
    assert publish_mismatches(url, changed, published_at=t3) == PublishResult(0, 1, 1, 1, 0)
    third = stored(url)
    assert third["p1"]["amount_delta_cents"] == -1_000 and third["p1"]["last_seen_at"] == t3
    assert third["p1"]["first_seen_at"] == t1
    assert (
        third["p2"]["cleared_at"] == t3
        and third["p2"]["published_at"] == t3
        and third["p2"]["last_seen_at"] == t1
    )
    assert third["p3"] == first["p3"]

    assert publish_mismatches(url, changed, published_at=t3 + timedelta(hours=1)) == PublishResult(
        0, 0, 2, 0, 0
    )
    assert publish_mismatches(url, [*changed, ROWS[1]], published_at=t4) == PublishResult(0, 0, 2, 0, 1)
    fourth = stored(url)
    assert fourth["p2"]["cleared_at"] is None and fourth["p2"]["last_seen_at"] == t4
    assert fourth["p2"]["first_seen_at"] == t1

    assert publish_mismatches(url, [], published_at=t4 + timedelta(days=1)) == PublishResult(0, 0, 0, 3, 0)
    assert len(stored(url)) == 3  # cleared, never deleted


def test_publish_limited_to_periods(url: str) -> None:
    publish_mismatches(url, ROWS, published_at=T0)
    september = [row for row in ROWS if row["period"] == "2026-09"][:1]
    result = publish_mismatches(url, september, published_at=T0 + timedelta(days=1), periods=["2026-09"])
    assert result == PublishResult(0, 0, 1, 1, 0)  # p2 cleared; August's p3 untouched
    assert stored(url)["p3"]["cleared_at"] is None
    with pytest.raises(ValueError, match="outside the published periods"):
        publish_mismatches(url, ROWS, published_at=T0, periods=["2026-09"])


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{**ROWS[0], "tenant_id": None}], "tenant_id is required"),
        ([{**ROWS[0], "expected_amount_cents": 12.5}], "must be an integer"),
        ([{**ROWS[0], "severity": "urgent"}], "unknown severity"),
        ([{**ROWS[0], "period": "2026-9"}], "YYYY-MM"),
        ([ROWS[0], ROWS[0]], "duplicate triage_key"),
    ],
)
def test_publish_refuses_bad_rows(tmp_path: Path, rows: list[dict], message: str) -> None:
    with pytest.raises(ValueError, match=message):  # before the database is even opened
        publish_mismatches(f"sqlite:///{tmp_path / 'bad.sqlite3'}", rows, published_at=T0)


def test_publish_accepts_integral_floats_and_nan_nulls(url: str) -> None:
    row = {**ROWS[0], "expected_amount_cents": 10_000.0, "party_id": float("nan")}
    publish_mismatches(url, [row], published_at=T0)
    assert stored(url)["p1"]["expected_amount_cents"] == 10_000 and stored(url)["p1"]["party_id"] is None
    with pytest.raises(ValueError, match="timezone-aware"):
        publish_mismatches(url, [row], published_at=datetime(2026, 10, 1))  # noqa: DTZ001
    assert publish_mismatches(url, [row], published_at=datetime(2026, 10, 2, tzinfo=UTC)).unchanged == 1


def test_audit_log_is_append_only_in_the_database(database_url: str, factory) -> None:
    factory.key("acme", "finance_read")
    database = Database(database_url)
    try:
        for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
            with database.engine.connect() as connection, pytest.raises(DatabaseError, match="append-only"):
                connection.execute(text(statement))
    finally:
        database.dispose()
