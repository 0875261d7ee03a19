"""The arbitration vocabularies and state machines, as data (the kit: api/core/states.py).

    case:        open -> under_review -> verdict_issued -> closed     (never backwards, never skipping: a
                 verdict needs an arbiter, and a case has one from under_review on)
    dispute:     open -> closed
    escalation:  l1_counterparty -> l2_arbiter -> l3_external         (up only; l1 -> l3 skips a level)

A case opens `under_review` when it has an arbiter (explicit or drawn from a panel) and `open` when it has
none yet; `assign` moves it on. Staying in a state is not a transition.
"""

from __future__ import annotations

from enum import StrEnum

from api.core.states import StateMachine
from settld.vocabulary import read_seed


def _seed_enum(name: str, seed: str, column: str, rank: str) -> type[StrEnum]:
    """A StrEnum of a vocabulary seed's words (dbt_project/seeds/), in the seed's rank order."""
    words = [row[column] for row in sorted(read_seed(seed), key=lambda row: int(row[rank]))]
    return StrEnum(name, {word: word for word in words}, module=__name__, qualname=name)


# The words live once, in the seeds dbt tests the warehouse's columns against.
CaseStatus = _seed_enum("CaseStatus", "arbitration_case_statuses", "status", "status_rank")
Priority = _seed_enum("Priority", "arbitration_priorities", "priority", "priority_rank")
DisputeStatus = _seed_enum("DisputeStatus", "arbitration_dispute_statuses", "status", "status_rank")


class Channel(StrEnum):
    counterparty = "counterparty"
    policy_engine = "policy_engine"
    arbiter = "arbiter"
    external = "external"


class EscalationLevel(StrEnum):
    l1_counterparty = "l1_counterparty"
    l2_arbiter = "l2_arbiter"
    l3_external = "l3_external"


class Outcome(StrEnum):
    accepted = "accepted"
    rejected = "rejected"
    partial = "partial"


class SettlementStatus(StrEnum):
    locked = "locked"
    released = "released"
    refunded = "refunded"


RESOLVED_SETTLEMENT = frozenset({SettlementStatus.released, SettlementStatus.refunded})
# The reference's ranks (status may never regress); the queue's status_counts list every status.
CASE_RANK = {
    CaseStatus.open: 1,
    CaseStatus.under_review: 2,
    CaseStatus.verdict_issued: 3,
    CaseStatus.closed: 4,
}
ACTIVE_CASE = frozenset({CaseStatus.open, CaseStatus.under_review})

CASE = StateMachine(
    "case",
    {
        CaseStatus.open: {CaseStatus.under_review},
        CaseStatus.under_review: {CaseStatus.verdict_issued},
        CaseStatus.verdict_issued: {CaseStatus.closed},
        CaseStatus.closed: set(),
    },
)
DISPUTE = StateMachine("dispute", {DisputeStatus.open: {DisputeStatus.closed}, DisputeStatus.closed: set()})
ESCALATION = StateMachine(
    "escalation level",
    {
        EscalationLevel.l1_counterparty: {EscalationLevel.l2_arbiter, EscalationLevel.l3_external},
        EscalationLevel.l2_arbiter: {EscalationLevel.l3_external},
        EscalationLevel.l3_external: set(),
    },
)
