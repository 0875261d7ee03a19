"""A case through every state, every illegal move, revisions, If-Match, idempotency, the audit log, the
deterministic panel draw, the money a closed case moves, and another tenant's 404s."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from api.arbitration.cases import panel_assignment
from api.arbitration.models import ArbitrationCaseRevision
from api.audit.models import AuditLogEntry
from settld.core import canonical_hash
from tests.api.arbitration_kit import VERDICT, Arbitration, arbitration, settlement_row
from tests.api.factories import Factory


@pytest.fixture
def arb(factory: Factory) -> Iterator[Arbitration]:
    with arbitration(factory) as harness:
        harness.publish(settlement_row("acme", 1), settlement_row("acme", 2, status="locked"),
                        settlement_row("acme", 3, window_days=0), settlement_row("globex", 4))  # fmt: skip
        yield harness


def test_dispute_open_rules(arb: Arbitration) -> None:
    locked = arb.post("/ops/settlements/setl_run_2/disputes", {})
    assert locked.status_code == 409 and locked.json()["code"] == "TRANSITION_ILLEGAL"
    assert locked.json()["from_status"] == "locked"
    expired = arb.post("/ops/settlements/setl_run_3/disputes", {})
    assert expired.status_code == 409 and expired.json()["code"] == "DISPUTE_WINDOW_EXPIRED"
    dispute = arb.dispute(1, priority="high", channel="arbiter", reason="late delivery")
    assert dispute["dispute_id"] == "dsp_run_1" and dispute["revision"] == 1 and dispute["priority"] == "high"
    again = arb.post("/ops/settlements/setl_run_1/disputes", {"dispute_id": "dsp_other"})
    assert again.status_code == 409 and again.json()["code"] == "DISPUTE_ALREADY_OPEN"
    assert again.json()["dispute_id"] == "dsp_run_1"
    unknown = arb.post("/ops/settlements/setl_nope/disputes", {})
    assert unknown.status_code == 404 and unknown.json()["code"] == "SETTLEMENT_NOT_FOUND"


def test_dispute_evidence_escalate_close(arb: Arbitration) -> None:
    arb.dispute(1)
    base = "/ops/settlements/setl_run_1/disputes/dsp_run_1"
    added = arb.post(f"{base}/evidence", {"evidence_refs": ["ev:d", "ev:a"]}, **{"If-Match": '"1"'})
    assert added.status_code == 200 and added.json()["dispute"]["evidence_refs"] == [
        "ev:a",
        "ev:b",
        "ev:c",
        "ev:d",
    ]
    stale = arb.post(f"{base}/escalate", {"escalation_level": "l2_arbiter"}, **{"If-Match": '"1"'})
    assert stale.status_code == 409 and stale.json()["code"] == "REVISION_CONFLICT"
    assert stale.json()["current_revision"] == 2
    up = arb.post(f"{base}/escalate", {"escalation_level": "l3_external", "expected_revision": 2})
    assert up.json()["dispute"]["escalation_level"] == "l3_external" and up.json()["dispute"]["revision"] == 3
    down = arb.post(f"{base}/escalate", {"escalation_level": "l2_arbiter"})
    assert down.status_code == 409 and down.json()["code"] == "TRANSITION_ILLEGAL"
    assert down.json()["allowed"] == []
    closed = arb.post(f"{base}/close", {"outcome": "accepted", "release_rate_pct": 100})
    assert closed.status_code == 200 and closed.json()["dispute"]["status"] == "closed"
    assert closed.json()["adjustment"]["released_amount_cents"] == 10_001
    again = arb.post(f"{base}/close", {"outcome": "accepted"})
    assert again.status_code == 409 and again.json()["code"] == "TRANSITION_ILLEGAL"
    late = arb.post(f"{base}/evidence", {"evidence_refs": ["ev:z"]})
    assert late.status_code == 409 and late.json()["code"] == "DISPUTE_CLOSED"


def test_a_case_through_every_state_and_every_illegal_move(arb: Arbitration) -> None:
    arb.dispute(1)
    case = arb.case(1, evidence_refs=["ev:a"])  # no arbiter: open
    case_id = case["case_id"]
    assert case["status"] == "open" and case["revision"] == 1 and case["claimant_agent_id"] == "agt_payer_1"

    def illegal(action: str, body: dict, from_status: str) -> None:
        answer = arb.act(case_id, action, body)
        assert answer.status_code == 409, (action, answer.text)
        assert answer.json()["code"] == "TRANSITION_ILLEGAL" and answer.json()["from_status"] == from_status

    illegal("verdict", VERDICT, "open")
    illegal("close", {}, "open")
    assert arb.act(case_id, "appeal", {"reason": "x"}).json()["code"] == "APPEAL_PARENT_INVALID"
    assert arb.act(case_id, "assign", {}).json()["code"] == "ARBITER_REQUIRED"
    assigned = arb.act(case_id, "assign", {"arbiter_agent_id": "agt_arbiter_1"}, **{"If-Match": '"1"'})
    assert assigned.json()["case"]["status"] == "under_review" and assigned.json()["case"]["revision"] == 2
    evidence = arb.act(case_id, "evidence", {"evidence_refs": ["ev:b"]})
    assert (
        evidence.json()["case"]["evidence_refs"] == ["ev:a", "ev:b"]
        and evidence.json()["case"]["revision"] == 3
    )
    outside = arb.act(case_id, "evidence", {"evidence_refs": ["ev:nowhere"]})
    assert outside.status_code == 409 and outside.json()["unknown_evidence_refs"] == ["ev:nowhere"]
    illegal("close", {}, "under_review")
    verdict_refs = arb.act(case_id, "verdict", {**VERDICT, "evidence_refs": ["ev:c"]})  # not the case's
    assert verdict_refs.json()["code"] == "EVIDENCE_OUTSIDE_DISPUTE"
    arb.tick(timedelta(hours=2))
    verdict = arb.act(case_id, "verdict", {**VERDICT, "evidence_refs": ["ev:b"]})
    assert verdict.status_code == 200, verdict.text
    body = verdict.json()["case"]
    assert (
        body["status"] == "verdict_issued"
        and body["revision"] == 4
        and body["summary"] == VERDICT["rationale"]
    )
    assert body["verdict"]["verdict_id"] == f"vrd_{case_id}" and len(body["verdict"]["verdict_hash"]) == 64
    illegal("verdict", VERDICT, "verdict_issued")
    illegal("assign", {"arbiter_agent_id": "agt_x"}, "verdict_issued")
    illegal("evidence", {"evidence_refs": ["ev:a"]}, "verdict_issued")
    closed = arb.act(case_id, "close", {})
    assert closed.status_code == 200 and closed.json()["case"]["status"] == "closed"
    adjustment = closed.json()["adjustment"]
    # release = floor(10001 * 33 / 100) = 3300, refund = the rest
    assert (adjustment["released_amount_cents"], adjustment["refunded_amount_cents"]) == (3300, 6701)
    for action, body in (("close", {}), ("verdict", VERDICT), ("assign", {"arbiter_agent_id": "a"}),
                         ("evidence", {"evidence_refs": ["ev:a"]})):  # fmt: skip
        illegal(action, body, "closed")
    dispute = arb.get("/ops/settlements/setl_run_1/disputes/dsp_run_1").json()["dispute"]
    assert (dispute["status"], dispute["outcome"], dispute["release_rate_pct"]) == ("closed", "partial", 33)
    assert dispute["escalation_level"] == "l2_arbiter" and dispute["verdict_id"] == f"vrd_{case_id}"

    with arb.factory.transaction() as session:
        revisions = session.scalars(select(ArbitrationCaseRevision).where(ArbitrationCaseRevision.case_id == case_id)
                                    .order_by(ArbitrationCaseRevision.revision)).all()  # fmt: skip
        actions = [(r.revision, r.action, r.status) for r in revisions]
        audit = session.scalars(select(AuditLogEntry.action).where(AuditLogEntry.target_id == case_id)
                                .order_by(AuditLogEntry.id)).all()  # fmt: skip
    assert actions == [(1, "open", "open"), (2, "assign", "under_review"), (3, "evidence", "under_review"),
                       (4, "verdict", "verdict_issued"), (5, "close", "closed")]  # fmt: skip
    assert audit == ["ARBITRATION_CASE_OPEN", "ARBITRATION_CASE_ASSIGN", "ARBITRATION_CASE_EVIDENCE",
                     "ARBITRATION_CASE_VERDICT", "ARBITRATION_CASE_CLOSE"]  # fmt: skip


def test_appeal_and_window(arb: Arbitration) -> None:
    arb.dispute(1)
    parent = arb.case(1, arbiter_agent_id="agt_arb", evidence_refs=["ev:a"])
    assert parent["status"] == "under_review"
    arb.act(parent["case_id"], "verdict", {**VERDICT, "release_rate_pct": 0})
    arb.act(parent["case_id"], "close", {})
    child = arb.act(
        parent["case_id"], "appeal", {"reason": "new evidence", "panel_candidate_agent_ids": ["b", "a"]}
    )
    assert child.status_code == 201, child.text
    child_case = child.json()["case"]
    assert child_case["appeal_ref"] == {"parent_case_id": parent["case_id"], "parent_verdict_id": f"vrd_{parent['case_id']}",
                                        "reason": "new evidence"}  # fmt: skip
    assert child_case["status"] == "under_review" and child_case["evidence_refs"] == ["ev:a"]
    arb.act(child_case["case_id"], "verdict", {**VERDICT, "release_rate_pct": 50})
    closed = arb.act(child_case["case_id"], "close", {})
    assert (
        closed.json()["adjustment"]["released_amount_cents"] == 5000
    )  # the appeal supersedes: 10001 * 50 // 100
    workspace = arb.get(f"/ops/arbitration/cases/{parent['case_id']}/workspace").json()
    assert workspace["appeal_chain"] == {"parent_case_id": None, "child_case_ids": [child_case["case_id"]]}
    assert workspace["settlement"]["adjustment"]["release_rate_pct"] == 50
    assert workspace["settlement"]["adjustment"]["adjustment_seq"] == 2
    assert [c["case_id"] for c in workspace["related_cases"]] == [child_case["case_id"]]
    kinds = [event["event_type"] for event in workspace["timeline"]]
    assert set(kinds) == {"settlement.resolved", "dispute.opened", "arbitration.opened",
                          "arbitration.verdict_issued", "dispute.closed", "arbitration.closed",
                          "dispute.window_ends"}  # fmt: skip
    assert kinds[0] == "settlement.resolved" and kinds[-1] == "dispute.window_ends"
    assert [e["at"] for e in workspace["timeline"]] == sorted(e["at"] for e in workspace["timeline"])
    assert workspace["actionability"] == {"can_assign_arbiter": False, "can_add_evidence": False,
                                          "can_submit_verdict": False, "can_close_case": False,
                                          "can_open_appeal": True}  # fmt: skip
    assert workspace["evidence_refs"]["all"] == ["ev:a", "ev:b", "ev:c"]
    arb.tick(timedelta(days=20))  # past resolved_at + 14 days
    late = arb.act(parent["case_id"], "appeal", {"reason": "too late"})
    assert late.status_code == 409 and late.json()["code"] == "DISPUTE_WINDOW_EXPIRED"


def test_verdict_outside_the_window(arb: Arbitration) -> None:
    arb.dispute(1)
    case = arb.case(1, arbiter_agent_id="agt_arb")
    future = arb.act(case["case_id"], "verdict", {**VERDICT, "issued_at": "2030-01-01T00:00:00Z"})
    assert future.status_code == 422 and future.json()["code"] == "VERDICT_ISSUED_AT_INVALID"
    arb.tick(timedelta(days=14))
    late = arb.act(case["case_id"], "verdict", VERDICT)
    assert late.status_code == 409 and late.json()["code"] == "DISPUTE_WINDOW_EXPIRED"
    workspace = arb.get(f"/ops/arbitration/cases/{case['case_id']}/workspace").json()
    assert workspace["actionability"]["can_submit_verdict"] is False
    assert workspace["actionability"]["can_add_evidence"] is True


def test_panel_draw_is_the_reference_hash(arb: Arbitration) -> None:
    arb.dispute(1)
    case = arb.case(1, panel_candidate_agent_ids=["agt_c", "agt_a", "agt_b", "agt_a"])
    expected_hash = canonical_hash({"tenantId": "acme", "runId": "run_1", "disputeId": "dsp_run_1",
                                    "panelCandidateAgentIds": ["agt_a", "agt_b", "agt_c"]})  # fmt: skip
    assert case["assignment_hash"] == expected_hash
    assert case["arbiter_agent_id"] == ["agt_a", "agt_b", "agt_c"][int(expected_hash[:8], 16) % 3]
    assert case["panel_candidate_agent_ids"] == ["agt_a", "agt_b", "agt_c"]
    assert panel_assignment(tenant_id="acme", run_id="run_1", dispute_id="dsp_run_1",
                            candidates=["agt_b", "agt_c", "agt_a"])[0] == case["arbiter_agent_id"]  # fmt: skip
    both = arb.post("/ops/arbitration/cases", {"settlement_id": "setl_run_1", "arbiter_agent_id": "x",
                                               "panel_candidate_agent_ids": ["y"]})  # fmt: skip
    assert both.status_code == 422 and both.json()["code"] == "ARBITER_REQUIRED"


def test_idempotent_writes(arb: Arbitration) -> None:
    arb.dispute(1)
    body = {"settlement_id": "setl_run_1", "arbiter_agent_id": "agt_arb"}
    first = arb.post("/ops/arbitration/cases", body, **{"Idempotency-Key": "open-1"})
    replay = arb.post("/ops/arbitration/cases", body, **{"Idempotency-Key": "open-1"})
    assert first.status_code == replay.status_code == 201 and first.content == replay.content
    assert replay.headers.get("Idempotent-Replayed") == "true"
    other = arb.post("/ops/arbitration/cases", {**body, "summary": "x"}, **{"Idempotency-Key": "open-1"})
    assert other.status_code == 409


def test_another_tenants_records_are_404(arb: Arbitration) -> None:
    arb.dispute(1)
    case = arb.case(1, arbiter_agent_id="agt_arb")
    globex = arb.factory.key("globex", "finance_read", "finance_write")
    assert arb.post("/ops/settlements/setl_run_1/disputes", {}, token=globex).status_code == 404
    assert arb.get("/ops/settlements/setl_run_1/disputes/dsp_run_1", token=globex).status_code == 404
    for action, body in (("assign", {"arbiter_agent_id": "x"}), ("evidence", {"evidence_refs": ["ev:a"]}),
                         ("verdict", VERDICT), ("close", {}), ("appeal", {"reason": "x"})):  # fmt: skip
        answer = arb.post(f"/ops/arbitration/cases/{case['case_id']}/{action}", body, token=globex)
        assert answer.status_code == 404 and answer.json()["code"] == "ARBITRATION_CASE_NOT_FOUND"
    assert arb.get(f"/ops/arbitration/cases/{case['case_id']}", token=globex).status_code == 404
    assert arb.get(f"/ops/arbitration/cases/{case['case_id']}/workspace", token=globex).status_code == 404
    assert arb.get("/ops/arbitration/queue", token=globex).json()["count"] == 0
    reader = arb.factory.key("acme", "ops_read")
    assert (
        arb.post("/ops/arbitration/cases", {"settlement_id": "setl_run_1"}, token=reader).status_code == 403
    )
    workspace = arb.get(f"/ops/arbitration/cases/{case['case_id']}/workspace", token=reader).json()
    assert not any(workspace["actionability"].values())


def test_a_dispute_with_an_active_case_closes_through_the_case(arb: Arbitration) -> None:
    arb.dispute(1)
    case = arb.case(1, arbiter_agent_id="agt_arb")
    base = "/ops/settlements/setl_run_1/disputes/dsp_run_1"
    blocked = arb.post(f"{base}/close", {"outcome": "accepted"})
    assert blocked.status_code == 409 and blocked.json()["code"] == "DISPUTE_HAS_ACTIVE_CASE"
    assert blocked.json()["case_ids"] == [case["case_id"]]
    arb.act(case["case_id"], "verdict", VERDICT)
    arb.act(case["case_id"], "close", {})
    late = arb.post("/ops/arbitration/cases", {"settlement_id": "setl_run_1", "dispute_id": "dsp_run_1"})
    assert late.status_code == 409 and late.json()["code"] == "TRANSITION_ILLEGAL"
    assert late.json()["from_status"] == "closed"
    none_open = arb.post("/ops/arbitration/cases", {"settlement_id": "setl_run_1"})
    assert none_open.status_code == 404 and none_open.json()["code"] == "DISPUTE_NOT_FOUND"
    reopened = arb.post("/ops/settlements/setl_run_1/disputes", {"dispute_id": "dsp_second"})
    assert reopened.status_code == 201  # a closed dispute does not stop a new one while the window is open
    taken = arb.post("/ops/settlements/setl_run_1/disputes", {})
    assert taken.json()["code"] == "DISPUTE_ALREADY_OPEN"


def test_a_queue_cursor_from_another_time_is_refused(arb: Arbitration) -> None:
    import base64
    import json

    from api.arbitration.queue import QueueFilters

    filters = canonical_hash(QueueFilters().as_dict())[:16]  # the default filters' own hash
    forged = {"s": 1, "t": "0001-01-01T00:00:00+01:00", "f": filters, "c": "y"}
    cursor = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
    answer = arb.get("/ops/arbitration/queue", cursor=cursor)
    assert answer.status_code == 422 and answer.json()["code"] == "CURSOR_INVALID"


def test_the_state_machine_implements_the_seed() -> None:
    """CaseStatus and Priority are the seeds' words; every move goes up the seed's ranks, and the table's
    terminal states are the seed's."""
    from api.arbitration.states import CASE, CASE_RANK, DISPUTE, CaseStatus, DisputeStatus, Priority
    from settld.vocabulary import read_seed

    statuses = read_seed("arbitration_case_statuses")
    assert [s.value for s in CaseStatus] == [row["status"] for row in statuses]
    assert [p.value for p in Priority] == [row["priority"] for row in read_seed("arbitration_priorities")]
    assert {s.value for s in CASE.terminal} == {
        row["status"] for row in statuses if row["is_terminal"] == "true"
    }
    disputes = read_seed("arbitration_dispute_statuses")
    assert [s.value for s in DisputeStatus] == [row["status"] for row in disputes]
    assert {s.value for s in DISPUTE.terminal} == {
        row["status"] for row in disputes if row["is_terminal"] == "true"
    }
    for current, moves in CASE.transitions.items():
        assert all(CASE_RANK[target] > CASE_RANK[current] for target in moves), current
