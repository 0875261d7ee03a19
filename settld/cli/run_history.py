"""The Dagster instance `settld run` records its runs in, and what it costs to record them.

With DAGSTER_HOME set (as `make demo`, the bench and the UI have it) the run history is Dagster's SQLite
storage under that folder: one database per run plus an index, written once or more for every event. A
demo-size dbt build alone is about 1,300 events (each model, each data test as an asset check, planned and
done), so what one write costs is most of what a run costs before it touches data (docs/performance.md,
"Fixed cost"). Two costs are cut here; the files, their schema and what the UI reads are Dagster's own:

- no fsync per commit (`_unsynced_run_history`): SQLite's `synchronous=OFF`, for files under
  DAGSTER_HOME only;
- one engine per database (`PooledSqliteEventLogStorage`): Dagster's event log creates an SQLAlchemy
  engine, and with it a new connection, for every write, so each event paid for the dialect's first-connect
  set-up, a statement compiled afresh (the compiled-statement cache lives in the engine) and the file's
  open. Only `settld run`'s own instance uses it; `dagster dev` reads the same files with Dagster's class.

Without DAGSTER_HOME the instance is ephemeral (in memory) and none of this applies.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from dagster._serdes import ConfigurableClassData
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine

# Dagster's default storage for a DAGSTER_HOME without a `storage:` block (or with `storage: sqlite:`).
_DAGSTER_SQLITE_STORAGE = ("dagster._core.storage.sqlite_storage", "DagsterSqliteStorage")


def instance() -> dg.DagsterInstance:
    """The persistent instance when DAGSTER_HOME is set (runs then show in the UI), else an ephemeral one.
    A DAGSTER_HOME configured with a storage of its own (Postgres, say) keeps it as configured."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return dg.DagsterInstance.ephemeral()
    Path(home).mkdir(parents=True, exist_ok=True)
    _unsynced_run_history(Path(home).resolve())
    ref = InstanceRef.from_dir(home)
    storage = ref.storage_data
    if storage is not None and (storage.module_name, storage.class_name) == _DAGSTER_SQLITE_STORAGE:
        pooled = ConfigurableClassData(__name__, PooledSqliteStorage.__name__, storage.config_yaml)
        ref = ref._replace(storage_data=pooled)
    return dg.DagsterInstance.from_ref(ref)


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's per-run SQLite event log, writing through one engine per database instead of one per
    event. The engine's pool keeps its connection open between events; Dagster's own lock still lets one
    connection at a time in, and each write is still its own transaction, committed before the next."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        super().__init__(base_dir, inst_data=inst_data)
        self._engines: dict[str, Engine] = {}
        self._engines_lock = threading.Lock()

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            if shard not in self._engines:
                self._engines[shard] = create_engine(
                    self.conn_string_for_shard(shard),
                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
                )
            return self._engines[shard]

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as connection, connection.begin():
                yield connection

    def has_table(self, table_name: str) -> bool:
        """Asked for every asset event, inside a write to the index (so not through `_connect` and its
        lock): the pool then holds a second connection to the index."""
        engine = self._engine(INDEX_SHARD_NAME)
        with engine.connect() as connection:
            return bool(engine.dialect.has_table(connection, table_name))

    def dispose(self) -> None:
        super().dispose()
        with self._engines_lock:
            engines, self._engines = list(self._engines.values()), {}
        for engine in engines:
            engine.dispose()


class PooledSqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage with the event log above; runs and schedules as Dagster keeps them."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        super().__init__(base_dir, inst_data=inst_data)
        self._event_log_storage = PooledSqliteEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: dict) -> PooledSqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)  # Dagster's names its own class


# Folders (DAGSTER_HOMEs, as given and resolved, each ending in a separator) whose SQLite files open without
# an fsync per commit (`_unsynced_run_history`).
_UNSYNCED_PREFIXES: set[str] = set()


def _unsynced_run_history(home: Path) -> None:
    """Dagster's SQLite run history under DAGSTER_HOME without an fsync per event.

    Dagster commits once or more for every event it stores, and each commit waited for the disk: about
    20 ms here, most of a demo-size run (docs/performance.md, "Fixed cost"). With `synchronous=OFF`
    SQLite leaves the flushing to the OS: a crash of the process loses nothing; a power loss may lose the
    last events of the run history the UI shows. Only files under DAGSTER_HOME: the warehouse, the
    operator API's database and the artifacts keep their own durability."""
    from sqlalchemy import event

    _UNSYNCED_PREFIXES.update(os.path.join(str(folder), "") for folder in (home, home.resolve()))
    if not event.contains(Engine, "do_connect", _mark_unsynced):
        event.listen(Engine, "do_connect", _mark_unsynced)
        event.listen(Engine, "connect", _unsynced)


def _mark_unsynced(dialect, record, cargs, cparams) -> None:
    """Before SQLite opens a file: mark the connection when the file is under an unsynced folder. Decided
    from the file name alone, with no query or path resolution: Dagster's run storage still opens a
    connection for each write."""
    if dialect.name != "sqlite":
        return
    filename = cargs[0] if cargs else cparams.get("database")
    if isinstance(filename, str) and os.path.abspath(filename).startswith(tuple(_UNSYNCED_PREFIXES)):
        record.info["settld_unsynced"] = True


def _unsynced(connection, record) -> None:
    if record.info.get("settld_unsynced"):
        connection.execute("pragma synchronous=OFF")
