"""publish_settlements: insert, identical republish, update, refusal of bad rows and of an old schema."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from api.arbitration.models import PublishedSettlement
from api.arbitration.publish import SettlementPublishResult, publish_settlements
from api.core.migrate import SchemaOutdated
from tests.api.arbitration_kit import T0, settlement_row
from tests.api.factories import Factory

ROWS = [settlement_row("acme", 1), settlement_row("acme", 2, status="locked"), settlement_row("globex", 1)]


def test_publish_lifecycle(factory: Factory) -> None:
    url = factory.database_url
    assert publish_settlements(url, ROWS, published_at=T0) == SettlementPublishResult(3, 0, 0)
    assert publish_settlements(url, list(reversed(ROWS)), published_at=T0 + timedelta(hours=1)) == (
        SettlementPublishResult(0, 0, 3)
    )
    resolved = settlement_row("acme", 2, status="released")  # the locked one resolves
    naive = {**resolved, "resolved_at": resolved["resolved_at"].replace(tzinfo=None)}  # DuckDB's naive UTC
    assert publish_settlements(url, [ROWS[0], naive, ROWS[2]], published_at=T0 + timedelta(hours=2)) == (
        SettlementPublishResult(0, 1, 2)
    )
    with factory.transaction() as session:
        stored = session.scalars(select(PublishedSettlement).where(PublishedSettlement.settlement_id == "setl_run_2")
                                 .where(PublishedSettlement.tenant_id == "acme")).one()  # fmt: skip
        assert stored.status == "released" and stored.resolved_at == resolved["resolved_at"]
        assert stored.dispute_window_ends_at == resolved["resolved_at"] + timedelta(days=14)
        assert stored.published_at == T0 + timedelta(hours=2)
    # a settlement gone from the mart is kept: disputes refer to it
    assert publish_settlements(
        url, ROWS[:1], published_at=T0 + timedelta(hours=3)
    ) == SettlementPublishResult(0, 0, 1)
    with factory.transaction() as session:
        assert len(session.scalars(select(PublishedSettlement)).all()) == 3


@pytest.mark.parametrize(
    ("row", "message"),
    [({**ROWS[0], "status": "pending"}, "unknown settlement status"), ({**ROWS[0], "amount_cents": 0}, "positive"),
     ({**ROWS[0], "resolved_at": 5}, "must be a timestamp"), ({**ROWS[0], "currency": None}, "currency is required")],
)  # fmt: skip
def test_publish_refuses_bad_rows(tmp_path: Path, row: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        publish_settlements(f"sqlite:///{tmp_path / 'bad.sqlite3'}", [row], published_at=T0)


def test_publish_refuses_duplicates_naive_instants_and_an_old_schema(
    factory: Factory, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="duplicate settlement"):
        publish_settlements(factory.database_url, [ROWS[0], ROWS[0]], published_at=T0)
    with pytest.raises(ValueError, match="timezone-aware"):
        publish_settlements(factory.database_url, ROWS, published_at=datetime(2026, 11, 1))  # noqa: DTZ001
    with pytest.raises(SchemaOutdated):
        publish_settlements(f"sqlite:///{tmp_path / 'fresh.sqlite3'}", ROWS, published_at=T0)
