"""Replaying a window of Stripe events: re-fetch what Stripe lists, and re-apply dead letters safely.

1. Pull: list the window's events from Stripe with the official SDK (`events.list` filtered on `created`,
   auto-paging, the SDK's own network retries) and store the ones not yet stored (source `pull`), each
   attributed by the webhook's rules (an event without a known tenant is parked, never guessed).
2. Dead letters: each rejected-but-replayable delivery received in the window is re-judged by the same
   code as a live delivery (api/billing/webhook.py) with its original body and `Stripe-Signature` header:
   the signature is verified again (the old service replayed unverified events; Settld does not). Only
   the timestamp tolerance is lifted, since a replay is late by design. A dead letter whose signature
   still fails is refused and stays ONE dead letter: the replay updates it (attempts, last error, and
   resolved once applied), it never records a copy.
`dry_run` reports what would happen and writes nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import stripe
from sqlalchemy.orm import Session

from api.billing import events, webhook
from api.billing.models import StripeEvent


@dataclass
class ReplayReport:
    window: dict[str, str]
    dry_run: bool
    pulled: dict[str, Any] = field(default_factory=lambda: {"listed": 0, "inserted": 0, "already_stored": 0,
                                                              "skipped": Counter()})  # fmt: skip
    dead_letters: dict[str, Any] = field(default_factory=lambda: {"found": 0, "applied": 0, "duplicate": 0,
                                                                    "refused": Counter(), "items": []})  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps({"window": self.window, "dry_run": self.dry_run, "pulled": self.pulled,
                                      "dead_letters": self.dead_letters}, default=dict))  # fmt: skip


def pull_window(session: Session, client: stripe.StripeClient, *, start: datetime, end: datetime | None, now: datetime,
                report: ReplayReport) -> int | None:  # fmt: skip
    """Store the window's listed events not yet stored; returns the newest `created` listed."""
    created = {"gte": int(start.timestamp())} | ({"lt": int(end.timestamp())} if end is not None else {})
    params = {"created": created, "limit": 100}
    newest: int | None = None
    for listed in client.v1.events.list(params=params).auto_paging_iter():
        event = listed.to_dict()
        report.pulled["listed"] += 1
        if isinstance(event.get("created"), int):
            newest = max(newest or 0, event["created"])
        if session.get(StripeEvent, event["id"]) is not None:
            report.pulled["already_stored"] += 1
            continue
        try:
            event = webhook.parse_event(json.dumps(event).encode())
        except webhook.WebhookRejected as rejected:
            report.pulled["skipped"][rejected.reason] += 1
            continue
        if not report.dry_run:
            events.store_event(session, event, source="pull", now=now)
        report.pulled["inserted"] += 1
    return newest


def replay_dead_letters(session: Session, *, secret: str | None, start: datetime, end: datetime, now: datetime,
                        report: ReplayReport) -> None:  # fmt: skip
    """Re-judge each unresolved dead letter received in the window. The letter itself records the
    attempt (`replay_attempts`, `last_error`, `last_replayed_at`) and, once applied, `resolved_at` and
    `resolution`: N replays of an event that stays refused leave one dead letter, not N copies."""
    since, until = start.astimezone(UTC), end.astimezone(UTC)
    for letter in webhook.dead_letters(session, since=since, until=until):
        report.dead_letters["found"] += 1
        body = (letter.payload or "").encode("utf-8")
        item = {
            "delivery_id": letter.delivery_id,
            "event_id": letter.event_id,
            "original_reason": letter.reason,
        }
        try:
            event = webhook.judge(body, letter.signature_header, secret, tolerance=0)
        except webhook.WebhookRejected as refused:
            report.dead_letters["refused"][refused.reason] += 1
            report.dead_letters["items"].append({**item, "result": "refused", "reason": refused.reason})
            if not report.dry_run:
                letter.replay_attempts, letter.last_error = letter.replay_attempts + 1, refused.reason
                letter.last_replayed_at = now
            continue
        if report.dry_run:
            report.dead_letters["items"].append({**item, "result": "would_apply"})
            continue
        stored = events.store_event(session, event, source="replay", now=now)
        status = (
            "duplicate"
            if not stored.created
            else ("accepted" if events.is_supported(event["type"]) else "ignored")
        )
        letter.replay_attempts, letter.last_replayed_at = letter.replay_attempts + 1, now
        letter.resolved_at, letter.resolution = now, status
        key = "duplicate" if status == "duplicate" else "applied"
        report.dead_letters[key] += 1
        report.dead_letters["items"].append({**item, "result": status})
