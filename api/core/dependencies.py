"""Request-scoped dependencies shared by every domain: the database session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.core.database import Database

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def get_database(request: Request) -> Database:
    return request.app.state.database


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; writes take SQLite's write lock up front (BEGIN IMMEDIATE)."""
    with get_database(request).session(write=request.method in WRITE_METHODS) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def request_id_of(request: Request) -> str:
    return request.state.request_id
