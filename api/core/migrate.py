"""Alembic, configured in code: the scripts live in `api/migrations/` and need no alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from api.core.database import create_database_engine
from settld.settings import postgres_schema

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(engine: Engine | None = None) -> Config:
    """Config pointing at our scripts; with an engine, env.py migrates through it (keeps its SQLite hooks)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no Alembic revisions found under api/migrations/versions")
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate_engine(engine: Engine) -> bool:
    """Upgrade to head; returns whether anything was applied (False when already current)."""
    if current_revision(engine) == head_revision():
        return False
    command.upgrade(alembic_config(engine), "head")
    return True


def migrate_database(url: str) -> bool:
    engine = create_database_engine(url)
    try:
        schema = postgres_schema(url)
        if schema and schema != "public":  # the API's own schema in a shared database (see api/README.md)
            with engine.begin() as connection:
                connection.exec_driver_sql(f'create schema if not exists "{schema}"')
        return migrate_engine(engine)
    finally:
        engine.dispose()
