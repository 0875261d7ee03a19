"""The state-machine kit: a domain's states are a `StrEnum`, its allowed moves a `StateMachine` table.

    PERIOD = StateMachine("period", {
        PeriodStatus.open: {PeriodStatus.closed},
        PeriodStatus.closed: {PeriodStatus.reopened},
        PeriodStatus.reopened: {PeriodStatus.closed},
    })
    PERIOD.assert_transition(current, target)  # 409 TRANSITION_ILLEGAL unless the table allows it

Staying in the same state is not a transition: a service decides what "no change" means before it asks.
A state no move leaves is terminal. `check_constraint` gives the CHECK that keeps the status column to
the enum's values (the migration that adds it writes the values out, so it never changes afterwards).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Generic, TypeVar

from sqlalchemy import CheckConstraint

from api.core.errors import Problem

State = TypeVar("State", bound=StrEnum)


class TransitionIllegal(Problem):
    status, code, title = 409, "TRANSITION_ILLEGAL", "The state machine does not allow this move."
    members = ("from_status", "to_status", "allowed")


class StateMachine(Generic[State]):
    def __init__(self, name: str, transitions: Mapping[State, Iterable[State]]) -> None:
        states = {state for state in transitions} | {t for moves in transitions.values() for t in moves}
        if missing := states - set(transitions):
            raise ValueError(f"{name}: no row for {sorted(missing)} in the transition table")
        self.name = name
        self.transitions: dict[State, frozenset[State]] = {
            state: frozenset(moves) for state, moves in transitions.items()
        }
        self.terminal: frozenset[State] = frozenset(s for s, moves in self.transitions.items() if not moves)

    def allowed(self, current: State) -> frozenset[State]:
        return self.transitions[current]

    def can(self, current: State, target: State) -> bool:
        return target in self.transitions[current]

    def assert_transition(self, current: State, target: State, *, hint: str = "") -> None:
        """Return if `current -> target` is in the table, else raise 409 TRANSITION_ILLEGAL."""
        if not self.can(current, target):
            raise self.illegal(current, target, hint=hint)

    def illegal(self, current: State, target: State, *, hint: str = "") -> TransitionIllegal:
        """The 409 for `current -> target`, naming the moves the table allows from `current`."""
        return TransitionIllegal(
            f"Cannot move a {self.name} from {current} to {target}. {hint}".strip(),
            from_status=current.value,
            to_status=target.value,
            allowed=sorted(self.allowed(current)),
        )


def check_constraint(
    column: str, values: Iterable[str], *, table: str, nullable: bool = False
) -> CheckConstraint:
    """`CHECK (column IN (...))` named `ck_<table>_<column>` (models and migrations name it alike)."""
    listed = ", ".join(f"'{value}'" for value in sorted(values))
    condition = f"{column} IN ({listed})"
    if nullable:
        condition = f"{column} IS NULL OR {condition}"
    return CheckConstraint(condition, name=f"ck_{table}_{column}")
