"""`settld gate go-live`: the critical test subset (pytest marker `critical`), both drills and the lighthouse
tracker check, each a subprocess whose exit code and report decide it; then `GoLiveGateReport.v1` and
`LaunchCutoverPacket.v1` (reports/golive.py) in the report folder.

Fail-closed: a check that did not run (its command missing, crashed before writing its report, timed out)
fails; a check may be skipped only when the operator names it (`--allow-skip ID`), and then it is marked
skipped, never ok.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from reports.golive import FILE_NAMES, GateCheck, cutover_packet, gate_report, write_report

CLI = [sys.executable, "-m", "settld.cli.main"]


@dataclass(frozen=True)
class CheckSpec:
    check_id: str
    command: list[str]
    report: str | None  # the file the check writes into the report folder (None: the exit code decides)
    timeout: float
    exit_code_decides: bool = (
        True  # False: the report's verdict alone (the rehearsal's command also judges throughput)
    )


def default_checks(
    out: Path, *, tracker: Path, throughput_seconds: int, pytest_args: list[str]
) -> list[CheckSpec]:
    folder = str(out)
    return [
        CheckSpec("deterministic_critical_suite",
                  [sys.executable, "-m", "pytest", "-q", "-n", "2", "-m", "critical", "-p", "no:cacheprovider",
                   *pytest_args], None, 1800),
        CheckSpec("throughput_drill", [*CLI, "drill", "throughput", "--out", folder, "--seconds", str(throughput_seconds)],
                  FILE_NAMES["ThroughputDrillReport.v1"], throughput_seconds + 600),
        CheckSpec("throughput_incident_rehearsal",
                  [*CLI, "drill", "throughput", "--incident", "--out", str(out / "incident"), "--seconds",
                   str(max(throughput_seconds, 40))],
                  "incident/" + FILE_NAMES["ThroughputIncidentRehearsalReport.v1"], throughput_seconds + 600,
                  exit_code_decides=False),
        CheckSpec("pipeline_drill", [*CLI, "drill", "pipeline", "--out", folder],
                  FILE_NAMES["PipelineDrillReport.v1"], 5400),
        CheckSpec("lighthouse_customers_paid_production",
                  [*CLI, "lighthouse", "check", "--tracker", str(tracker), "--out", folder],
                  FILE_NAMES["LighthouseTrackerCheck.v1"], 600),
    ]  # fmt: skip


Runner = Callable[[list[str], float], int]


def run_process(command: list[str], timeout: float) -> int:
    """The command's exit code; a timeout is -1 (the check did not finish, so it fails)."""
    try:
        return subprocess.run(command, check=False, timeout=timeout, stdin=subprocess.DEVNULL).returncode
    except subprocess.TimeoutExpired:
        return -1


def run_check(spec: CheckSpec, out: Path, runner: Runner) -> GateCheck:
    report = out / spec.report if spec.report else None
    if report is not None and report.exists():
        report.unlink()  # a report left by an earlier run must not pass for this one
    started = time.monotonic()
    try:
        exit_code: int | None = runner(spec.command, spec.timeout)
    except OSError as error:  # the command could not start
        return GateCheck(
            spec.check_id, ran=False, ok=False, command=spec.command, summary=f"not started: {error}"
        )
    duration = int((time.monotonic() - started) * 1000)
    verdict_ok, summary = (
        exit_code == 0 or (not spec.exit_code_decides and exit_code != -1),
        f"exit {exit_code}",
    )
    if report is not None:
        try:
            document = json.loads(report.read_text())
            verdict = document.get("verdict", document)
            verdict_ok = verdict_ok and bool(verdict.get("ok"))
            summary += f"; verdict ok={bool(verdict.get('ok'))} {verdict.get('failedChecks', document.get('errors', []))}"
        except (OSError, json.JSONDecodeError):
            return GateCheck(spec.check_id, ran=False, ok=False, exit_code=exit_code, duration_ms=duration,
                             command=spec.command, summary=f"exit {exit_code}; no report at {report}")  # fmt: skip
    return GateCheck(spec.check_id, ran=exit_code != -1, ok=verdict_ok, exit_code=exit_code, duration_ms=duration,
                     report_path=str(report) if report else None, command=spec.command, summary=summary)  # fmt: skip


def run_gate(specs: list[CheckSpec], out: Path, *, allow_skip: set[str], skip: set[str],
             runner: Runner = run_process, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> tuple[dict, dict]:  # fmt: skip
    """Run every check not skipped; write the gate report and the cutover packet; return both.

    `skip` names checks not to run; each must also be in `allow_skip` or it counts as not run (a failure)."""
    started = time.monotonic()
    checks = []
    for spec in specs:
        if spec.check_id in skip:
            allowed = spec.check_id in allow_skip
            checks.append(GateCheck(spec.check_id, ran=False, ok=False, skipped=allowed, command=spec.command,
                                    summary="skipped with permission" if allowed else "skipped WITHOUT permission"))  # fmt: skip
            continue
        checks.append(run_check(spec, out, runner))
    stamp = now().strftime("%Y-%m-%dT%H:%M:%SZ")
    report = gate_report(checks, required=[spec.check_id for spec in specs], generated_at=stamp,
                         duration_ms=int((time.monotonic() - started) * 1000))  # fmt: skip
    gate_path = write_report(out, report)
    packet = cutover_packet(report, gate_path, generated_at=stamp)
    write_report(out, packet)
    return report, packet
