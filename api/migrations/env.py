"""Alembic environment: migrates the engine handed over by `api.core.migrate` (online mode only).

On SQLite, a batch operation rebuilds a table (copy, drop, rename): with foreign keys enforced, dropping a
table other rows refer to would fail or cascade, so they are off while migrating (SQLite's documented
procedure for schema changes) and `PRAGMA foreign_key_check` must find nothing before the commit.
"""

from __future__ import annotations

from alembic import context

import api.models  # noqa: F401  (registers every table on Base.metadata)
from api.core.database import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    raise RuntimeError("run migrations through api.core.migrate (settld api migrate), not the alembic CLI")

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:  # a PRAGMA before BEGIN: inside a transaction SQLite ignores it
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
            if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()):
                raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
        connection.commit()
    finally:
        if sqlite:
            connection.rollback()
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
