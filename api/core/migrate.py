"""Alembic, configured in code (the scripts live in `api/migrations/`; no alembic.ini), and the schema check.

`settld api migrate` is the deploy step and the only caller of `migrate_database` outside the tests.
Everything else that opens the API database (the app at start-up, the pipeline's publish and store
functions, the dbt build, the CLI) calls `assert_schema_at_head` and refuses an outdated database with
API_SCHEMA_OUTDATED instead of changing it: a schema changes once, on purpose, not as a side effect.
On Postgres an advisory lock serialises concurrent migrates (two deploys, a deploy and a test run).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from api.core.database import Database, create_database_engine
from settld.core import sha256_hex
from settld.settings import postgres_schema

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
MIGRATE_COMMAND = "settld api migrate"


class SchemaOutdated(RuntimeError):
    """The API database is not at this code's migration head (never an HTTP answer: the app refuses to start)."""

    code = "API_SCHEMA_OUTDATED"

    def __init__(self, current: str | None, head: str) -> None:
        self.current_revision, self.head_revision = current, head
        super().__init__(
            f"{self.code}: the API database is at revision {current or 'none (empty)'}, this code needs {head}: "
            f"run `{MIGRATE_COMMAND}` (the deploy step) first."
        )


def alembic_config(engine: Engine | None = None) -> Config:
    """Config pointing at our scripts; with an engine, env.py migrates through it (keeps its SQLite hooks)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if engine is not None:
        config.attributes["engine"] = engine
    return config


@cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no Alembic revisions found under api/migrations/versions")
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def assert_schema_at_head(database: Engine | str) -> None:
    """Return if the database (an engine, or a URL) is migrated to this code's head revision, else raise
    API_SCHEMA_OUTDATED."""
    engine = create_database_engine(database) if isinstance(database, str) else database
    try:
        current, head = current_revision(engine), head_revision()
    finally:
        if engine is not database:
            engine.dispose()
    if current != head:
        raise SchemaOutdated(current, head)


@contextmanager
def database_at_head(url: str) -> Iterator[Database]:
    """The API database at `url`, refused unless migrated to head (API_SCHEMA_OUTDATED); disposed on exit.
    The pipeline's publish and store functions and the CLI open the database through it."""
    database = Database(url)
    try:
        assert_schema_at_head(database.engine)
        yield database
    finally:
        database.dispose()


def _advisory_lock_key(schema: str | None) -> int:
    """A signed 64-bit key for pg_advisory_lock, one per API schema."""
    return int.from_bytes(bytes.fromhex(sha256_hex(f"settld-api-migrate:{schema or ''}")[:16]), signed=True)


@contextmanager
def _migration_lock(engine: Engine, schema: str | None) -> Iterator[None]:
    """On Postgres, hold a session-level advisory lock on a connection of its own while migrating."""
    if engine.dialect.name != "postgresql":
        yield  # SQLite: Alembic's transaction takes the database's write lock
        return
    key = _advisory_lock_key(schema)
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT pg_advisory_lock(%s)", (key,))
        connection.commit()
        try:
            yield
        finally:
            connection.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (key,))
            connection.commit()


def migrate_database(url: str, revision: str = "head") -> bool:
    """The deploy step: upgrade to `revision` under the migration lock; returns whether anything was applied
    (False when already there). Creates the API's own schema in a shared Postgres database first."""
    engine = create_database_engine(url)
    schema = postgres_schema(url)
    try:
        with _migration_lock(engine, schema):
            if schema and schema != "public":  # the API's own schema in a shared database (api/README.md)
                with engine.begin() as connection:
                    connection.exec_driver_sql(f'create schema if not exists "{schema}"')
            target = head_revision() if revision == "head" else revision
            if current_revision(engine) == target:
                return False
            command.upgrade(alembic_config(engine), revision)
            return True
    finally:
        engine.dispose()


def downgrade_database(url: str, revision: str) -> None:
    """Downgrade to `revision` (`base`: empty) under the migration lock: for tests and rollbacks by hand."""
    engine = create_database_engine(url)
    try:
        with _migration_lock(engine, postgres_schema(url)):
            command.downgrade(alembic_config(engine), revision)
    finally:
        engine.dispose()
