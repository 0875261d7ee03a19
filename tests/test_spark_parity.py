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
from pathlib import Path

import pytest

from tests.demo_home import DEMO_PERIOD as PERIOD
from tests.demo_home import artifact_names, gate_and_close, settld_in, succeeded, triage_serious

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def _files(root: Path) -> dict[str, bytes]:
    return {name: (root / name).read_bytes() for name in artifact_names(root)}


def _mismatches(home: Path, warehouse: str | None) -> list:
    """October's mismatch queue with its live triage (every period's mismatch marts are in the digests;
    each command on Spark starts a JVM, so one period here)."""
    listed = succeeded(settld_in(home, "mismatches", "--period", PERIOD, "--json", warehouse=warehouse))
    return sorted(json.loads(listed), key=json.dumps)


def test_spark_session_warehouse_equals_duckdb(tmp_path: Path) -> None:
    duck, spark = tmp_path / "duckdb", tmp_path / "spark"
    succeeded(settld_in(duck, "generate"))
    succeeded(settld_in(duck, "api", "migrate"))
    succeeded(settld_in(duck, "api", "seed-policies"))
    succeeded(settld_in(duck, "run", "--as-of", "manifest"))
    triage_serious(duck)
    shutil.rmtree(duck / "artifacts")  # each home's artifacts are then those of one run on the same inputs
    succeeded(settld_in(duck, "run", "--as-of", "manifest"))  # the marts now carry the triage

    (spark / "warehouse").mkdir(parents=True)
    shutil.copytree(duck / "data" / "landing", spark / "data" / "landing")
    shutil.copy(duck / "warehouse" / "settld-api.sqlite3", spark / "warehouse" / "settld-api.sqlite3")
    url = "spark://local"
    succeeded(settld_in(spark, "run", "--as-of", "manifest", warehouse=url))
    assert (spark / "warehouse" / "spark" / "raw" / "load_files").is_dir()

    digests = [
        succeeded(settld_in(home, "warehouse", "digest", warehouse=w))
        for home, w in ((duck, None), (spark, url))
    ]
    assert digests[0].count("\n") > 20, digests[0]
    assert digests[1] == digests[0]
    assert _mismatches(spark, url) == _mismatches(duck, None)
    reports = [_files(home / "artifacts") for home in (duck, spark)]
    assert sorted(reports[1]) == sorted(reports[0])
    assert reports[1] == reports[0]

    bundles = [gate_and_close(duck, None), gate_and_close(spark, url)]
    assert bundles[0].relative_to(duck) == bundles[1].relative_to(spark)
    assert bundles[1].read_bytes() == bundles[0].read_bytes()
    assert _files(spark / "artifacts") == _files(duck / "artifacts")
