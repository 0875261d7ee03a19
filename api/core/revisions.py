"""Optimistic concurrency, one way for every domain: a write names the revision it read, as the
`If-Match` header or the body's `expected_revision` (both at once must agree), and a record at another
revision answers 409 `REVISION_CONFLICT` with both numbers."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from api.core.errors import Problem

# An entity tag as clients send it: 3, "3" or W/"3".
IF_MATCH_PATTERN = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')
IfMatch = Annotated[str | None, Header(alias="If-Match", description='Expected revision, e.g. "3".')]


class IfMatchInvalid(Problem):
    status, code, title = 400, "IF_MATCH_INVALID", 'If-Match must carry a revision number, e.g. "3".'


class RevisionAmbiguous(Problem):
    status, code, title = (
        400,
        "REVISION_AMBIGUOUS",
        "expected_revision and If-Match name different revisions.",
    )


class RevisionConflict(Problem):
    status, code, title = 409, "REVISION_CONFLICT", "The record is at another revision; reload and retry."
    members = ("current_revision", "expected_revision")


# What a route that takes a revision can answer besides its own problems.
REVISION_PROBLEMS = (IfMatchInvalid, RevisionAmbiguous, RevisionConflict)


def expected_revision(body_value: int | None, if_match: str | None) -> int | None:
    """The revision the caller expects: the header's, the body's, or None when neither names one."""
    if if_match is None:
        return body_value
    match = IF_MATCH_PATTERN.match(if_match)
    if match is None:
        raise IfMatchInvalid()
    header_value = int(match.group(1))
    if body_value is not None and body_value != header_value:
        raise RevisionAmbiguous()
    return header_value


def revision_conflict(current: int, expected: int, what: str) -> RevisionConflict:
    return RevisionConflict(
        f"The {what} is at revision {current}, not {expected}; reload and retry.",
        current_revision=current,
        expected_revision=expected,
    )


def check_revision(current: int, expected: int | None, what: str) -> None:
    """Raise 409 when the caller named a revision and the record is at another."""
    if expected is not None and expected != current:
        raise revision_conflict(current, expected, what)


def flush_or_conflict(session: Session, current_revision: int, what: str) -> None:
    """Flush; a writer that got this revision first (the ORM's version check, or a unique key) is a 409."""
    try:
        session.flush()
    except (StaleDataError, IntegrityError) as error:
        raise RevisionConflict(
            f"Another request changed the {what} first; reload and retry.",
            current_revision=current_revision + 1,
            expected_revision=current_revision,
        ) from error
