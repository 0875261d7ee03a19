"""Engine, sessions and the column types every table shares.

SQLite (default) and Postgres 15 run the same migrations, so only portable types are used. Timestamps are
stored as naive UTC (`timestamp without time zone`) and come back as aware UTC datetimes: a naive column
that always means UTC cannot drift with a session time zone, and dbt reads it the same way on both engines.

On SQLite, SQLAlchemy emits BEGIN itself; a session opened for a write emits `BEGIN IMMEDIATE`, which takes
the database write lock at the start of the transaction. Writers therefore queue (up to the busy timeout)
instead of failing mid-transaction, and a read-check-write sequence (revision checks, idempotency claims)
cannot interleave with another writer. On Postgres the same code relies on `SELECT ... FOR UPDATE` and
unique constraints.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from api.core.deadlines import WATCHDOGS, install_deadlines
from api.core.transaction import committing

SQLITE_BEGIN_OPTION = "settld_sqlite_begin"


class Base(DeclarativeBase):
    pass


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python, naive UTC in the database; naive input is refused."""

    impl = DateTime(timezone=False)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: every timestamp in Settld is UTC and must say so")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


@dataclass(frozen=True)
class DatabaseTimeouts:
    """How long the API waits on its database (seconds; ApiSettings' `database_*`, api/core/deadlines.py).
    The CLI and the pipeline open the database without (`timeouts=None`): batch writers that may wait (the
    SQLite write lock up to 30 s) and have no client waiting on an answer."""

    connect: float
    statement: float
    deadline_grace: float
    pool: float
    pool_size: int
    max_overflow: int
    sqlite_busy: float

    @property
    def deadline(self) -> float:
        """How long one round trip (a statement, a commit) may wait before its connection is cut."""
        return self.statement + self.deadline_grace


BATCH_SQLITE_BUSY_TIMEOUT = 30.0


def _postgres_connect_args(url: str, timeouts: DatabaseTimeouts) -> dict[str, Any]:
    """libpq's connect timeout, and the statement timeout added to the URL's own `options` (the API's
    schema in a shared database is named there)."""
    options = make_url(url).query.get("options", "")
    options = " ".join(options) if isinstance(options, tuple) else options
    statement_ms = max(1, int(timeouts.statement * 1000))
    return {
        "connect_timeout": max(1, math.ceil(timeouts.connect)),
        "options": f"{options} -c statement_timeout={statement_ms}".strip(),
    }


def create_database_engine(url: str, *, timeouts: DatabaseTimeouts | None = None) -> Engine:
    """An engine for the API database; SQLite gets WAL, foreign keys and explicit BEGIN handling. With
    `timeouts` (the app's), every wait on the database is bounded (api/core/deadlines.py)."""
    if not is_sqlite(url):
        if timeouts is None:
            return create_engine(url, pool_pre_ping=True)
        engine = create_engine(url, connect_args=_postgres_connect_args(url, timeouts), pool_timeout=timeouts.pool,
                               pool_size=timeouts.pool_size, max_overflow=timeouts.max_overflow)  # fmt: skip
        install_deadlines(engine, ping_seconds=timeouts.connect, deadline_seconds=timeouts.deadline)
        return engine
    database = make_url(url).database
    in_file = bool(database) and database != ":memory:"
    if in_file:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    busy = timeouts.sqlite_busy if timeouts is not None else BATCH_SQLITE_BUSY_TIMEOUT
    pool = {}
    if timeouts is not None and in_file:  # a file gets a QueuePool (one in-memory database, a single one)
        pool = {
            "pool_timeout": timeouts.pool,
            "pool_size": timeouts.pool_size,
            "max_overflow": timeouts.max_overflow,
        }
    engine = create_engine(url, connect_args={"timeout": busy, "check_same_thread": False}, **pool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see module docstring)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    if timeouts is not None:  # a statement (or a wait for the write lock) past the deadline is interrupted
        install_deadlines(engine, ping_seconds=timeouts.connect,
                          deadline_seconds=max(timeouts.deadline, busy + timeouts.deadline_grace))  # fmt: skip
    return engine


class ReadOnlySessionError(RuntimeError):
    """A read session was asked to write: writes go through `Database.transaction()` (or, in a request,
    a write method's session), which commits them."""


def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    raise ReadOnlySessionError("this session is read-only: write through Database.transaction()")


class Database:
    """One engine; read sessions (deferred, refuse to write) and write transactions (immediate, committed
    at the one commit point, api.core.transaction)."""

    def __init__(self, url: str, *, timeouts: DatabaseTimeouts | None = None) -> None:
        self.url = url
        self.engine = create_database_engine(url, timeouts=timeouts)
        write_engine = self.engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        self._read = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._write = sessionmaker(bind=write_engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read-only session: a flush of pending changes raises instead of losing them silently."""
        with self._read() as session:
            event.listen(session, "before_flush", _refuse_flush)
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write session that commits when the block returns and rolls back when it raises."""
        with self._write() as session, committing(session):
            yield session

    def dispose(self) -> None:
        watchdog = WATCHDOGS.pop(self.engine, None)
        if watchdog is not None:
            watchdog.close()
        self.engine.dispose()
