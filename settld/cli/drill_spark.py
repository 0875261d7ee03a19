"""`settld drill spark-cluster`: the pipeline on a real Spark cluster, on loopback, compared with DuckDB.

Inside a temporary folder of its own it starts, from the pyspark package's own jars (`java -cp
<pyspark>/jars/*`): a standalone master, two workers (one core each) and the Thrift server (HiveThriftServer2
submitted to that master, its Derby metastore and warehouse directory in the folder). Every process binds
127.0.0.1 only and gets ports the kernel picked free. Then it runs `settld run` on a landing zone through
`spark+thrift://127.0.0.1:PORT` and on DuckDB, compares `settld warehouse digest` of both line for line, and
stops what it started by the process ids it started (each in a process group of its own, so a worker's
executors go with it), whatever happened. Exit 0 only when the digests are equal.
"""

from __future__ import annotations

import difflib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console

START_TIMEOUT_SECONDS = 300
STOP_TIMEOUT_SECONDS = 30
LOOPBACK = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((LOOPBACK, port)) == 0


def _java() -> str:
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("java is not installed (Spark needs Java 17 or newer: openjdk-17-jre-headless)")
    return java


class Cluster:
    """The processes the drill started, by pid, and where their logs are."""

    def __init__(self, folder: Path) -> None:
        import pyspark

        self.folder = folder
        self.spark_home = Path(pyspark.__file__).parent
        self.classpath = f"{self.spark_home / 'jars'}/*"
        self.processes: dict[str, subprocess.Popen] = {}
        self.master_port, self.thrift_port = _free_port(), _free_port()
        self.environment = {**os.environ, "SPARK_HOME": str(self.spark_home), "SPARK_LOCAL_IP": LOOPBACK,
                            "SPARK_LOG_DIR": str(folder / "logs"), "SPARK_WORKER_DIR": str(folder / "work"),
                            # the launcher of executors asks; a source build would have a folder saying it
                            "SPARK_SCALA_VERSION": "2.13"}  # fmt: skip

    @property
    def master_url(self) -> str:
        return f"spark://{LOOPBACK}:{self.master_port}"

    def start(self, name: str, java_class: str, *args: str, memory: str = "512m") -> None:
        log = (self.folder / "logs" / f"{name}.log").open("w")
        command = [_java(), "-Xmx" + memory, "-cp", self.classpath, java_class, *args]
        self.processes[name] = subprocess.Popen(
            command, cwd=self.folder, env=self.environment, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip

    def wait_for(self, name: str, port: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not _listening(port):
            if self.processes[name].poll() is not None:
                raise RuntimeError(f"{name} exited ({self.processes[name].returncode}); see {self.log(name)}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{name} did not listen on {port} in {START_TIMEOUT_SECONDS} s; {self.log(name)}"
                )
            time.sleep(1)

    def log(self, name: str) -> Path:
        return self.folder / "logs" / f"{name}.log"

    def stop(self) -> dict[str, int | None]:
        """SIGTERM each process group the drill started (newest first), SIGKILL what outlives the wait."""
        codes = {}
        for name, process in reversed(self.processes.items()):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=STOP_TIMEOUT_SECONDS)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            codes[name] = process.returncode
        return codes


@contextmanager
def spark_cluster(folder: Path, *, spark_dir: Path) -> Iterator[Cluster]:
    """Master, two workers and the Thrift server, on loopback; stopped when the block ends."""
    (folder / "logs").mkdir(parents=True, exist_ok=True)
    cluster = Cluster(folder)
    try:
        master_ui = str(_free_port())
        cluster.start("master", "org.apache.spark.deploy.master.Master", "--host", LOOPBACK,
                      "--port", str(cluster.master_port), "--webui-port", master_ui)  # fmt: skip
        cluster.wait_for("master", cluster.master_port)
        for number in (1, 2):
            cluster.start(f"worker-{number}", "org.apache.spark.deploy.worker.Worker", "--host", LOOPBACK,
                          "--webui-port", str(_free_port()), "--cores", "1", "--memory", "1g",
                          "--work-dir", str(folder / "work" / f"worker-{number}"), cluster.master_url)  # fmt: skip
        metastore = spark_dir / "metastore"
        metastore.mkdir(parents=True, exist_ok=True)
        settings = {
            "spark.master": cluster.master_url, "spark.cores.max": "2", "spark.executor.memory": "512m",
            "spark.sql.session.timeZone": "UTC", "spark.ui.enabled": "false",
            "spark.sql.warehouse.dir": str(spark_dir / "tables"), "spark.sql.shuffle.partitions": "4",
            "spark.hadoop.javax.jdo.option.ConnectionURL":
                f"jdbc:derby:;databaseName={metastore / 'metastore_db'};create=true",
            "spark.driver.extraJavaOptions": f"-Dderby.system.home={metastore} -Duser.timezone=UTC",
            "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
        }  # fmt: skip
        arguments = [item for key, value in settings.items() for item in ("--conf", f"{key}={value}")]
        cluster.start("thrift-server", "org.apache.spark.deploy.SparkSubmit", "--class",
                      "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2", *arguments,
                      "spark-internal", "--hiveconf", f"hive.server2.thrift.port={cluster.thrift_port}",
                      "--hiveconf", f"hive.server2.thrift.bind.host={LOOPBACK}", memory="1g")  # fmt: skip
        cluster.wait_for("thrift-server", cluster.thrift_port)
        yield cluster
    finally:
        cluster.stop()


def _settld(home: Path, *args: str, warehouse: str | None = None, spark_dir: Path | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SETTLD_") and k != "DAGSTER_HOME"}
    env |= {"SETTLD_HOME": str(home), "COLUMNS": "200"}
    if warehouse:
        env["SETTLD_WAREHOUSE_URL"] = warehouse
    if spark_dir:
        env["SETTLD_SPARK_DIR"] = str(spark_dir)
    return subprocess.run([sys.executable, "-m", "settld.cli.main", *args], env=env, capture_output=True,
                          text=True, check=False)  # fmt: skip


def _checked(completed: subprocess.CompletedProcess, what: str) -> str:
    if completed.returncode != 0:
        raise RuntimeError(
            f"{what} failed ({completed.returncode}):\n{completed.stdout[-4000:]}{completed.stderr[-4000:]}"
        )
    return completed.stdout


def run_cluster_drill(console: Console, *, landing: Path | None, keep: bool = False) -> bool:
    """The drill; True when the cluster's digests equal DuckDB's."""
    folder = Path(tempfile.mkdtemp(prefix="settld-spark-cluster-"))
    try:
        homes = {"duckdb": folder / "duckdb-home", "spark": folder / "spark-home"}
        source = homes["duckdb"] / "data" / "landing"
        if landing is None:
            _checked(
                _settld(homes["duckdb"], "generate", "--tenants", "2", "--periods", "2026-10"), "generate"
            )
        else:
            shutil.copytree(landing, source)
        shutil.copytree(source, homes["spark"] / "data" / "landing")
        spark_dir = folder / "spark"
        digests = {}
        for name in ("duckdb", "spark"):
            _checked(_settld(homes[name], "api", "migrate"), f"api migrate ({name})")
        _checked(_settld(homes["duckdb"], "run", "--as-of", "manifest"), "settld run on DuckDB")
        digests["duckdb"] = _checked(_settld(homes["duckdb"], "warehouse", "digest"), "digest (DuckDB)")
        console.print("Starting a Spark master, two workers and the Thrift server on loopback ...")
        with spark_cluster(folder / "cluster", spark_dir=spark_dir) as cluster:
            url = f"spark+thrift://{LOOPBACK}:{cluster.thrift_port}"
            console.print(f"Cluster: master {cluster.master_url}, Thrift server {url}, pids "
                          + ", ".join(f"{n} {p.pid}" for n, p in cluster.processes.items()))  # fmt: skip
            run = _settld(homes["spark"], "run", "--as-of", "manifest", warehouse=url, spark_dir=spark_dir)
            _checked(run, "settld run on the Spark cluster")
            digests["spark"] = _checked(
                _settld(homes["spark"], "warehouse", "digest", warehouse=url, spark_dir=spark_dir),
                "digest (Spark)",
            )
        alive = [name for name, process in cluster.processes.items() if process.poll() is None]
        console.print(f"Stopped the {len(cluster.processes)} processes it started"
                      + (f"; still alive: {alive}" if alive else ""))  # fmt: skip
        if alive:
            return False
        same = digests["duckdb"] == digests["spark"]
        lines = digests["spark"].count("\n")
        if same:
            console.print(f"[green]The cluster's {lines} mart digests equal DuckDB's.[/]")
        else:
            console.print("[red]The digests differ:[/]")
            diff = difflib.unified_diff(
                digests["duckdb"].splitlines(), digests["spark"].splitlines(), "duckdb", "spark"
            )
            console.print("\n".join(diff), markup=False, highlight=False)
        return same
    finally:
        if keep:
            console.print(f"Kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
