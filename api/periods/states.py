"""The period-close state machine, as data (the kit: api/core/states.py).

    open      -> closed      (POST .../close when the gate is green; there is no record before it)
    closed    -> reopened    (POST .../reopen, with a reason)
    reopened  -> closed      (closing again)

`reopened` is an open period with a close behind it: stored as such so the record says it happened.
Closing a closed period, or reopening one that is not closed, changes nothing (no transition).
"""

from __future__ import annotations

from enum import StrEnum

from api.core.states import StateMachine


class PeriodStatus(StrEnum):
    open = "open"
    closed = "closed"
    reopened = "reopened"


PERIOD_CLOSE = StateMachine(
    "period",
    {
        PeriodStatus.open: {PeriodStatus.closed},
        PeriodStatus.closed: {PeriodStatus.reopened},
        PeriodStatus.reopened: {PeriodStatus.closed},
    },
)
