"""A short throughput drill with its incident rehearsal, end to end (`settld drill throughput --incident`):
a throwaway Postgres, `settld api serve --workers 2`, three bootstrapped tenants, locust for 30 s with
Postgres stopped for 6 s in the middle. The throughput and p99 targets belong to the full drill on a quiet
machine (docs/performance.md), so they are relaxed here; everything else is held: books, no 5xx outside the
outage, 503 with Retry-After during it, recovery within 5 s, the reports and the plot. About 100 s."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.drill, pytest.mark.postgres]


def test_a_short_drill_with_an_incident_checks_out(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "settld.cli.main", "drill", "throughput", "--incident", "--out", str(tmp_path),
               "--seconds", "30", "--users", "6", "--incident-after", "8", "--outage-seconds", "6",
               "--settlements", "150", "--min-rps", "1", "--p99-ms", "60000"]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, timeout=170, check=False)
    report = json.loads((tmp_path / "throughput-drill.json").read_text())
    rehearsal = json.loads((tmp_path / "throughput-incident-rehearsal.json").read_text())
    failing = [c for c in report["checks"] + report["books"] + rehearsal["checks"] if not c["ok"]]
    assert run.returncode == 0, (run.stdout[-2000:], failing, report["metrics"], rehearsal["outage"])

    assert report["schemaVersion"] == "ThroughputDrillReport.v1" and report["verdict"]["ok"], report["checks"]
    assert all(check["ok"] for check in report["books"]) and len(report["books"]) == 8
    assert {"webhook", "triage write", "dispute open", "case open", "accept (race)", "queue read"} <= set(
        report["endpoints"]
    )
    for figures in report["endpoints"].values():
        assert figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
    metrics = report["metrics"]
    assert metrics["webhooks"]["forged_sent"] > 0 and metrics["races"] > 0
    assert set(metrics["failures_by_status"]) <= {"503", "0"}  # only the outage's
    assert (tmp_path / "throughput-latency.svg").read_text().startswith("<svg")

    assert rehearsal["schemaVersion"] == "ThroughputIncidentRehearsalReport.v1"
    assert rehearsal["verdict"]["ok"], rehearsal["checks"]
    assert rehearsal["statuses_in_incident_window"].get("503", 0) > 0
