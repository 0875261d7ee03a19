"""The arbitration queue: the reference's two-case example, one 400 code per bad parameter, filters, and
keyset pages that neither repeat nor skip a case while cases are opened and closed between requests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.api.arbitration_kit import VERDICT, Arbitration, arbitration, settlement_row
from tests.api.factories import Factory

QUEUE = "/ops/arbitration/queue"


@pytest.fixture
def arb(factory: Factory) -> Iterator[Arbitration]:
    with arbitration(factory) as harness:
        yield harness


def test_the_references_two_case_example(arb: Arbitration) -> None:
    """case1 opened 2026-02-07T00:00, case2 2026-02-08T12:00, now 2026-02-08T12:00, sla 24 -> count 2,
    over_sla_count 1, order [case1 (high, over SLA), case2 (low)]."""
    resolved = datetime(2026, 2, 6, tzinfo=UTC)
    arb.now[0] = datetime(2026, 2, 6, 12, tzinfo=UTC)
    arb.publish(
        settlement_row("acme", 1, resolved_at=resolved), settlement_row("acme", 2, resolved_at=resolved)
    )
    arb.dispute(1, priority="high")
    arb.dispute(2, priority="low")
    arb.now[0] = datetime(2026, 2, 7, tzinfo=UTC)
    arb.case(1, case_id="case1", arbiter_agent_id="agt_arb")
    arb.now[0] = datetime(2026, 2, 8, 12, tzinfo=UTC)
    arb.case(2, case_id="case2", arbiter_agent_id="agt_arb")
    page = arb.get(QUEUE, sla_hours="24").json()
    assert (page["count"], page["over_sla_count"]) == (2, 1)
    assert [(row["case_id"], row["priority"], row["over_sla"]) for row in page["queue"]] == [
        ("case1", "high", True), ("case2", "low", False)]  # fmt: skip
    first = page["queue"][0]
    assert first["age_seconds"] == 36 * 3600 and first["age_hours"] == 36.0
    assert (
        first["due_at"] == "2026-02-08T00:00:00Z" and first["evidence_count"] == 0 and first["revision"] == 1
    )
    assert page["status_counts"] == {"closed": 0, "open": 0, "under_review": 2, "verdict_issued": 0}
    assert list(page["status_counts"]) == sorted(page["status_counts"])
    # verdict_issued still counts as over SLA; closed does not
    arb.act("case1", "verdict", VERDICT)
    assert arb.get(QUEUE).json()["over_sla_count"] == 1
    arb.act("case1", "close", {})
    after = arb.get(QUEUE).json()
    assert after["over_sla_count"] == 0 and [r["case_id"] for r in after["queue"]] == ["case1", "case2"]


@pytest.mark.parametrize(
    ("parameter", "value"),
    [("status", "pending"), ("priority", "urgent"), ("assigned", "maybe"), ("arbiter", "a b"),
     ("run_id", "x" * 200), ("case_id", "c/1"), ("opened_since", "yesterday"),
     ("opened_since", "2026-02-07T00:00:00"), ("sla_hours", "0"), ("sla_hours", "8761"), ("sla_hours", "nan"),
     ("sla_hours", "abc")],
)  # fmt: skip
def test_each_bad_parameter_is_a_400_naming_it(arb: Arbitration, parameter: str, value: str) -> None:
    answer = arb.get(QUEUE, **{parameter: value})
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == f"ARBITRATION_QUEUE_{parameter.upper()}_INVALID"
    assert answer.json()["parameter"] == parameter


def test_filters(arb: Arbitration) -> None:
    arb.publish(*(settlement_row("acme", n) for n in range(1, 4)))
    for n in range(1, 4):
        arb.dispute(n, priority="critical" if n == 3 else "normal")
    arb.case(1, case_id="c1", arbiter_agent_id="agt_x")
    arb.tick(timedelta(hours=1))
    arb.case(2, case_id="c2")
    arb.case(3, case_id="c3", arbiter_agent_id="agt_y")

    def ids(**params: str) -> list[str]:
        answer = arb.get(QUEUE, **params)
        assert answer.status_code == 200, answer.text
        return [row["case_id"] for row in answer.json()["queue"]]

    assert ids() == ["c1", "c2", "c3"]
    assert ids(assigned="no") == ["c2"] and ids(assigned="ON") == ["c1", "c3"]
    assert (
        ids(arbiter="agt_y") == ["c3"]
        and ids(priority="critical") == ["c3"]
        and ids(run_id="run_2") == ["c2"]
    )
    assert ids(status="OPEN") == ["c2"] and ids(case_id="c1") == ["c1"]
    assert ids(opened_since="2026-11-02T09:30:00Z") == ["c2", "c3"]
    assert ids(opened_since=str(int(arb.now[0].timestamp() * 1000))) == ["c2", "c3"]
    arb.tick(timedelta(hours=24))
    assert ids(sla_hours="24.5") == ["c1", "c2", "c3"]
    assert [r["over_sla"] for r in arb.get(QUEUE, sla_hours="24.5").json()["queue"]] == [True, False, False]


def test_pages_are_stable_while_cases_open_and_close(arb: Arbitration) -> None:
    arb.publish(*(settlement_row("acme", n) for n in range(1, 31)))
    for n in range(1, 31):
        arb.dispute(n)
    for n in range(1, 13):
        arb.case(n, case_id=f"case_{n:02d}", arbiter_agent_id="agt_arb")
        arb.tick(timedelta(hours=3))  # the oldest are over SLA by the time the listing starts
    at_first_page = [row["case_id"] for row in arb.get(QUEUE, limit="500").json()["queue"]]
    first = arb.get(QUEUE, limit="5").json()
    seen, cursor, opened = [row["case_id"] for row in first["queue"]], first["next_cursor"], 13
    assert first["queue"][0]["over_sla"] and not first["queue"][-1]["over_sla"]
    while cursor:
        # Between pages: a case opens, and the oldest case not read yet gets its verdict and is closed (in a
        # live listing it would leave the over-SLA head and move behind the page we are on).
        arb.tick(timedelta(minutes=7))
        arb.case(opened, case_id=f"case_{opened:02d}", arbiter_agent_id="agt_arb")
        opened += 1
        if unread := [case_id for case_id in at_first_page if case_id not in seen]:
            assert arb.act(unread[0], "verdict", VERDICT).status_code == 200
            assert arb.act(unread[0], "close", {}).status_code == 200
        page = arb.get(QUEUE, limit="5", cursor=cursor).json()
        assert page["count"] == first["count"] and page["as_of"] == first["as_of"]
        seen += [row["case_id"] for row in page["queue"]]
        cursor = page["next_cursor"]
    assert seen == at_first_page and len(set(seen)) == 12  # the first page's snapshot, in order, once each
    fresh = arb.get(QUEUE, limit="500").json()
    assert fresh["count"] == opened - 1 > 12 and fresh["status_counts"]["closed"] >= 1


def test_a_cursor_of_other_filters_is_refused(arb: Arbitration) -> None:
    arb.publish(*(settlement_row("acme", n) for n in range(1, 4)))
    for n in range(1, 4):
        arb.dispute(n)
        arb.case(n, arbiter_agent_id="agt_arb")
    cursor = arb.get(QUEUE, limit="1").json()["next_cursor"]
    assert cursor
    other = arb.get(QUEUE, limit="1", cursor=cursor, sla_hours="2")
    assert other.status_code == 422 and other.json()["code"] == "CURSOR_INVALID"
    garbage = arb.get(QUEUE, cursor="bm90LWEtY3Vyc29y")
    assert garbage.status_code == 422 and garbage.json()["code"] == "CURSOR_INVALID"
