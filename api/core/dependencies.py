"""Request-scoped dependencies shared by every domain: the request's session, and the commit point.

One session per request (authentication and the route share it). On a write method (POST, PUT, PATCH,
DELETE) it is the request's transaction, as polar's session dependency is: it commits when the handler
returns, rolls back when anything raises, and after-commit actions (files) run only after the commit.
It is closed before the response is sent (`scope="function"`), so a failed commit is the response, never a
200 for a write that was not kept. On GET it is read-only: a read route that tries to write fails loudly.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.core.database import Database

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def get_database(request: Request) -> Database:
    return request.app.state.database


def get_session(request: Request) -> Iterator[Session]:
    """The request's session; for a write method, its one transaction (see module docstring)."""
    database = get_database(request)
    with database.transaction() if request.method in WRITE_METHODS else database.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_write_session(request: Request, session: SessionDep) -> Session:
    """The request's session, for a route that writes: committed by `get_session` when the route returns."""
    if request.method not in WRITE_METHODS:
        raise RuntimeError(f"{request.method} {request.url.path}: a read route cannot take WriteSessionDep")
    return session


WriteSessionDep = Annotated[Session, Depends(get_write_session)]


def now_of(request: Request) -> datetime:
    """What "now" means to the app: its clock (api/main.py `create_app(clock=...)`; the wall clock unless a
    test fixes it). Routes whose rules depend on time take it as `NowDep`."""
    return request.app.state.clock()


NowDep = Annotated[datetime, Depends(now_of)]


def request_id_of(request: Request) -> str:
    return request.state.request_id
