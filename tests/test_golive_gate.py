"""The go-live gate (devtools/drills/gate.py, reports/golive.py): fail-closed. Checks here are real
subprocesses (small Python commands that write a report and exit), so what is tested is the gate's own
judgement: a failing check, a check that did not run, a missing report, a skip without permission each make
the verdict false and the exit code non-zero; the cutover packet names every source report by sha256."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from typer.testing import CliRunner

from devtools.drills.gate import CheckSpec, run_gate
from settld.cli.main import app
from settld.core import file_sha256
from tests.conftest import CRITICAL_MODULES, REPO_ROOT


def writes(report: str, *, ok: bool, exit_code: int = 0) -> list[str]:
    code = (f"import json, pathlib, sys; pathlib.Path(sys.argv[1]).write_text(json.dumps("
            f"{{'schemaVersion': 'X', 'verdict': {{'ok': {ok}, 'failedChecks': []}}}})); sys.exit({exit_code})")  # fmt: skip
    return [sys.executable, "-c", code, report]


def specs(out: Path, **overrides: list[str]) -> list[CheckSpec]:
    names = ("deterministic_critical_suite", "throughput_drill", "lighthouse_customers_paid_production")
    reports = (None, "throughput-drill.json", "lighthouse-check.json")
    result = []
    for name, report in zip(names, reports, strict=True):
        command = overrides.get(name) or (
            writes(str(out / report), ok=True) if report else [sys.executable, "-c", "0"]
        )
        result.append(CheckSpec(name, command, report, timeout=60))
    return result


def verdict(out: Path, **kwargs: object) -> tuple[dict, dict]:
    skip = kwargs.pop("skip", set())
    allow = kwargs.pop("allow_skip", set())
    return run_gate(specs(out, **kwargs), out, allow_skip=allow, skip=skip)  # type: ignore[arg-type]


def test_every_check_passing_is_a_go_and_the_packet_hashes_every_source(tmp_path: Path) -> None:
    report, packet = verdict(tmp_path)
    assert report["schemaVersion"] == "GoLiveGateReport.v1" and report["verdict"]["ok"] is True
    assert [c["passed"] for c in report["checks"]] == [True, True, True]
    assert all(c["durationMs"] >= 0 and c["exitCode"] == 0 for c in report["checks"])
    assert packet["schemaVersion"] == "LaunchCutoverPacket.v1" and packet["verdict"]["ok"] is True
    sources = {source["id"]: source for source in packet["sources"]}
    assert set(sources) == {"go_live_gate", "throughput_drill", "lighthouse_customers_paid_production"}
    for source in sources.values():
        assert source["sha256"] == file_sha256(Path(source["path"]))


def test_a_failing_check_fails_the_gate(tmp_path: Path) -> None:
    # exit 0 but the report's verdict is false; then a report that is fine but the command exits 1
    for command in (writes(str(tmp_path / "throughput-drill.json"), ok=False),
                    writes(str(tmp_path / "throughput-drill.json"), ok=True, exit_code=1)):  # fmt: skip
        report, packet = verdict(tmp_path, throughput_drill=command)
        assert report["verdict"]["ok"] is False and report["verdict"]["failedChecks"] == ["throughput_drill"]
        assert packet["verdict"]["ok"] is False


def test_a_check_that_did_not_run_or_wrote_no_report_fails(tmp_path: Path) -> None:
    (tmp_path / "throughput-drill.json").write_text(
        '{"verdict": {"ok": true}}'
    )  # an earlier run's: not evidence
    report, _ = verdict(tmp_path, throughput_drill=[sys.executable, "-c", "0"],
                        deterministic_critical_suite=["/nonexistent/settld-tool"])  # fmt: skip
    checks = {c["id"]: c for c in report["checks"]}
    assert checks["throughput_drill"]["ran"] is False and "no report" in checks["throughput_drill"]["summary"]
    assert checks["deterministic_critical_suite"]["ran"] is False
    assert report["verdict"]["ok"] is False
    assert report["verdict"]["failedChecks"] == ["deterministic_critical_suite", "throughput_drill"]


def test_a_skip_passes_only_with_permission_and_never_as_the_only_evidence(tmp_path: Path) -> None:
    unallowed, _ = verdict(tmp_path, skip={"throughput_drill"})
    assert unallowed["verdict"]["ok"] is False
    assert {c["id"]: c["skipped"] for c in unallowed["checks"]}["throughput_drill"] is False
    allowed, _ = verdict(tmp_path, skip={"throughput_drill"}, allow_skip={"throughput_drill"})
    assert allowed["verdict"]["ok"] is True and allowed["verdict"]["skippedChecks"] == ["throughput_drill"]
    everything = {"deterministic_critical_suite", "throughput_drill", "lighthouse_customers_paid_production"}
    nothing_ran, _ = verdict(tmp_path, skip=everything, allow_skip=everything)
    assert nothing_ran["verdict"]["ok"] is False


def test_the_cli_exits_non_zero_when_a_check_is_skipped_without_permission(tmp_path: Path) -> None:
    every = ["deterministic_critical_suite", "throughput_drill", "throughput_incident_rehearsal", "pipeline_drill",
             "lighthouse_customers_paid_production"]  # fmt: skip
    args = ["gate", "go-live", "--out", str(tmp_path)]
    for check_id in every:
        args += ["--skip", check_id] + (["--allow-skip", check_id] if check_id != "pipeline_drill" else [])
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    report = json.loads((tmp_path / "go-live-gate.json").read_text())
    assert report["verdict"]["failedChecks"] == ["pipeline_drill"]
    assert json.loads((tmp_path / "launch-cutover-packet.json").read_text())["verdict"]["ok"] is False


def test_the_critical_subset_names_modules_that_exist() -> None:
    assert all((REPO_ROOT / module).is_file() for module in CRITICAL_MODULES)
