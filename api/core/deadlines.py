"""Bounds on how long the API may wait on its database, including when the database cannot say no.

A database that refuses (stopped, restarting) fails fast. One that hangs (SIGSTOP, a partition, an
overloaded host) does not: the kernel still completes TCP handshakes and acknowledges what the client sends,
so nothing on the client side notices, and Postgres cannot cancel a statement when it is not running.
Three bounds together make every wait finite:

- connecting: libpq's `connect_timeout` (psycopg counts at least 2 s);
- a statement on a live server: Postgres's own `statement_timeout`, set on every connection;
- everything else: a `Watchdog` on the engine arms a deadline (statement timeout + grace) before each
  round trip (a statement, a commit, a rollback) and disarms it when the answer comes; a connection still
  waiting past its deadline is cut (its socket shut down; `interrupt()` on SQLite). The thread waiting on
  it wakes with a lost connection (OperationalError, a 503), and the pool replaces the connection. Work a
  request does between statements (building a file) is not bounded here: only waits on the database are.

A checked-out connection is pinged first, under the connect timeout (the pool's own pre-ping would wait
forever on a frozen server), and replaced when the ping fails.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError

logger = logging.getLogger("api.database")
Cut = Callable[[], None]
WATCHDOGS: weakref.WeakKeyDictionary[Engine, Watchdog] = weakref.WeakKeyDictionary()


class Watchdog:
    """One daemon thread per engine that cuts connections held past their deadline."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._armed: dict[int, tuple[float, Cut]] = {}
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.cuts = 0  # how many connections it has cut (for tests and logs)

    def arm(self, key: int, seconds: float, cut: Cut) -> None:
        with self._changed:
            self._armed[key] = (time.monotonic() + seconds, cut)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name=f"db-watchdog-{self.name}", daemon=True
                )
                self._thread.start()
            self._changed.notify()

    def disarm(self, key: int) -> None:
        with self._changed:
            self._armed.pop(key, None)

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._armed.clear()
            self._changed.notify()

    def _run(self) -> None:
        with self._changed:
            while not self._closed:
                now = time.monotonic()
                for key, (deadline, cut) in list(self._armed.items()):
                    if deadline <= now:
                        # Cut under the lock: a disarm racing with it either came first (nothing is cut)
                        # or waits until the cut is done.
                        del self._armed[key]
                        self.cuts += 1
                        _quietly(cut)
                next_deadline = min((deadline for deadline, _ in self._armed.values()), default=None)
                self._changed.wait(None if next_deadline is None else max(next_deadline - now, 0.01))


def _quietly(cut: Cut) -> None:
    try:
        cut()
    except Exception as error:  # the connection may be closed already: nothing to cut
        logger.debug("cutting a database connection: %s", error)


def shut_down_socket(dbapi_connection: Any) -> None:
    """Wake a thread blocked on a psycopg connection: shut its socket down (the fd stays the driver's)."""
    duplicate = socket.socket(fileno=os.dup(dbapi_connection.pgconn.socket))
    try:
        duplicate.shutdown(socket.SHUT_RDWR)
    finally:
        duplicate.close()
    logger.warning("database round trip past its deadline: connection cut")


def interrupt_sqlite(dbapi_connection: Any) -> None:
    dbapi_connection.interrupt()
    logger.warning("SQLite statement past its deadline: interrupted")


def install_deadlines(engine: Engine, *, ping_seconds: float, deadline_seconds: float) -> Watchdog:
    """Ping on checkout and bound every round trip of `engine` (see module docstring)."""
    watchdog = Watchdog(engine.url.get_backend_name())
    postgres = engine.dialect.name == "postgresql"
    cut_for: Callable[[Any], Cut] = (
        (lambda c: lambda: shut_down_socket(c)) if postgres else (lambda c: lambda: interrupt_sqlite(c))
    )

    def arm(dbapi_connection: Any, seconds: float = deadline_seconds) -> None:
        if dbapi_connection is not None:
            watchdog.arm(id(dbapi_connection), seconds, cut_for(dbapi_connection))

    def disarm(dbapi_connection: Any, *_args: Any) -> None:
        if dbapi_connection is not None:
            watchdog.disarm(id(dbapi_connection))

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if not postgres:
            return
        arm(dbapi_connection, ping_seconds)
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise DisconnectionError(f"ping on checkout failed: {error}") from error
        finally:
            disarm(dbapi_connection)

    def _dbapi(connection: Any) -> Any:
        try:
            return connection.connection.dbapi_connection
        except Exception:  # closed or invalidated: nothing is waiting on it any more
            return None

    # A statement, a commit and a rollback are each one wait on the server: armed before, disarmed after
    # (a commit or rollback stays armed until the next statement or the check-in, which come right after).
    event.listen(engine, "before_cursor_execute", lambda conn, *_: arm(_dbapi(conn)))
    event.listen(engine, "after_cursor_execute", lambda conn, *_: disarm(_dbapi(conn)))
    event.listen(engine, "commit", lambda conn: arm(_dbapi(conn)))
    event.listen(engine, "rollback", lambda conn: arm(_dbapi(conn)))
    event.listen(engine, "reset", lambda dbapi_connection, *_: arm(dbapi_connection))  # rollback on return

    @event.listens_for(engine, "handle_error")
    def _failed(context: Any) -> None:
        if context.connection is not None:
            disarm(_dbapi(context.connection))

    for name in ("checkin", "invalidate", "close", "close_detached"):
        event.listen(engine, name, disarm)
    WATCHDOGS[engine] = watchdog
    return watchdog
