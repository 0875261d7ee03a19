"""Recording gate verdicts, closing and reopening periods, and building the evidence bundle.

Closing trusts the latest verdict `settld gate` recorded for the tenant's period (the warehouse's checks),
and re-checks what can change after it from this database: every critical or high published mismatch
must be resolved or dismissed now. A closed period is immutable (closing again returns the same record);
reopening needs a reason; both are audited. The HTTP route and `settld period close` share this code.

The close instant is an input, never the clock: `closed_at` when the caller gives one, else the as-of of
the build the gate verdict judged (`asOf`). It is the period record's `closed_at`, the manifest's
`closedAt` and every finalised invoice's `finalizedAt`, so the same inputs and verdict give the same
bundle, byte for byte (docs/DECISIONLOG.md, "Reproducible closes, crash safety and one writer"); the audit
log keeps when it happened.

The files a close produces (the finalised invoices, written once and never again, and the evidence zip)
are staged during the transaction and moved into place only after it commits (api/core/staging.py): a
close that fails, even at the commit, leaves no finalised invoice for a period that is not closed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit.service import AuditContext, append_audit
from api.core.staging import stage_files
from api.invoices.service import record_close
from api.periods.models import PeriodClose, PeriodGateVerdict
from api.periods.problems import ClosedAtInvalid, EvidenceIncomplete, PeriodGateFailed, PeriodNotClosed
from api.periods.states import PERIOD_CLOSE, PeriodStatus
from api.reconciliation.models import ReconciliationMismatch, ReconciliationTriage, ReconciliationTriageAction
from api.reconciliation.states import HANDLED_STATUSES, SERIOUS_SEVERITIES
from reports.evidence import build_bundle, csv_bytes, write_bundle
from reports.finance import finance_dir
from reports.invoices import finalize, finalized_path, invoices_dir
from settld.core import canonical_json, iso_micro, period_bounds, sha256_hex
from settld.vocabulary import GE_REUSED_PASSES

MISMATCH_COLUMNS = (
    "triage_key", "provider_id", "mismatch_type", "mismatch_key", "severity", "severity_override",
    "expected_amount_cents", "actual_amount_cents", "currency", "triage_status", "owner", "resolution",
    "triage_revision", "triaged_at", "resolved_at", "resolved_by_key_id",
)  # fmt: skip
ACTION_COLUMNS = (
    "triage_key", "revision", "action", "prev_status", "next_status", "owner", "actor_key_id", "at",
)  # fmt: skip
INPUT_COLUMNS = ("dataset", "sourceFile", "sha256")


@dataclass(frozen=True)
class CloseOutcome:
    changed: bool
    record: PeriodClose


def record_verdict(session: Session, verdict: dict[str, Any], *, now: datetime) -> PeriodGateVerdict:
    """Keep `verdict` as the tenant's latest for its period (written by `settld gate`)."""
    row = session.get(PeriodGateVerdict, (verdict["tenantId"], verdict["period"]))
    if row is None:
        row = PeriodGateVerdict(tenant_id=verdict["tenantId"], period=verdict["period"])
        session.add(row)
    row.verdict_hash = verdict["verdictHash"]
    row.ok = bool(verdict["verdict"]["ok"])
    row.failing_check_ids = json.dumps(verdict["verdict"]["failingCheckIds"])
    row.verdict = canonical_json(verdict)
    row.recorded_at = now
    return row


def get_close(session: Session, *, tenant_id: str, period: str) -> PeriodClose | None:
    return session.get(PeriodClose, (tenant_id, period))


def get_verdict(session: Session, *, tenant_id: str, period: str) -> PeriodGateVerdict | None:
    return session.get(PeriodGateVerdict, (tenant_id, period))


def closed_periods(session: Session, *, periods: Iterable[str] | None = None) -> set[tuple[str, str]]:
    """(tenant_id, period) of every period that is closed now (a reopened period is open), optionally
    only among `periods`: what the pipeline's publish functions ask before they touch a period."""
    query = select(PeriodClose.tenant_id, PeriodClose.period).where(
        PeriodClose.status == PeriodStatus.closed.value
    )
    if periods is not None:
        query = query.where(PeriodClose.period.in_(sorted(set(periods))))
    return {(tenant_id, period) for tenant_id, period in session.execute(query)}


def _gate_failed(detail: str, failing: list[str], **extra: Any) -> PeriodGateFailed:
    return PeriodGateFailed(detail, failing_check_ids=failing, **extra)


def _mismatch_rows(session: Session, *, tenant_id: str, period: str) -> list[dict[str, Any]]:
    """The period's current published mismatches with their triage, sorted by triage_key."""
    rows = session.execute(
        select(ReconciliationMismatch, ReconciliationTriage)
        .outerjoin(
            ReconciliationTriage,
            (ReconciliationTriage.tenant_id == ReconciliationMismatch.tenant_id)
            & (ReconciliationTriage.triage_key == ReconciliationMismatch.triage_key),
        )
        .where(
            ReconciliationMismatch.tenant_id == tenant_id,
            ReconciliationMismatch.period == period,
            ReconciliationMismatch.cleared_at.is_(None),
        )
        .order_by(ReconciliationMismatch.triage_key)
    ).all()
    return [
        {
            "triage_key": mismatch.triage_key,
            "provider_id": mismatch.provider_id,
            "mismatch_type": mismatch.mismatch_type,
            "mismatch_key": mismatch.mismatch_key,
            "severity": mismatch.severity,
            "severity_override": triage.severity if triage else None,
            "expected_amount_cents": mismatch.expected_amount_cents,
            "actual_amount_cents": mismatch.actual_amount_cents,
            "currency": mismatch.currency,
            "triage_status": triage.status if triage else "open",
            "owner": triage.owner if triage else None,
            "resolution": triage.resolution if triage else None,
            "triage_revision": triage.revision if triage else 0,
            "triaged_at": iso_micro(triage.triaged_at) if triage else None,
            "resolved_at": iso_micro(triage.resolved_at) if triage else None,
            "resolved_by_key_id": triage.resolved_by_key_id if triage else None,
        }
        for mismatch, triage in rows
    ]


def unhandled_serious(rows: list[dict[str, Any]]) -> list[str]:
    return [
        row["triage_key"]
        for row in rows
        if (row["severity_override"] or row["severity"]) in SERIOUS_SEVERITIES
        and row["triage_status"] not in HANDLED_STATUSES
    ]


def _action_rows(session: Session, *, tenant_id: str, triage_keys: list[str]) -> list[dict[str, Any]]:
    if not triage_keys:
        return []
    actions = session.scalars(
        select(ReconciliationTriageAction)
        .where(
            ReconciliationTriageAction.tenant_id == tenant_id,
            ReconciliationTriageAction.triage_key.in_(triage_keys),
        )
        .order_by(ReconciliationTriageAction.triage_key, ReconciliationTriageAction.revision)
    )
    return [
        {**{c: getattr(a, c) for c in ACTION_COLUMNS if c != "at"}, "at": iso_micro(a.at)} for a in actions
    ]


def evidence_files(
    session: Session, *, tenant_id: str, period: str, verdict: PeriodGateVerdict, artifacts_dir: Path
) -> dict[str, bytes]:
    """Every file of the period's evidence bundle except its manifest."""
    document = json.loads(verdict.verdict)
    mismatches = _mismatch_rows(session, tenant_id=tenant_id, period=period)
    files = {
        "gate-verdict.json": (verdict.verdict + "\n").encode("utf-8"),
        "mismatches.csv": csv_bytes(MISMATCH_COLUMNS, mismatches),
        "triage-actions.csv": csv_bytes(
            ACTION_COLUMNS,
            _action_rows(session, tenant_id=tenant_id, triage_keys=[row["triage_key"] for row in mismatches]),
        ),
        "inputs.csv": csv_bytes(INPUT_COLUMNS, document["inputs"]["landingFiles"]),
    }
    reports_dir = artifacts_dir / "reconciliation" / tenant_id / period
    missing = []
    for report in document["inputs"]["reconciliationReports"]:
        path = reports_dir / report["file"]
        if not path.is_file():
            missing.append(report["file"])
            continue
        files[f"reconciliation/{report['file']}"] = path.read_bytes()
    invoices = invoices_dir(artifacts_dir, tenant_id, period)
    for entry in document["inputs"].get("invoiceDrafts", []):
        path = invoices / entry["file"]
        if not path.is_file():
            missing.append(f"invoices/{entry['file']}")
            continue
        files[f"invoices/{entry['file']}"] = path.read_bytes()
    reports = finance_dir(artifacts_dir, tenant_id, period)
    for entry in document["inputs"].get("financeReports", []):  # GL tie-out and escrow net close
        path = reports / entry["file"]
        if not path.is_file():
            missing.append(f"finance/{entry['file']}")
            continue
        files[f"finance/{entry['file']}"] = path.read_bytes()
    if missing:
        raise EvidenceIncomplete(
            "Reports or invoice drafts named by the gate verdict are no longer on disk (pruned by "
            "retention?): rerun the reports and the gate.",
            missing_reports=missing,
        )
    return files


def finalize_invoices(files: dict[str, bytes], *, artifacts_dir: Path, staging_dir: Path, verdict_hash: str,
                      closed_at: datetime) -> dict[str, bytes]:  # fmt: skip
    """Finalize the drafts the verdict named (their bytes are in `files`) into `staging_dir`; an invoice
    already finalized under `artifacts_dir` stays as it is. Returns the finalized invoices as bundle files."""
    finalized = {}
    for name, data in sorted(files.items()):
        if not name.startswith("invoices/"):
            continue
        draft = json.loads(data)
        path = finalized_path(artifacts_dir, draft["tenantId"], draft["period"], draft["currency"])
        if not path.is_file():  # the first close finalizes the invoice, for good
            finalize(staging_dir, draft, finalized_at=closed_at, verdict_hash=verdict_hash)
            path = finalized_path(staging_dir, draft["tenantId"], draft["period"], draft["currency"])
        finalized[f"invoices/{path.name}"] = path.read_bytes()
    return finalized


def close_instant(verdict: dict[str, Any], *, period: str, closed_at: datetime | None, now: datetime
                  ) -> datetime:  # fmt: skip
    """The instant a close of `verdict` takes (aware UTC): `closed_at` if given, else the verdict's
    `asOf`; refused before the period's end (its invoices cannot be final before the month is over) and
    after `now` (a close cannot be dated in the future)."""
    if closed_at is None:
        if not verdict.get("asOf"):
            raise ClosedAtInvalid("The gate verdict names no asOf (recorded before closes took it): run "
                                  "`settld gate` again, or give the close instant (`--closed-at`).")  # fmt: skip
        closed_at = datetime.fromisoformat(verdict["asOf"].replace("Z", "+00:00"))
    try:
        instant = closed_at.replace(tzinfo=UTC) if closed_at.tzinfo is None else closed_at.astimezone(UTC)
    except (OverflowError, ValueError) as error:  # e.g. 0001-01-01T00:00:00+14:00 has no UTC instant
        raise ClosedAtInvalid(f"The close instant {closed_at.isoformat()} has no UTC instant.") from error
    end = period_bounds(period)[1]
    if instant < end:
        raise ClosedAtInvalid(f"The close instant {iso_micro(instant)} is before the period ends "
                              f"({iso_micro(end)}): run the pipeline as of a later instant, or give one.")  # fmt: skip
    if instant > now:
        raise ClosedAtInvalid(f"The close instant {iso_micro(instant)} is in the future.")
    return instant


def _locked_close(session: Session, *, tenant_id: str, period: str) -> PeriodClose | None:
    return session.scalars(
        select(PeriodClose)
        .where(PeriodClose.tenant_id == tenant_id, PeriodClose.period == period)
        .with_for_update()
    ).one_or_none()


def close_period(
    session: Session,
    *,
    context: AuditContext,
    period: str,
    artifacts_dir: Path,
    now: datetime,
    closed_at: datetime | None = None,
) -> CloseOutcome:
    """Close the tenant's period as of `closed_at` (default: the verdict's asOf); `now` dates the audit
    entry only. A closed period is returned as it is, with its bundle, whatever `closed_at` says."""
    tenant_id = context.tenant_id
    record = _locked_close(session, tenant_id=tenant_id, period=period)
    current = PeriodStatus(record.status) if record else PeriodStatus.open
    if current == PeriodStatus.closed:
        _restore_files(session, record=record, artifacts_dir=artifacts_dir)
        return CloseOutcome(changed=False, record=record)
    PERIOD_CLOSE.assert_transition(current, PeriodStatus.closed)
    verdict = get_verdict(session, tenant_id=tenant_id, period=period)
    if verdict is None:
        raise _gate_failed(
            "No gate verdict recorded for this period: run `settld gate`.", ["gate.not_evaluated"]
        )
    if not verdict.ok:
        raise _gate_failed(
            "The period gate is red.",
            json.loads(verdict.failing_check_ids),
            verdict_hash=verdict.verdict_hash,
        )
    document = json.loads(verdict.verdict)
    if document.get("geValidation") == GE_REUSED_PASSES:
        raise _gate_failed(
            "The recorded verdict is the daily run's: its great-expectations suites reused earlier passes "
            f"of unchanged files. Run `settld gate --period {period}` to validate every row, then close.",
            ["gate.not_validated_in_full"],
            verdict_hash=verdict.verdict_hash,
        )
    instant = close_instant(document, period=period, closed_at=closed_at, now=now)
    unhandled = unhandled_serious(_mismatch_rows(session, tenant_id=tenant_id, period=period))
    if unhandled:
        raise _gate_failed(
            "Critical or high mismatches are not resolved or dismissed.",
            ["reconciliation.serious_mismatches_handled"],
            unhandled_triage_keys=unhandled[:20],
            unhandled_count=len(unhandled),
        )
    files = evidence_files(
        session, tenant_id=tenant_id, period=period, verdict=verdict, artifacts_dir=artifacts_dir
    )
    revision = 1 if record is None else record.revision + 1
    staged = stage_files(session, root=artifacts_dir, key=f"period-close-{tenant_id}-{period}-r{revision}")
    # The drafts become the period's invoices: the first close finalizes them, for good (once committed),
    # and the invoices table says so in this transaction (GET /ops/finance/invoices: status finalized).
    finalized = finalize_invoices(files, artifacts_dir=artifacts_dir, staging_dir=staged.directory,
                                  verdict_hash=verdict.verdict_hash, closed_at=instant)  # fmt: skip
    files |= finalized
    record_close(session, tenant_id=tenant_id, period=period, now=instant,
                 finalized=[json.loads(data) for data in finalized.values()])  # fmt: skip
    data, manifest_hash = build_bundle(
        files,
        tenant_id=tenant_id,
        period=period,
        verdict_hash=verdict.verdict_hash,
        closed_at=iso_micro(instant),
    )
    bundle = write_bundle(staged.directory / "evidence" / tenant_id, period, data, manifest_hash)
    if record is None:
        record = PeriodClose(tenant_id=tenant_id, period=period)
        session.add(record)
    record.status = PeriodStatus.closed.value
    record.revision = revision
    record.verdict_hash = verdict.verdict_hash
    record.bundle_file = bundle.relative_to(staged.directory).as_posix()
    record.bundle_sha256 = sha256_hex(data)
    record.closed_at = instant
    record.closed_by_key_id = context.actor_key_id
    record.reopened_at = record.reopened_by_key_id = record.reopen_reason = None
    session.flush()
    append_audit(
        session,
        context=context,
        action="period.close",
        target_type="period",
        target_id=period,
        details={"revision": record.revision, "verdict_hash": record.verdict_hash,
                 "bundle_file": record.bundle_file, "bundle_sha256": record.bundle_sha256,
                 "closed_at": iso_micro(instant)},
        at=now,
    )  # fmt: skip
    return CloseOutcome(changed=True, record=record)


def _restore_files(session: Session, *, record: PeriodClose, artifacts_dir: Path) -> None:
    """A close committed by a process that died before moving its files into place: rebuild them (the
    close is deterministic) and put them in place after this transaction, if they come out as the record
    says (its bundle's sha256); else the inputs changed since, and only a reopen and a new close can tell."""
    if (artifacts_dir / record.bundle_file).is_file():
        return
    verdict = get_verdict(session, tenant_id=record.tenant_id, period=record.period)
    if verdict is not None and verdict.verdict_hash == record.verdict_hash:
        files = evidence_files(session, tenant_id=record.tenant_id, period=record.period, verdict=verdict,
                               artifacts_dir=artifacts_dir)  # fmt: skip
        key = f"period-close-{record.tenant_id}-{record.period}-r{record.revision}-restore"
        staged = stage_files(session, root=artifacts_dir, key=key)
        files |= finalize_invoices(files, artifacts_dir=artifacts_dir, staging_dir=staged.directory,
                                   verdict_hash=verdict.verdict_hash, closed_at=record.closed_at)  # fmt: skip
        data, manifest_hash = build_bundle(files, tenant_id=record.tenant_id, period=record.period,
                                           verdict_hash=verdict.verdict_hash, closed_at=iso_micro(record.closed_at))  # fmt: skip
        if sha256_hex(data) == record.bundle_sha256:
            write_bundle(staged.directory / "evidence" / record.tenant_id, record.period, data, manifest_hash)
            return
        staged.discard()
    raise EvidenceIncomplete(
        f"The period is closed but its evidence bundle {record.bundle_file} is missing, and its inputs have "
        "changed since the close: reopen the period and close it again.",
        missing_reports=[record.bundle_file],
    )


def reopen_period(
    session: Session, *, context: AuditContext, period: str, reason: str, now: datetime
) -> CloseOutcome:
    record = _locked_close(session, tenant_id=context.tenant_id, period=period)
    if record is None:
        raise PeriodNotClosed(f"Period {period} has never been closed.")
    if record.status != PeriodStatus.closed:
        return CloseOutcome(changed=False, record=record)
    PERIOD_CLOSE.assert_transition(PeriodStatus.closed, PeriodStatus.reopened)
    record.status = PeriodStatus.reopened.value
    record.revision += 1
    record.reopened_at = now
    record.reopened_by_key_id = context.actor_key_id
    record.reopen_reason = reason
    session.flush()
    append_audit(
        session,
        context=context,
        action="period.reopen",
        target_type="period",
        target_id=period,
        details={"revision": record.revision, "reason": reason, "bundle_file": record.bundle_file},
        at=now,
    )
    return CloseOutcome(changed=True, record=record)
