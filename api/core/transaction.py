"""The one commit point, and what happens only after it.

A write runs in one transaction that `committing` ends: it commits when the block (a request handler, a
CLI command, a pipeline's publish) returns, and rolls back on any exception. Nothing else in `api/` calls
`commit()`: services and routes write through the session they are given, so a write can be neither lost
(a route that forgets to commit) nor half kept (a route that raises after writing).

Side effects outside the database (files) must not happen for a transaction that rolls back. A write
registers them with `after_commit(session, action, on_rollback=cleanup)`: `action` runs once the
transaction has committed, `cleanup` if it rolls back instead (or the session closes without committing).
`api.core.staging.stage_files` builds on it: files written to a staging path, promoted after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

logger = logging.getLogger("api.transaction")
_PENDING = "settld_after_commit"
Action = Callable[[], object]


@contextmanager
def committing(session: Session) -> Iterator[Session]:
    """Commit `session` when the block returns; roll it back when the block raises (then re-raise)."""
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    session.commit()


def after_commit(session: Session, action: Action, *, on_rollback: Action | None = None) -> None:
    """Run `action` after the session's current transaction commits; `on_rollback` if it does not."""
    session.info.setdefault(_PENDING, []).append((action, on_rollback))


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the transaction has not committed yet
        return
    for action, _ in session.info.pop(_PENDING, []):
        action()


@event.listens_for(Session, "after_transaction_end")
def _discard_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    # Fires after a commit too, but `_run_after_commit` has emptied the list by then.
    if transaction.parent is not None:
        return
    for _, on_rollback in session.info.pop(_PENDING, []):
        if on_rollback is not None:
            _quietly(on_rollback)


def _quietly(cleanup: Action) -> Any:
    try:
        cleanup()
    except Exception:  # a failed cleanup must not mask the error that rolled the transaction back
        logger.exception("cleanup after a rollback failed")
