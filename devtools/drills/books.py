"""The books after a throughput drill: what the load generator was told (its journal) against what the
database holds. `check_books` is a pure function of the two, so it is tested on crafted inputs
(tests/test_drill_books.py); `observe` reads the database once the load has stopped.

Checks (each `{id, ok, detail}`):
- `webhooks_stored_once`: every acknowledged event is stored exactly once, and nothing else is stored;
- `forged_webhooks_rejected`: every forged delivery was answered 400, and no genuine one;
- `webhook_deliveries_counted`: one delivery row per webhook the API answered (200 or 400);
- `races_one_winner`: every accept race has exactly one agreement, and the racers saw one 200 at most;
- `triage_revisions_contiguous`: each triage record's revisions are 1..n without a gap or a repeat;
- `triage_writes_not_lost`: every acknowledged triage write is one revision, exactly once, and no revision
  holds a write nobody was told about;
- `stale_if_match_refused`: every write sent with a stale If-Match was refused with 409;
- `disputes_and_cases_stored_once`: every acknowledged dispute and case exists once, and no other.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Observed:
    """What the database holds of the drill's writes."""

    stored_event_ids: list[
        str
    ]  # stripe_events with the drill's prefix (a repeat would show twice: it cannot)
    delivery_count: int  # stripe_webhook_deliveries rows
    triage_actions: dict[
        str, list[tuple[int, str | None]]
    ]  # triage_key -> [(revision, notes)] in revision order
    agreements_per_rfq: dict[str, int]
    dispute_settlements: list[str]
    case_settlements: list[str]


@dataclass
class BooksVerdict:
    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check["ok"] for check in self.checks)

    def add(self, check_id: str, problems: list[str], **figures: Any) -> None:
        self.checks.append({"id": check_id, "ok": not problems, "problems": problems[:20],
                            "problem_count": len(problems), **figures})  # fmt: skip


def _repeats(values: list[str]) -> list[str]:
    return sorted(value for value, count in Counter(values).items() if count > 1)


def check_books(journal: dict[str, Any], observed: Observed) -> BooksVerdict:
    verdict = BooksVerdict()
    hooks = journal["webhooks"]
    acknowledged = [item["id"] for item in hooks["acknowledged"]]
    stored = observed.stored_event_ids
    verdict.add("webhooks_stored_once",
                [f"acknowledged twice: {i}" for i in _repeats(acknowledged)]
                + [f"stored twice: {i}" for i in _repeats(stored)]
                + [f"acknowledged, not stored: {i}" for i in sorted(set(acknowledged) - set(stored))]
                + [f"stored, never acknowledged: {i}" for i in sorted(set(stored) - set(acknowledged))],
                acknowledged=len(acknowledged), stored=len(stored))  # fmt: skip
    verdict.add("forged_webhooks_rejected",
                ([f"{hooks['forged_sent'] - hooks['forged_rejected']} forged deliveries not answered 400"]
                 if hooks["forged_rejected"] != hooks["forged_sent"] else [])
                + ([f"{hooks['genuine_rejected']} genuine deliveries rejected"] if hooks["genuine_rejected"] else []),
                forged_sent=hooks["forged_sent"], forged_rejected=hooks["forged_rejected"])  # fmt: skip
    verdict.add("webhook_deliveries_counted",
                [] if observed.delivery_count == hooks["answered"]
                else [f"{observed.delivery_count} delivery rows for {hooks['answered']} answered webhooks"],
                answered=hooks["answered"], deliveries=observed.delivery_count)  # fmt: skip

    race_problems = []
    for race in journal["races"]:
        agreements = observed.agreements_per_rfq.get(race["rfq_id"], 0)
        winners = race["statuses"].count(200)
        if agreements != 1 or winners > 1 or (winners == 0 and set(race["statuses"]) <= {200, 409}):
            race_problems.append(
                f"{race['rfq_id']}: {agreements} agreements, answers {race['statuses']} {race.get('codes', [])}"
            )
    verdict.add("races_one_winner", race_problems, races=len(journal["races"]))

    gaps, lost = [], []
    for key, actions in sorted(observed.triage_actions.items()):
        revisions = [revision for revision, _ in actions]
        if revisions != list(range(1, len(revisions) + 1)):
            gaps.append(f"{key[:24]}...: revisions {revisions[:10]}")
    for key in sorted(set(journal["triage"]) | set(observed.triage_actions)):
        told = journal["triage"].get(key, [])
        written = [notes for _, notes in observed.triage_actions.get(key, [])]
        if Counter(told) != Counter(written) or _repeats(written):
            missing = sorted(set(told) - set(written))[:3]
            extra = sorted(set(written) - set(told))[:3]
            lost.append(f"{key[:24]}...: {len(told)} acknowledged, {len(written)} written; missing {missing}, "
                        f"unacknowledged {extra}")  # fmt: skip
    verdict.add("triage_revisions_contiguous", gaps, records=len(observed.triage_actions))
    verdict.add("triage_writes_not_lost", lost, acknowledged=sum(map(len, journal["triage"].values())))
    verdict.add("stale_if_match_refused",
                [] if journal["stale_conflicts"] == journal["stale_sent"]
                else [f"{journal['stale_sent'] - journal['stale_conflicts']} stale writes not refused with 409"],
                stale_sent=journal["stale_sent"])  # fmt: skip

    pairs = (("dispute", journal["disputes"], observed.dispute_settlements),
             ("case", journal["cases"], observed.case_settlements))  # fmt: skip
    stored_problems = []
    for kind, told, held in pairs:
        if Counter(told) != Counter(held):
            stored_problems.append(f"{kind}s: {len(told)} acknowledged, {len(held)} stored "
                                   f"(differ: {sorted(set(told) ^ set(held))[:3]})")  # fmt: skip
    verdict.add("disputes_and_cases_stored_once", stored_problems,
                disputes=len(journal["disputes"]), cases=len(journal["cases"]))  # fmt: skip
    return verdict


def observe(database_url: str, tenant_ids: list[str], *, run_tag: str, deliveries_after: int) -> Observed:
    """The drill tenants' rows, its events (ids carry `run_tag`) and the deliveries after `deliveries_after`."""
    from sqlalchemy import bindparam, create_engine, text

    engine = create_engine(database_url)
    tenants = {"tenants": tenant_ids}

    def rows(sql: str, **params: Any) -> list[Any]:
        statement = text(sql)
        if "tenants" in params:
            statement = statement.bindparams(bindparam("tenants", expanding=True))
        return list(connection.execute(statement, params).all())

    try:
        with engine.connect() as connection:
            stored = [
                r[0] for r in rows("select event_id from stripe_events where event_id like 'evt_drill_%'")
            ]
            deliveries = rows("select count(*) from stripe_webhook_deliveries")[0][0]
            triage: dict[str, list[tuple[int, str | None]]] = {}
            for key, revision, notes in rows(
                "select triage_key, revision, notes from reconciliation_triage_actions "
                "where tenant_id in :tenants order by triage_key, revision",
                **tenants,
            ):
                triage.setdefault(key, []).append((revision, notes))
            agreements = dict(rows("select rfq_id, count(*) from marketplace_agreements where tenant_id in :tenants "
                                   "group by rfq_id", **tenants))  # fmt: skip
            disputes = [
                r[0]
                for r in rows("select settlement_id from disputes where tenant_id in :tenants", **tenants)
            ]
            cases = [r[0] for r in rows("select settlement_id from arbitration_cases where tenant_id in :tenants",
                                        **tenants)]  # fmt: skip
    finally:
        engine.dispose()
    return Observed(stored, deliveries, triage, agreements, disputes, cases)
