"""Reading and writing the warehouse the settings name, DuckDB or Postgres, through one small interface.

Everything outside dbt that queries the warehouse (reports, publishing, the CLI summary, the landing
asset's figures) goes through `connect()`, so one SQL text runs on both engines: write `?` placeholders
and portable SQL (no `group by all`, no `select * exclude`); on Postgres `?` becomes psycopg's `%s`.
Rows come back as dicts of plain Python values (int, str, bool, naive UTC datetime, None).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import duckdb

from settld.settings import WarehouseTarget

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
