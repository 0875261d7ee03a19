"""Apache Spark as the warehouse: the folder layout, the session (or Thrift connection) and dbt's environment.

`spark://local` is an in-process session (`local[*]`) whose warehouse directory and Derby metastore live in
`SETTLD_SPARK_DIR`; `spark+thrift://HOST:PORT` is a Spark Thrift server in front of a cluster. The session's
configuration is the one dbt's profile gives dbt-spark's session method (dbt_project/profiles.yml, target
`spark`; /work/wt/SPARK.md), so both open the same catalog.

Derby's embedded metastore admits one process at a time, and a JVM keeps it booted until the JVM exits.
Launching a JVM with Hive support costs 20 s to minutes on a busy machine, so a process keeps its session
between blocks (`spark_sql`) and ends it, JVM and all, only when another process needs the metastore:
`end_spark_session()` runs right before dbt's process starts (the dbt asset, `settld dbt`) and at exit.

Folder layout of `SETTLD_SPARK_DIR`:
    tables/              spark.sql.warehouse.dir: the tables dbt builds (staging, marts, ...)
    metastore/           the Derby metastore (metastore_db/) and derby.log
    raw/<dataset>/...    the loader's Parquet (ingestion/spark_sink.py), tables of database `raw`
    operator_api/<t>/    the operator API's snapshot (ingestion/operator_api_snapshot.py), database `operator_api`
    staging-area/        files being written, renamed into place when complete
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from settld.settings import WarehouseTarget

# The session's configuration beside dbt's (dbt_project/profiles.yml, `server_side_parameters`).
DEFAULT_MASTER = "local[*]"
DEFAULT_DRIVER_MEMORY = "2g"
DEFAULT_SHUFFLE_PARTITIONS = "4"


def spark_dir(target: WarehouseTarget) -> Path:
    if target.spark_dir is None:
        raise ValueError("not a Spark warehouse")
    return target.spark_dir


def spark_dbt_environment(target: WarehouseTarget) -> dict[str, str]:
    """What the dbt profile's `spark` target reads (SPARK.md): the folder, and the server for Thrift."""
    environment = {"SETTLD_SPARK_DIR": str(spark_dir(target))}
    if target.spark_method == "thrift":
        host, port = target.spark_host_port
        environment |= {"SETTLD_SPARK_HOST": host, "SETTLD_SPARK_PORT": str(port)}
    for name in ("SETTLD_SPARK_MASTER", "SETTLD_SPARK_DRIVER_MEMORY", "SETTLD_SPARK_SHUFFLE_PARTITIONS"):
        if os.environ.get(name):
            environment[name] = os.environ[name]
    return environment


def session_configuration(folder: Path) -> dict[str, str]:
    """The in-process session's settings: time zone UTC (naive timestamps hold UTC on every engine)."""
    metastore = folder / "metastore"
    return {
        "spark.master": os.environ.get("SETTLD_SPARK_MASTER") or DEFAULT_MASTER,
        "spark.driver.memory": os.environ.get("SETTLD_SPARK_DRIVER_MEMORY") or DEFAULT_DRIVER_MEMORY,
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.warehouse.dir": str(folder / "tables"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={metastore / 'metastore_db'};create=true"
        ),
        "spark.driver.extraJavaOptions": (
            f"-Dderby.system.home={metastore} -Dderby.stream.error.file={metastore / 'derby.log'}"
            f" -Duser.timezone=UTC -Dlog4j2.configurationFile={metastore / 'log4j2.properties'}"
        ),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": os.environ.get("SETTLD_SPARK_SHUFFLE_PARTITIONS")
        or DEFAULT_SHUFFLE_PARTITIONS,
    }


class SparkSQL:
    """Runs Spark SQL text and returns rows of plain Python values (naive UTC datetimes)."""

    def __init__(self, run: Any, method: str) -> None:
        self._run = run
        self.method = method

    def sql(self, text: str) -> list[dict[str, Any]]:
        return [{name: plain(value) for name, value in row.items()} for row in self._run(text)]

    def execute(self, text: str) -> None:
        self._run(text)


def plain(value: Any) -> Any:
    """A value as the other engines give it: Decimal of scale 0 as int; aware datetimes as naive UTC."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return value


_session: Any = None  # this process' session, kept between blocks until the metastore is needed elsewhere
QUIET_LOG4J = """rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
"""


def _open_session(folder: Path) -> Any:
    global _session
    if _session is not None:
        return _session
    from pyspark.sql import SparkSession

    metastore = folder / "metastore"
    metastore.mkdir(parents=True, exist_ok=True)
    (metastore / "log4j2.properties").write_text(QUIET_LOG4J)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # loopback only, and no warning about it
    builder = SparkSession.builder.appName("settld").enableHiveSupport()
    for key, value in session_configuration(folder).items():
        builder = builder.config(key, value)
    _session = builder.getOrCreate()
    return _session


def end_spark_session() -> None:
    """Stop this process' Spark session and its JVM, which releases Derby's metastore: before another
    process (dbt's) opens it. A no-op without a session."""
    global _session
    if _session is None:
        return
    _session.stop()
    _session = None
    _end_jvm()


atexit.register(end_spark_session)


def _end_jvm() -> None:
    """Stop the JVM pyspark launched, so that Derby's lock on the metastore is released."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    if gateway is None:
        return
    process = getattr(gateway, "proc", None)
    gateway.shutdown()
    if process is not None:
        if process.stdin:
            process.stdin.close()  # pyspark's launcher ends the JVM when its stdin closes
        try:
            process.wait(timeout=30)
        except Exception:  # noqa: BLE001 - a JVM that does not exit in time is killed
            process.kill()
            process.wait()
    SparkContext._gateway = None
    SparkContext._jvm = None


def _session_rows(session: Any, text: str) -> list[dict[str, Any]]:
    frame = session.sql(text)
    names = frame.columns
    rows = frame.collect()
    # pyspark turns a TIMESTAMP into a naive datetime in the process' local time zone: back to UTC.
    timestamps = {f.name for f in frame.schema.fields if f.dataType.typeName() == "timestamp"}
    return [
        {
            name: (_utc(row[i]) if name in timestamps and row[i] is not None else row[i])
            for i, name in enumerate(names)
        }
        for row in rows
    ]


def _utc(local: datetime) -> datetime:
    return local.astimezone(UTC).replace(tzinfo=None)


@contextmanager
def _session_block(folder: Path) -> Iterator[SparkSQL]:
    session = _open_session(folder)
    yield SparkSQL(lambda text: _session_rows(session, text), "session")


# HiveServer2 sends these types as text: read them as the session method returns them.
_THRIFT_TYPES = {
    "TIMESTAMP_TYPE": datetime.fromisoformat,
    "DATE_TYPE": date.fromisoformat,
    "DECIMAL_TYPE": Decimal,
}


@contextmanager
def _thrift_block(target: WarehouseTarget) -> Iterator[SparkSQL]:
    try:
        from pyhive import hive
    except ImportError as error:
        from settld.warehouse import WarehouseError

        raise WarehouseError(
            "WAREHOUSE_DRIVER_MISSING",
            "spark+thrift:// needs PyHive (pip install 'dbt-spark[PyHive]'); docs/architecture.md",
        ) from error
    host, port = target.spark_host_port
    connection = hive.connect(host=host, port=port, username=os.environ.get("SETTLD_SPARK_USER", "settld"))

    def run(text: str) -> list[dict[str, Any]]:
        cursor = connection.cursor()
        try:
            cursor.execute(text)
            if not cursor.description:
                return []
            names = [d[0].split(".")[-1] for d in cursor.description]
            readers = [_THRIFT_TYPES.get(d[1]) for d in cursor.description]
            return [
                {name: (read(value) if read and isinstance(value, str) else value)
                 for name, read, value in zip(names, readers, row, strict=True)}
                for row in cursor.fetchall()
            ]  # fmt: skip
        finally:
            cursor.close()

    try:
        run("set spark.sql.session.timeZone=UTC")
        yield SparkSQL(run, "thrift")
    finally:
        connection.close()


@contextmanager
def spark_sql(target: WarehouseTarget) -> Iterator[SparkSQL]:
    """Spark SQL on the target, for the block (see the module's note on the metastore)."""
    if target.spark_method == "thrift":
        with _thrift_block(target) as runner:
            yield runner
        return
    with _session_block(spark_dir(target)) as runner:
        yield runner


def sql_literal(value: Any) -> str:
    """A Spark SQL literal for a `?` parameter (Spark SQL text takes no bound parameters over Thrift)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return repr(int(value)) if isinstance(value, int) else str(value)
    if isinstance(value, datetime):
        moment = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        return f"timestamp '{moment.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"date '{value.isoformat()}'"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def bind(sql: str, params: Sequence[Any] | None) -> str:
    """`sql` with each `?` outside quotes replaced by its parameter's literal, and each "quoted" identifier
    (ANSI, as DuckDB and Postgres read it) in backticks: Spark reads a double-quoted word as a string."""
    values = iter(params or [])
    out, quote = [], None
    for char in sql:
        if quote:
            quote = None if char == quote else quote
            out.append("`" if char == '"' and quote is None else char)
        elif char in "'\"`":
            quote = char
            out.append("`" if char == '"' else char)
        elif char == "?":
            out.append(sql_literal(next(values)))
        else:
            out.append(char)
    return "".join(out)
