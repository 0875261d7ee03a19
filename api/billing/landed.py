"""Stripe events that arrived as landing files (exports in `stripe/events/*.jsonl`, loaded into
`raw.stripe_events`), stored in the operator API's event store beside the webhook's, the pull's and the
replay's: one table, one row per event id, whichever path brought it first.

The same code stores them as the webhook does (api.billing.events.store_event), so a landed event's
tenant (the webhook's attribution rules, not the landing row's metadata-only `tenant_id`), plan, status and
object are read exactly as a delivered one's; an event without a known tenant is parked, not skipped. No signature exists for an exported event: its
trust is the landing file's (sha256 in `raw.load_files`). Copies are taken in load order (earliest loaded
first), and an event already stored is left alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from api.billing import events, webhook
from api.core.migrate import database_at_head

LANDED_EVENTS_SQL = """
select event_id, payload
from raw.stripe_events
order by _loaded_at, _source_file, _source_row
"""


@dataclass
class LandedImportSummary:
    rows: int = 0
    inserted: int = 0
    already_stored: int = 0
    skipped: Counter = field(default_factory=Counter)  # by reason key (invalid_json, schema_invalid)
    attribution: Counter = field(default_factory=Counter)  # inserted: tenant | platform | unattributed

    def as_metadata(self) -> dict[str, Any]:
        return {"rows": self.rows, "inserted": self.inserted, "already_stored": self.already_stored,
                "skipped": dict(sorted(self.skipped.items())),
                "attribution": dict(sorted(self.attribution.items()))}  # fmt: skip


def import_landed_events(database_url: str, rows: Iterable[dict[str, Any]], *, now: datetime | None = None
                         ) -> LandedImportSummary:  # fmt: skip
    """Store each landed event not stored yet (`rows`: LANDED_EVENTS_SQL's), in one transaction."""
    now = now or datetime.now(UTC)
    summary = LandedImportSummary()
    with database_at_head(database_url) as database, database.transaction() as session:
        for row in rows:
            summary.rows += 1
            try:
                event = webhook.parse_event((row["payload"] or "").encode("utf-8"))
            except webhook.WebhookRejected as rejected:
                summary.skipped[rejected.reason] += 1
                continue
            stored = events.store_event(session, event, source="landing", now=now)
            if stored.created:
                summary.inserted += 1
                summary.attribution[stored.attributed.attribution] += 1
            else:
                summary.already_stored += 1
    return summary
