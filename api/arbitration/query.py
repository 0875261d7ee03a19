"""The queue's query string: every value is text here and parsed by hand, so each bad value is a 400 whose
code names its parameter (`ARBITRATION_QUEUE_<PARAMETER>_INVALID`), as the reference's clients expect a
400; an unknown parameter is 422 like everywhere else (RequestModel)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from pydantic import Field

from api.arbitration import problems
from api.arbitration.queue import QueueFilters
from api.arbitration.states import CaseStatus, Priority
from api.core.pagination import CURSOR_PATTERN
from api.core.schemas import RequestModel

TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
IDENTIFIER = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
EPOCH_MS = re.compile(r"^[0-9]{1,15}$")
MAX_SLA_HOURS = 8760
Text = str | None


class QueueQuery(RequestModel):
    status: Text = Field(default=None, description="open | under_review | verdict_issued | closed")
    priority: Text = Field(default=None, description="low | normal | high | critical")
    assigned: Text = Field(default=None, description="1/true/yes/on or 0/false/no/off: has an arbiter")
    arbiter: Text = Field(default=None, description="the arbiter's agent id, exactly")
    run_id: Text = None
    case_id: Text = None
    opened_since: Text = Field(default=None, description="ISO-8601 with offset, or epoch milliseconds")
    sla_hours: Text = Field(default=None, description="0 < x <= 8760, fractional allowed; default 24")
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, pattern=CURSOR_PATTERN, description="`next_cursor` of a page.")


def _detail(parameter: str, value: str, why: str) -> dict[str, str]:
    return {"detail": f"{parameter}={value!r}: {why}", "parameter": parameter, "value": value}


def _opened_since(value: str) -> datetime:
    try:
        if EPOCH_MS.match(value):
            return datetime.fromtimestamp(int(value) / 1000, UTC)
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("an ISO-8601 instant needs its UTC offset")
        return moment.astimezone(UTC)
    except (ValueError, OverflowError, OSError) as error:
        why = f"ISO-8601 with offset, or epoch milliseconds ({error})"
        raise problems.QueueOpenedSinceInvalid(**_detail("opened_since", value, why)) from error


def parse_sla_hours(value: str) -> float:
    try:
        hours = float(value)
    except ValueError as error:
        raise problems.QueueSlaHoursInvalid(**_detail("sla_hours", value, "not a number")) from error
    if not math.isfinite(hours) or not 0 < hours <= MAX_SLA_HOURS:
        raise problems.QueueSlaHoursInvalid(
            **_detail("sla_hours", value, f"must be > 0 and <= {MAX_SLA_HOURS}")
        )
    return hours


def parse_filters(query: QueueQuery) -> QueueFilters:
    status = priority = assigned = opened_since = None
    if query.status is not None:
        if query.status.strip().lower() not in set(CaseStatus):
            raise problems.QueueStatusInvalid(
                **_detail("status", query.status, f"one of {', '.join(CaseStatus)}")
            )
        status = CaseStatus(query.status.strip().lower())
    if query.priority is not None:
        if query.priority not in set(Priority):
            raise problems.QueuePriorityInvalid(
                **_detail("priority", query.priority, f"one of {', '.join(Priority)}")
            )
        priority = query.priority
    if query.assigned is not None:
        word = query.assigned.strip().lower()
        if word not in TRUE_WORDS + FALSE_WORDS:
            why = "a boolean word: 1/true/yes/on or 0/false/no/off"
            raise problems.QueueAssignedInvalid(**_detail("assigned", query.assigned, why))
        assigned = word in TRUE_WORDS
    why = "1-128 characters of A-Z a-z 0-9 _ . : -"
    if query.arbiter is not None and not IDENTIFIER.match(query.arbiter):
        raise problems.QueueArbiterInvalid(**_detail("arbiter", query.arbiter, why))
    if query.run_id is not None and not IDENTIFIER.match(query.run_id):
        raise problems.QueueRunIdInvalid(**_detail("run_id", query.run_id, why))
    if query.case_id is not None and not IDENTIFIER.match(query.case_id):
        raise problems.QueueCaseIdInvalid(**_detail("case_id", query.case_id, why))
    if query.opened_since is not None:
        opened_since = _opened_since(query.opened_since)
    sla_hours = 24.0 if query.sla_hours is None else parse_sla_hours(query.sla_hours)
    return QueueFilters(status=status, priority=priority, assigned=assigned, arbiter=query.arbiter,
                        run_id=query.run_id, case_id=query.case_id, opened_since=opened_since,
                        sla_hours=sla_hours)  # fmt: skip
