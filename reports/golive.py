"""Go-live documents (issue 25): the drills' reports, the gate's report and the cutover packet.

Each is canonical JSON (sorted keys, compact) written atomically to a fixed name in its folder, so the
packet can name every source by path and sha256 of its bytes. Measurements (latencies, durations) are what
a drill saw and differ from run to run; nothing in a document depends on file-system order.

- `ThroughputDrillReport.v1`, `ThroughputIncidentRehearsalReport.v1` (devtools/drills/throughput.py),
  `PipelineDrillReport.v1` (devtools/drills/pipeline.py), `LighthouseTrackerCheck.v1` (quality/lighthouse.py);
- `GoLiveGateReport.v1`: every check with ok, skipped, duration and report path; the verdict is fail-closed;
- `LaunchCutoverPacket.v1`: the gate's verdict and the sha256 of every source report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from settld.core import atomic_write, canonical_json, file_sha256

SCHEMAS = {
    "throughput": "ThroughputDrillReport.v1",
    "incident": "ThroughputIncidentRehearsalReport.v1",
    "pipeline": "PipelineDrillReport.v1",
    "gate": "GoLiveGateReport.v1",
    "packet": "LaunchCutoverPacket.v1",
}
FILE_NAMES = {
    "ThroughputDrillReport.v1": "throughput-drill.json",
    "ThroughputIncidentRehearsalReport.v1": "throughput-incident-rehearsal.json",
    "PipelineDrillReport.v1": "pipeline-drill.json",
    "GoLiveGateReport.v1": "go-live-gate.json",
    "LaunchCutoverPacket.v1": "launch-cutover-packet.json",
    "LighthouseTrackerCheck.v1": "lighthouse-check.json",
}


def write_report(folder: Path, document: dict[str, Any]) -> Path:
    """`document` (with its `schemaVersion`) as canonical JSON under its fixed name in `folder`."""
    path = folder / FILE_NAMES[document["schemaVersion"]]
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, (canonical_json(document) + "\n").encode("utf-8"))
    return path


@dataclass(frozen=True)
class GateCheck:
    """One check of the go-live gate. `ran` is False when it could not start (missing tool, crash before a
    report); `skipped` only when the operator allowed it (`--allow-skip ID`)."""

    check_id: str
    ran: bool
    ok: bool
    skipped: bool = False
    exit_code: int | None = None
    duration_ms: int = 0
    report_path: str | None = None
    command: list[str] | None = None
    summary: str = ""

    @property
    def passed(self) -> bool:
        """Fail-closed: a check passes when it ran and is ok, or when it was skipped with permission."""
        return self.skipped or (self.ran and self.ok)

    def document(self) -> dict[str, Any]:
        return {"id": self.check_id, "ran": self.ran, "ok": self.ok, "skipped": self.skipped,
                "passed": self.passed, "exitCode": self.exit_code, "durationMs": self.duration_ms,
                "reportPath": self.report_path, "command": self.command, "summary": self.summary}  # fmt: skip


def gate_report(checks: list[GateCheck], *, required: list[str], generated_at: str, duration_ms: int) -> dict:
    """`GoLiveGateReport.v1`. A required check missing from `checks` fails the verdict as `not_run`."""
    by_id = {check.check_id: check for check in checks}
    missing = [check_id for check_id in required if check_id not in by_id]
    failed = [check.check_id for check in checks if not check.passed]
    return {
        "schemaVersion": SCHEMAS["gate"], "generatedAt": generated_at, "durationMs": duration_ms,
        "checks": [check.document() for check in checks],
        # all skipped is no evidence at all: at least one check must have run and passed
        "verdict": {"ok": not missing and not failed and any(c.ran and c.ok for c in checks), "requiredChecks": required,
                    "passedChecks": [check.check_id for check in checks if check.passed],
                    "failedChecks": failed, "notRunChecks": missing,
                    "skippedChecks": [check.check_id for check in checks if check.skipped]},
    }  # fmt: skip


def cutover_packet(gate: dict, gate_path: Path, *, generated_at: str) -> dict:
    """`LaunchCutoverPacket.v1`: the gate's verdict and the sha256 of the gate report and of every report
    a check names (a named report that is missing is listed with `sha256: null` and fails the packet)."""
    sources = [{"id": "go_live_gate", "path": str(gate_path), "sha256": file_sha256(gate_path)}]
    for check in gate["checks"]:
        if check["reportPath"]:
            path = Path(check["reportPath"])
            sources.append({"id": check["id"], "path": check["reportPath"],
                            "sha256": file_sha256(path) if path.is_file() else None})  # fmt: skip
    missing = [source["id"] for source in sources if source["sha256"] is None]
    checks = [
        {"id": "go_live_gate_report_present", "ok": gate_path.is_file()},
        {"id": "go_live_gate_schema_valid", "ok": gate.get("schemaVersion") == SCHEMAS["gate"]},
        {"id": "go_live_gate_verdict_ok", "ok": bool(gate["verdict"]["ok"])},
        {"id": "source_reports_present", "ok": not missing, "missing": missing},
    ]
    return {"schemaVersion": SCHEMAS["packet"], "generatedAt": generated_at, "sources": sources,
            "checks": checks, "verdict": {"ok": all(check["ok"] for check in checks)}}  # fmt: skip
