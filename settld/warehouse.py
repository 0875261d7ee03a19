"""Reading and writing the warehouse the settings name, DuckDB or Postgres, through one small interface.

Everything outside dbt that queries the warehouse (reports, publishing, the CLI summary, the landing
asset's figures) goes through `connect()`, so one SQL text runs on both engines: write `?` placeholders
and portable SQL (no `group by all`, no `select * exclude`); on Postgres `?` becomes psycopg's `%s`.
Rows come back as dicts of plain Python values (int, str, bool, naive UTC datetime, None).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb

from settld.settings import WarehouseTarget, display_url

POSTGRES_SCHEMES = ("postgresql+psycopg://", "postgresql://", "postgres://")
# Text must order byte-wise, as on DuckDB, or reports and digests would differ between the engines.
BYTEWISE_COLLATIONS = ("C", "POSIX", "C.UTF-8", "C.utf8", "ucs_basic")


class WarehouseError(RuntimeError):
    """The warehouse cannot be used as configured; `code` is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class Warehouse(Protocol):
    kind: str

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]: ...

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any: ...

    def relations(self, schema: str) -> list[str]: ...

    def upsert_rows(
        self, ddl: str, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Create `table` with `ddl` if missing, then, in one transaction, replace the rows whose first
        column (the key) matches one of `rows` and insert the others."""
        ...


class _DuckDBWarehouse:
    kind = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        cursor = self.con.execute(sql, list(params or []))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        row = self.con.execute(sql, list(params or [])).fetchone()
        return None if row is None else row[0]

    def relations(self, schema: str) -> list[str]:
        return [row[0] for row in self.con.execute(_RELATIONS_SQL, [schema]).fetchall()]

    def upsert_rows(
        self, ddl: str, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        self.con.execute(f"create schema if not exists {table.split('.')[0]}")
        self.con.execute(ddl)
        self.con.execute("begin transaction")
        try:
            if rows:
                self.con.executemany(f"delete from {table} where {columns[0]} = ?", [row[:1] for row in rows])
                marks = ", ".join("?" for _ in columns)
                self.con.executemany(f"insert into {table} ({', '.join(columns)}) values ({marks})", rows)
            self.con.execute("commit")
        except Exception:
            self.con.execute("rollback")
            raise


class _PostgresWarehouse:
    kind = "postgres"

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    @staticmethod
    def _sql(sql: str, params: Sequence[Any] | None) -> str:
        # With parameters psycopg reads % as a placeholder marker: escape literal ones, then map ? to %s.
        return sql if not params else re.sub(r"\?", "%s", sql.replace("%", "%%"))

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        with self.connection.cursor() as cursor:
            cursor.execute(self._sql(sql, params), list(params) if params else None)
            if cursor.description is None:
                return []
            names = [d.name for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        rows = self.query(sql, params)
        return next(iter(rows[0].values())) if rows else None

    def relations(self, schema: str) -> list[str]:
        return [row["table_name"] for row in self.query(_RELATIONS_SQL, [schema])]

    def upsert_rows(
        self, ddl: str, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        with self.connection.transaction(), self.connection.cursor() as cursor:
            cursor.execute(f"create schema if not exists {table.split('.')[0]}")
            cursor.execute(ddl)
            if rows:
                cursor.executemany(f"delete from {table} where {columns[0]} = %s", [row[:1] for row in rows])
                marks = ", ".join("%s" for _ in columns)
                cursor.executemany(f"insert into {table} ({', '.join(columns)}) values ({marks})", rows)


_RELATIONS_SQL = "select table_name from information_schema.tables where table_schema = ? order by table_name"


def postgres_conninfo(url: str) -> str:
    """A libpq URL from a SETTLD_* URL (SQLAlchemy's `postgresql+psycopg://` is accepted too)."""
    for scheme in POSTGRES_SCHEMES:
        if url.startswith(scheme):
            return "postgresql://" + url.removeprefix(scheme)
    raise WarehouseError("WAREHOUSE_URL_INVALID", f"not a postgresql:// URL: {url}")


def connect_postgres(url: str, *, autocommit: bool = True) -> Any:
    import psycopg

    try:
        return psycopg.connect(postgres_conninfo(url), autocommit=autocommit)
    except psycopg.OperationalError as error:
        raise WarehouseError("WAREHOUSE_UNREACHABLE", f"cannot connect to {url}: {error}") from error


def check_postgres_collation(connection: Any) -> None:
    """Refuse a database whose text does not sort byte-wise (see BYTEWISE_COLLATIONS)."""
    collation = connection.execute(
        "select datcollate from pg_database where datname = current_database()"
    ).fetchone()[0]
    if collation not in BYTEWISE_COLLATIONS:
        raise WarehouseError(
            "WAREHOUSE_COLLATION_UNSUPPORTED",
            f"the warehouse database sorts text with collation {collation!r}; create it with "
            "LC_COLLATE 'C' (e.g. `createdb --locale=C --template=template0`) so text orders byte-wise "
            "as on DuckDB",
        )


# Memory bound of a writing DuckDB connection (`SETTLD_DUCKDB_MEMORY_LIMIT`, also read by the dbt profile).
# Unbounded, DuckDB keeps up to 80 % of RAM as cache while loading: 5.5 GiB of RSS for 20 million rows,
# where 2 GB loads them faster (less to allocate) at 2.2 GiB.
DEFAULT_DUCKDB_MEMORY_LIMIT = "2GB"


def bound_duckdb_memory(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    con.execute(
        "set memory_limit = ?", [os.environ.get("SETTLD_DUCKDB_MEMORY_LIMIT") or DEFAULT_DUCKDB_MEMORY_LIMIT]
    )
    return con


def connect_duckdb(path: Path) -> duckdb.DuckDBPyConnection:
    """A writing connection to the DuckDB file at `path` (created with its folder), memory-bounded."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return bound_duckdb_memory(duckdb.connect(str(path)))


@contextmanager
def connect(target: WarehouseTarget, *, read_only: bool = False) -> Iterator[Warehouse]:
    """The warehouse, open for the duration of the block."""
    if target.kind == "spark":  # read_only: Spark has no single-writer lock of its own either
        from settld.spark_warehouse import connect_spark

        with connect_spark(target) as spark:
            yield spark
        return
    if target.kind == "duckdb":
        if read_only:
            if not target.duckdb_path.is_file():
                raise WarehouseError("WAREHOUSE_NOT_FOUND", f"no DuckDB warehouse at {target.duckdb_path}")
            con = duckdb.connect(str(target.duckdb_path), read_only=True)
        else:
            con = connect_duckdb(target.duckdb_path)
        try:
            yield _DuckDBWarehouse(con)
        finally:
            con.close()
        return
    connection = connect_postgres(target.url)
    try:  # read_only only matters to DuckDB's single-writer lock; Postgres has none
        yield _PostgresWarehouse(connection)
    finally:
        connection.close()


# ---------------------------------------------------------------------------------------------------------
# One writer at a time (docs/DECISIONLOG.md, "Crash safety and one writer").

LOCK_SUFFIX = ".lock"  # beside the DuckDB file: warehouse/settld.duckdb.lock
# The Postgres advisory lock of the warehouse's writer: one 64-bit key per database, derived from a name.
ADVISORY_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"settld.warehouse.writer").digest()[:8], "big", signed=True
)
HOLDER_MARK = "settld-writer"
LOCK_POLL_SECONDS = 0.2


class WarehouseLocked(WarehouseError):
    """Another process writes the warehouse; `holder` says who (pid, host, started_at, command)."""

    def __init__(self, where: str, holder: dict[str, Any], waited: float) -> None:
        who = ", ".join(
            f"{key} {holder[key]}"
            for key in ("pid", "host", "started_at", "command", "server_pid")
            if holder.get(key)
        )
        super().__init__(
            "WAREHOUSE_LOCKED",
            f"another writer holds {where} ({who or 'holder unknown'})"
            + (f"; waited {waited:g} s" if waited else "")
            + ". Wait for it to finish (SETTLD_RUN_LOCK_WAIT_SECONDS=N waits up to N s), or, if that process"
            " is gone, rerun: the lock dies with its process (docs/runbooks/killed-or-locked-run.md).",
        )  # fmt: skip
        self.holder = holder


def holder_description(command: str) -> dict[str, Any]:
    """Who takes the lock: this process, its host, when, and for what."""
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": command,
    }


@contextmanager
def writer_lock(
    target: WarehouseTarget, *, command: str, wait_seconds: float = 0
) -> Iterator[dict[str, Any]]:
    """Hold the warehouse's one writer lock for the block, or raise `WarehouseLocked` naming the holder
    after waiting up to `wait_seconds`. DuckDB: an flock on `<file>.lock` beside the database file, which
    holds the holder's description; Postgres: a session advisory lock (pg_try_advisory_lock) on a
    connection of its own, whose last statement carries the description (pg_stat_activity.query). Both
    die with the process that holds them, `kill -9` included: a lock never outlives its writer."""
    holder = holder_description(command)
    take = _postgres_lock if target.kind == "postgres" else _duckdb_lock  # Spark: a file lock too
    with take(target, holder, wait_seconds) as held:
        yield held


def _waiting(wait_seconds: float, attempt: Any) -> tuple[Any, float]:
    """Call `attempt()` until it returns something other than None or `wait_seconds` pass."""
    started = time.monotonic()
    while True:
        result = attempt()
        waited = time.monotonic() - started
        if result is not None or waited >= wait_seconds:
            return result, round(waited, 1)
        time.sleep(min(LOCK_POLL_SECONDS, max(wait_seconds - waited, 0)))


@contextmanager
def _duckdb_lock(target: WarehouseTarget, holder: dict[str, Any], wait_seconds: float) -> Iterator[dict]:
    import fcntl

    if target.kind == "spark":  # an flock in the Spark folder: warehouse/spark/writer.lock
        path = (target.spark_dir or Path(".")) / f"writer{LOCK_SUFFIX}"
    else:
        path = target.duckdb_path.with_name(target.duckdb_path.name + LOCK_SUFFIX)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        other: dict[str, Any] = {}

        def attempt() -> bool | None:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                other.clear()
                other.update(_read_holder(path))
                return None
            # DuckDB's own lock: a process may still have the file open without the settld lock (the dbt
            # of a run killed a moment ago, a Dagster UI run, a Python shell); wait for it as for a writer.
            if target.kind == "duckdb" and (held_by := _duckdb_file_holder(target.duckdb_path)) is not None:
                fcntl.flock(descriptor, fcntl.LOCK_UN)
                other.clear()
                other.update(held_by)
                return None
            return True

        acquired, waited = _waiting(wait_seconds, attempt)
        if not acquired:
            raise WarehouseLocked(str(target.duckdb_path if target.kind == "duckdb" else path), other, waited)
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, (json.dumps(holder, sort_keys=True) + "\n").encode("utf-8"), 0)
        os.fsync(descriptor)
        try:
            yield holder
        finally:
            os.ftruncate(descriptor, 0)  # released: the file stays, empty, for the next writer
    finally:
        os.close(descriptor)  # closing the descriptor releases the flock


def _duckdb_file_holder(path: Path) -> dict[str, Any] | None:
    """Who holds DuckDB's lock on the database file (None: nobody; the file opens)."""
    if not path.is_file():
        return None
    try:
        duckdb.connect(str(path)).close()
    except duckdb.IOException as error:
        if "lock" not in str(error).lower():
            raise
        pid = re.search(r"PID (\d+)", str(error))
        return {"pid": int(pid.group(1)) if pid else None, "command": "a process with the DuckDB file open"}
    return None


def _read_holder(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return {}


@contextmanager
def _postgres_lock(target: WarehouseTarget, holder: dict[str, Any], wait_seconds: float) -> Iterator[dict]:
    connection = connect_postgres(target.url)
    try:

        def attempt() -> bool | None:
            return (
                connection.execute("select pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY]).fetchone()[0]
                or None
            )

        acquired, waited = _waiting(wait_seconds, attempt)
        if not acquired:
            raise WarehouseLocked(display_url(target.url), _postgres_holder(connection), waited)
        # The description, as a comment of this session's last statement: what the next writer reads.
        note = json.dumps(holder, sort_keys=True).replace("*/", "* /")
        connection.execute(f"select 1 /* {HOLDER_MARK} {note} */")
        yield holder
    finally:
        connection.close()  # ends the session, which releases the advisory lock


def _postgres_holder(connection: Any) -> dict[str, Any]:
    unsigned = ADVISORY_LOCK_KEY & 0xFFFFFFFFFFFFFFFF
    row = connection.execute(
        "select a.pid, a.client_addr::text, a.backend_start, a.query from pg_locks l "
        "join pg_stat_activity a on a.pid = l.pid where l.locktype = 'advisory' and l.granted "
        "and l.database = (select oid from pg_database where datname = current_database()) "
        "and l.objsubid = 1 and l.classid::bigint = %s and l.objid::bigint = %s",
        [unsigned >> 32, unsigned & 0xFFFFFFFF],  # a bigint key is shown as two oids, high and low
    ).fetchone()
    if row is None:
        return {}
    pid, client, backend_start, query = row
    mark = re.search(rf"{HOLDER_MARK} (\{{.*\}}) \*/", query or "")
    described = json.loads(mark.group(1)) if mark else {}
    return {"server_pid": pid, "client": client, "connected_at": str(backend_start), **described}
