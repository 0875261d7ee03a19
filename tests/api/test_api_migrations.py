"""Migrations in one place: they match the models, every revision downgrades, concurrent migrates serialise
on Postgres, new revision ids are date-prefixed, and nothing but `settld api migrate` changes the schema."""

from __future__ import annotations

import re
import threading
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, make_url, text
from sqlalchemy.pool import NullPool

import api.models  # noqa: F401
from api.core.database import Base, Database
from api.core.migrate import (
    SchemaOutdated,
    alembic_config,
    current_revision,
    database_at_head,
    downgrade_database,
    head_revision,
    migrate_database,
)
from tests.api.factories import Factory, mismatch_row

REPO = Path(__file__).resolve().parents[2]
# Ids from before the rule: kept as they are, since databases in the field carry them.
LEGACY_IDS = {"0001_initial", "0002_period_close", "0003_stripe_webhooks", "0004_stripe_pull_cursor",
              "0005_stripe_objects"}  # fmt: skip
REVISION_ID = re.compile(r"^20\d{6}_\d{2}_[a-z0-9_]+$")  # YYYYMMDD_NN_what


def assert_matches_the_models(url: str) -> None:
    database = Database(url)
    try:
        assert current_revision(database.engine) == head_revision()
        with database.engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    finally:
        database.dispose()


def test_migrations_match_the_models_and_are_idempotent(database_url: str) -> None:
    assert migrate_database(database_url) is False
    assert_matches_the_models(database_url)


def test_upgrade_downgrade_upgrade(database_url: str, factory: Factory) -> None:
    factory.publish([mismatch_row("acme", "kept")])
    previous = ScriptDirectory.from_config(alembic_config()).get_revision(head_revision()).down_revision
    downgrade_database(database_url, previous)  # one step, with data: the rows survive it
    with pytest.raises(SchemaOutdated, match="settld api migrate"), database_at_head(database_url):
        pass
    assert migrate_database(database_url) is True
    assert factory.publish([mismatch_row("acme", "kept")]).unchanged == 1 and stored(database_url) == 1
    downgrade_database(database_url, "base")  # every revision's downgrade, newest first
    database = Database(database_url)
    try:
        assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
    finally:
        database.dispose()
    assert migrate_database(database_url) is True
    assert_matches_the_models(database_url)


def stored(url: str) -> int:
    database = Database(url)
    try:
        with database.session() as session:
            return session.scalar(text("SELECT count(*) FROM reconciliation_mismatches"))
    finally:
        database.dispose()


@pytest.mark.postgres
def test_concurrent_migrates_serialise_on_postgres(postgres_server_url: str) -> None:
    name = f"settld_api_race_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    url += "?options=-csearch_path%3Doperator_api"  # in a schema of its own, as in production
    results: list[bool] = []
    barrier = threading.Barrier(3)

    def migrate() -> None:
        barrier.wait()
        results.append(migrate_database(url))

    try:
        threads = [threading.Thread(target=migrate) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [False, False, True]  # one applied, the others waited and found it done
        assert_matches_the_models(url)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def test_revision_ids_are_date_prefixed_and_every_revision_downgrades() -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    revisions = list(scripts.walk_revisions())
    assert {revision.revision for revision in revisions} >= LEGACY_IDS
    for revision in revisions:
        assert revision.revision in LEGACY_IDS or REVISION_ID.match(revision.revision), revision.revision
        assert Path(revision.path).name == f"{revision.revision}.py"
        source = Path(revision.path).read_text()
        assert "def downgrade() -> None:\n    pass" not in source, f"{revision.revision} cannot be downgraded"


def test_only_the_deploy_step_and_the_tests_migrate() -> None:
    callers = {
        str(path.relative_to(REPO))
        for package in ("api", "settld", "orchestration", "ingestion", "quality", "reports", "devtools")
        for path in (REPO / package).rglob("*.py")
        if re.search(r"\bmigrate_database\(|\bcommand\.upgrade\(", path.read_text())
    }
    assert callers == {"api/core/migrate.py", "settld/cli/api_commands.py"}
