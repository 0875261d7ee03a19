"""`settld drill spark-cluster` on a small landing zone (issue 29): a standalone master, two workers and the
Thrift server start on loopback from pyspark's jars, the pipeline runs through `spark+thrift://`, its mart
digests equal a DuckDB run's, and every process it started is gone afterwards.

Marker `spark` (make test-spark, run by .ci/run): it needs Java 17+ and pyspark with PyHive.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.demo_home import REPO_ROOT

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def test_the_cluster_drill_matches_duckdb_and_stops_what_it_started() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SETTLD_") and k != "DAGSTER_HOME"}
    completed = subprocess.run([sys.executable, "-m", "settld.cli.main", "drill", "spark-cluster"], cwd=REPO_ROOT,
                               env={**env, "COLUMNS": "200"}, capture_output=True, text=True, timeout=2400,
                               check=False)  # fmt: skip
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-8000:]
    started = dict(re.findall(r"(master|worker-1|worker-2|thrift-server) (\d+)", output))
    assert sorted(started) == ["master", "thrift-server", "worker-1", "worker-2"], output
    assert "Thrift server spark+thrift://127.0.0.1:" in output
    assert "mart digests equal DuckDB's" in output and "still alive" not in output
    for pid in started.values():
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)  # gone: stopped by the drill
