"""The throughput drill's books checker (devtools/drills/books.py) on crafted journals and database contents:
clean books pass, and each kind of damage fails its own check."""

from __future__ import annotations

import copy

import pytest

from devtools.drills.books import Observed, check_books


def journal() -> dict:
    return {
        "webhooks": {"acknowledged": [{"id": "evt_drill_0_0", "body": "{}"}, {"id": "evt_drill_0_1", "body": "{}"}],
                     "duplicates_acknowledged": 1, "forged_sent": 1, "forged_rejected": 1, "genuine_rejected": 0,
                     "answered": 4},
        "triage": {"tk_a": ["drill-0-2", "drill-0-3"], "tk_b": ["drill-1-0"]},
        "stale_sent": 1, "stale_conflicts": 1,
        "disputes": ["setl_1"], "cases": ["setl_1"],
        "races": [{"rfq_id": "rfq_1", "statuses": [200, 409], "codes": ["RFQ_NOT_OPEN"]}],
    }  # fmt: skip


def observed(**changes: object) -> Observed:
    base = {
        "stored_event_ids": ["evt_drill_0_0", "evt_drill_0_1"], "delivery_count": 4,
        "triage_actions": {"tk_a": [(1, "drill-0-2"), (2, "drill-0-3")], "tk_b": [(1, "drill-1-0")]},
        "agreements_per_rfq": {"rfq_1": 1}, "dispute_settlements": ["setl_1"], "case_settlements": ["setl_1"],
    }  # fmt: skip
    return Observed(**{**base, **changes})  # type: ignore[arg-type]


def failed(journal_doc: dict, seen: Observed) -> list[str]:
    return [check["id"] for check in check_books(journal_doc, seen).checks if not check["ok"]]


def test_clean_books_pass_every_check() -> None:
    verdict = check_books(journal(), observed())
    assert verdict.ok and len(verdict.checks) == 8


@pytest.mark.parametrize(
    ("changes", "check_id"),
    [
        ({"stored_event_ids": ["evt_drill_0_0"]}, "webhooks_stored_once"),  # an acknowledged event lost
        ({"stored_event_ids": ["evt_drill_0_0", "evt_drill_0_1", "evt_drill_9_9"]}, "webhooks_stored_once"),
        ({"delivery_count": 3}, "webhook_deliveries_counted"),
        ({"agreements_per_rfq": {"rfq_1": 2}}, "races_one_winner"),
        ({"agreements_per_rfq": {}}, "races_one_winner"),
        (
            {"triage_actions": {"tk_a": [(1, "drill-0-2"), (3, "drill-0-3")], "tk_b": [(1, "drill-1-0")]}},
            "triage_revisions_contiguous",
        ),
        (
            {"triage_actions": {"tk_a": [(1, "drill-0-2")], "tk_b": [(1, "drill-1-0")]}},
            "triage_writes_not_lost",
        ),
        (
            {"triage_actions": {"tk_a": [(1, "drill-0-2"), (2, "drill-0-2")], "tk_b": [(1, "drill-1-0")]}},
            "triage_writes_not_lost",
        ),  # a write applied twice
        ({"dispute_settlements": ["setl_1", "setl_1"]}, "disputes_and_cases_stored_once"),
        ({"case_settlements": []}, "disputes_and_cases_stored_once"),
    ],
)
def test_each_damage_fails_its_check(changes: dict, check_id: str) -> None:
    assert failed(journal(), observed(**changes)) == [check_id]


def test_what_the_load_saw_is_checked_too() -> None:
    two_winners = copy.deepcopy(journal())
    two_winners["races"][0]["statuses"] = [200, 200]
    assert failed(two_winners, observed()) == ["races_one_winner"]
    forged_accepted = copy.deepcopy(journal())
    forged_accepted["webhooks"]["forged_rejected"] = 0
    assert failed(forged_accepted, observed()) == ["forged_webhooks_rejected"]
    genuine_refused = copy.deepcopy(journal())
    genuine_refused["webhooks"]["genuine_rejected"] = 1
    assert failed(genuine_refused, observed()) == ["forged_webhooks_rejected"]
    stale_accepted = copy.deepcopy(journal())
    stale_accepted["stale_conflicts"] = 0
    assert failed(stale_accepted, observed()) == ["stale_if_match_refused"]
