"""The same landing zone on DuckDB and on a Spark session gives the same warehouse, reports and close (issue 29).

Two homes, as two machines would have them: the first runs the demo on DuckDB, triages the serious
mismatches of October for tnt_acme and runs again, so its marts carry the triage; the second starts from a
copy of the same landing zone and of that operator API database, and runs once on `spark://local` (its
raw layer as Parquet, the API's tables as a Parquet snapshot, dbt through dbt-spark's session method).
Then: `settld warehouse digest` is equal line for line (every mart), the mismatch sets of every period are
equal, every report the runs wrote is equal byte for byte, and the period gate and `period close` on Spark
give the same evidence bundle, byte for byte, as on DuckDB.

Marker `spark` (make test-spark, run by .ci/run after the drills): it needs Java 17+ and pyspark.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.demo_home import REPO_ROOT, demo_environment

pytestmark = [pytest.mark.spark, pytest.mark.slow]

TENANT, PERIOD = "tnt_acme", "2026-10"
SPARK_TIMEOUT = 1800


def _settld(home: Path, *args: str, warehouse: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**demo_environment(home), "COLUMNS": "200"}
    if warehouse:
        env["SETTLD_WAREHOUSE_URL"] = warehouse
        env["SETTLD_SPARK_MASTER"] = "local[2]"
    return subprocess.run([sys.executable, "-m", "settld.cli.main", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=SPARK_TIMEOUT, check=False)  # fmt: skip


def _ok(completed: subprocess.CompletedProcess[str]) -> str:
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-6000:]
    return completed.stdout


def _files(root: Path) -> dict[str, bytes]:
    # Great-expectations' Data Docs are HTML pages for people, outside every hash and bundle: not compared.
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "data_docs" not in p.parts}  # fmt: skip


def _mismatches(home: Path, warehouse: str | None) -> list:
    """October's mismatch queue with its live triage (every period's mismatch marts are in the digests;
    each command on Spark starts a JVM, so one period here)."""
    listed = _ok(_settld(home, "mismatches", "--period", PERIOD, "--json", warehouse=warehouse))
    return sorted(json.loads(listed), key=json.dumps)


def _triage_serious(home: Path) -> None:
    listed = _ok(_settld(home, "mismatches", "--period", PERIOD, "--tenant", TENANT, "--severity", "critical",
                         "--severity", "high", "--unhandled", "--json"))  # fmt: skip
    keys = [row["triage_key"] for row in json.loads(listed)]
    assert keys, "the demo data injects serious mismatches"
    _ok(_settld(home, "triage", *keys, "--tenant", TENANT, "--status", "dismissed", "--owner", "finance-oncall",
                "--resolution", "Injected by settld generate (demo data)"))  # fmt: skip


def _gate_and_close(home: Path, warehouse: str | None) -> Path:
    _ok(_settld(home, "gate", "--period", PERIOD, "--tenant", TENANT, warehouse=warehouse))
    closed = _ok(_settld(home, "period", "close", PERIOD, "--tenant", TENANT, warehouse=warehouse))
    return Path(closed.strip().splitlines()[-1])


def test_spark_session_warehouse_equals_duckdb(tmp_path: Path) -> None:
    duck, spark = tmp_path / "duckdb", tmp_path / "spark"
    _ok(_settld(duck, "generate"))
    _ok(_settld(duck, "api", "migrate"))
    _ok(_settld(duck, "api", "seed-policies"))
    _ok(_settld(duck, "run", "--as-of", "manifest"))
    _triage_serious(duck)
    shutil.rmtree(duck / "artifacts")  # each home's artifacts are then those of one run on the same inputs
    _ok(_settld(duck, "run", "--as-of", "manifest"))  # the marts now carry the triage

    (spark / "warehouse").mkdir(parents=True)
    shutil.copytree(duck / "data" / "landing", spark / "data" / "landing")
    shutil.copy(duck / "warehouse" / "settld-api.sqlite3", spark / "warehouse" / "settld-api.sqlite3")
    url = "spark://local"
    _ok(_settld(spark, "run", "--as-of", "manifest", warehouse=url))
    assert (spark / "warehouse" / "spark" / "raw" / "load_files").is_dir()

    digests = [
        _ok(_settld(home, "warehouse", "digest", warehouse=w)) for home, w in ((duck, None), (spark, url))
    ]
    assert digests[0].count("\n") > 20, digests[0]
    assert digests[1] == digests[0]
    assert _mismatches(spark, url) == _mismatches(duck, None)
    reports = [_files(home / "artifacts") for home in (duck, spark)]
    assert sorted(reports[1]) == sorted(reports[0])
    assert reports[1] == reports[0]

    bundles = [_gate_and_close(duck, None), _gate_and_close(spark, url)]
    assert bundles[0].relative_to(duck) == bundles[1].relative_to(spark)
    assert bundles[1].read_bytes() == bundles[0].read_bytes()
    assert _files(spark / "artifacts") == _files(duck / "artifacts")
