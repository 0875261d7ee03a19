"""Incremental pull of Stripe events through the official SDK, into the operator API's event store.

The pull lists events created since the account's cursor (minus an overlap, so an event Stripe records a
little late is not skipped), auto-paging with the SDK's own network retries, and stores each new event
once (`source = pull`); events the webhook already delivered are recognised by id and left alone, so
pushed and pulled events meet in one table without duplicates. The cursor moves to the newest `created`
seen. Which state wins is decided downstream by each event's `created` (then id), never by arrival.
Parked v2 event notifications then get their related objects fetched through the SDK
(api/billing/notifications.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import stripe

from api.billing.models import StripePullCursor
from api.billing.notifications import fetch_related_objects
from api.billing.replay import ReplayReport, pull_window
from api.core.migrate import database_at_head

OVERLAP_SECONDS = 3600


@dataclass
class PullSummary:
    account: str
    since: int
    cursor: int
    listed: int = 0
    inserted: int = 0
    already_stored: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    related_objects: dict[str, int] = field(default_factory=dict)  # v2 notifications: fetched, failed, ...

    def as_metadata(self) -> dict[str, Any]:
        return {"account": self.account, "since": self.since, "cursor": self.cursor, "listed": self.listed,
                "inserted": self.inserted, "already_stored": self.already_stored, "skipped": self.skipped,
                "related_objects": self.related_objects}  # fmt: skip


def pull_events(
    database_url: str, client: stripe.StripeClient, *, account: str = "default", now: datetime | None = None
) -> PullSummary:
    now = now or datetime.now(UTC)
    with database_at_head(database_url) as database, database.transaction() as session:
        cursor = session.get(StripePullCursor, account)
        since = max(0, (cursor.created_cursor if cursor else 0) - OVERLAP_SECONDS)
        report = ReplayReport(window={"from": str(since), "to": "now"}, dry_run=False)
        newest = pull_window(session, client, start=datetime.fromtimestamp(since, UTC), end=None, now=now,
                             report=report)  # fmt: skip
        new_cursor = max(newest or 0, cursor.created_cursor if cursor else 0)
        if cursor is None:
            session.add(StripePullCursor(account=account, created_cursor=new_cursor, updated_at=now))
        else:
            cursor.created_cursor, cursor.updated_at = new_cursor, now
        related = fetch_related_objects(session, client, account=account, now=now)
    return PullSummary(account=account, since=since, cursor=new_cursor, listed=report.pulled["listed"],
                       inserted=report.pulled["inserted"], already_stored=report.pulled["already_stored"],
                       skipped=dict(report.pulled["skipped"]), related_objects=dict(related))  # fmt: skip
