"""The finance reports of a tenant's period, from the finance marts (docs/DECISIONLOG.md, "Finance integrity"):

- `FinanceReconciliationReport.v1`: the GL batch and party statements compared (their ids and hashes),
  the reference's checks, one blocking issue per failing check, and every finding of the period;
- `EscrowNetCloseSnapshot.v1`: the ledger's escrow roll-forward and the held roll-forward per currency,
  the invariants, the mismatch codes and the status (pass, fail or not_closable).

Canonical JSON; each document's hash is sha256(canonical(document without its hash) + "\\n") and the file
name carries its first 16 hex: `<artifacts>/finance/<tenant>/<period>/<schema>-<hash16>.json`. Nothing in
them depends on the clock or the run: the same marts give the same bytes. The gate recomputes them to
name the current files in its verdict, and the period close puts those files in the evidence bundle.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from reports.artifacts import write_artifact
from settld.core import canonical_json, period_bounds, sha256_hex

FINANCE_SCHEMA = "FinanceReconciliationReport.v1"
ESCROW_SCHEMA = "EscrowNetCloseSnapshot.v1"
ESCROW_CODES = (
    "HELD_ROLLFORWARD_MISSING", "LEDGER_ESCROW_ROLLFORWARD_INVALID", "HELD_ROLLFORWARD_INVALID",
    "HELD_ROLLFORWARD_LEDGER_MISMATCH", "LEDGER_UNCLASSIFIED_ESCROW_ADJUSTMENT",
)  # fmt: skip
Query = Callable[[str, list], list[dict[str, Any]]]

GL_PERIOD_SQL = (
    "select batch_id, basis, artifact_hash, recomputed_hash, is_month_closed, line_count, statement_count "
    "from intermediate.int_finance__gl_periods where tenant_id = ? and period = ?"
)
STATEMENTS_SQL = (
    "select statement_id, artifact_hash from staging.stg_kernel_books__party_statements "
    "where tenant_id = ? and period = ? order by statement_id"
)
FINDINGS_SQL = (
    "select * from marts.fct_finance_reconciliation_mismatches where tenant_id = ? and period = ? "
    "order by source_type, severity_rank, mismatch_type, mismatch_key"
)
NET_CLOSE_SQL = (
    "select * from marts.fct_escrow_net_close where tenant_id = ? and period = ? order by currency"
)
SUBJECTS_SQL = (
    "select distinct tenant_id, period from marts.fct_escrow_net_close union "
    "select distinct tenant_id, period from marts.fct_finance_reconciliation_mismatches order by 1, 2"
)


def _hashed(document: dict[str, Any], member: str) -> dict[str, Any]:
    return {**document, member: sha256_hex(canonical_json(document) + "\n")}


def _finding(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "triageKey": row["triage_key"], "mismatchType": row["mismatch_type"], "mismatchCode": row["mismatch_code"],
        "mismatchKey": row["mismatch_key"], "severity": row["severity"], "partyId": row["party_id"],
        "artifactId": row["operation_id"], "detail": row["operation_state"],
        "expectedAmountCents": row["expected_amount_cents"], "actualAmountCents": row["actual_amount_cents"],
        "amountDeltaCents": row["amount_delta_cents"], "currency": row["currency"],
    }  # fmt: skip


def finance_report(query: Query, *, tenant_id: str, period: str) -> dict[str, Any]:
    """FinanceReconciliationReport.v1 of one tenant and period (with its reportHash)."""
    gl = next(iter(query(GL_PERIOD_SQL, [tenant_id, period])), None)
    statements = query(STATEMENTS_SQL, [tenant_id, period])
    findings = [
        row for row in query(FINDINGS_SQL, [tenant_id, period]) if row["source_type"] == "finance_reconcile"
    ]
    bound = gl is not None and gl["batch_id"] is not None
    checks = [
        {"id": "gl_batch_input_bound", "ok": bound},
        {"id": "party_statement_inputs_bound", "ok": bool(statements)},
        {"id": "reconcile_engine_ok", "ok": bound and bool(statements)},
        {"id": "reconcile_mismatch_codes_empty", "ok": not findings},
    ]
    blocking = [
        {"checkId": check["id"], "code": f"FINANCE_RECONCILE_CHECK_FAILED:{check['id'].upper()}",
         "details": {"mismatchCodes": sorted({row["mismatch_code"] for row in findings})}
         if check["id"] == "reconcile_mismatch_codes_empty" else {}}
        for check in checks if not check["ok"]
    ]  # fmt: skip
    document = {
        "schemaVersion": FINANCE_SCHEMA,
        "artifactType": FINANCE_SCHEMA,
        "tenantId": tenant_id,
        "period": period,
        "basis": gl["basis"] if bound else None,
        "inputs": {
            "glBatchArtifactId": gl["batch_id"] if bound else None,
            "glBatchArtifactHash": gl["artifact_hash"] if bound else None,
            "glBatchRecomputedHash": gl["recomputed_hash"] if bound else None,
            "glBatchLineCount": gl["line_count"] if bound else 0,
            "partyStatementArtifactIds": [row["statement_id"] for row in statements],
            "partyStatementArtifactHashes": [row["artifact_hash"] for row in statements],
        },
        "checks": checks,
        "blockingIssues": blocking,
        "findings": [_finding(row) for row in findings],
        "status": "pass" if not blocking else "fail",
    }
    return _hashed(document, "reportHash")


def escrow_snapshot(query: Query, *, tenant_id: str, period: str) -> dict[str, Any]:
    """EscrowNetCloseSnapshot.v1 of one tenant and period (with its snapshotHash)."""
    rows = query(NET_CLOSE_SQL, [tenant_id, period])
    start, end = period_bounds(period)
    codes = {code for row in rows for code in row["mismatch_codes"].split(",") if code}
    statuses = {row["status"] for row in rows}
    status = (
        "not_closable" if "not_closable" in statuses or not rows else "fail" if "fail" in statuses else "pass"
    )
    document = {
        "schemaVersion": ESCROW_SCHEMA,
        "artifactType": ESCROW_SCHEMA,
        "tenantId": tenant_id,
        "period": period,
        "basis": "settled_at",
        "window": {"startAt": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "endAt": end.strftime("%Y-%m-%dT%H:%M:%SZ")},
        "monthStatus": rows[0]["month_status"] if rows else "missing",
        "evidence": {
            "monthCloseChainHash": rows[0]["month_close_chain_hash"] if rows else None,
            "heldRollforwardArtifactIds": sorted({row["held_artifact_id"] for row in rows if row["held_artifact_id"]}),
        },
        "ledgerEscrow": {"byCurrency": {row["currency"]: {
            "openingCents": row["ledger_opening_cents"], "newLocksCents": row["ledger_new_locks_cents"],
            "releasesCents": row["ledger_releases_cents"], "forfeitsCents": row["ledger_forfeits_cents"],
            "unclassifiedPositiveCents": row["ledger_unclassified_positive_cents"],
            "unclassifiedNegativeCents": row["ledger_unclassified_negative_cents"],
            "endingCents": row["ledger_ending_cents"]} for row in rows}},
        "heldRollforward": {"byCurrency": {row["currency"]: {
            "openingCents": row["held_opening_cents"], "newHoldsCents": row["held_new_holds_cents"],
            "releasedCents": row["held_released_cents"], "forfeitedCents": row["held_forfeited_cents"],
            "endingCents": row["held_ending_cents"]} for row in rows if row["has_held_rollforward"]}},
        "invariants": {row["currency"]: {"status": row["status"], "mismatchCodes": [
            code for code in ESCROW_CODES if code in row["mismatch_codes"].split(",")]} for row in rows},
        "mismatchCodes": [code for code in ESCROW_CODES if code in codes],
        "status": status,
    }  # fmt: skip
    return _hashed(document, "snapshotHash")


def finance_documents(query: Query, *, tenant_id: str, period: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(stem, hash, document) of the period's two finance documents."""
    report = finance_report(query, tenant_id=tenant_id, period=period)
    snapshot = escrow_snapshot(query, tenant_id=tenant_id, period=period)
    return [
        (FINANCE_SCHEMA, report["reportHash"], report),
        (ESCROW_SCHEMA, snapshot["snapshotHash"], snapshot),
    ]


def finance_dir(artifacts_dir: Path, tenant_id: str, period: str) -> Path:
    return artifacts_dir / "finance" / tenant_id / period


def file_name(stem: str, content_hash: str) -> str:
    return f"{stem}-{content_hash[:16]}.json"


def write_finance_reports(
    query: Query, *, artifacts_dir: Path, periods: list[str] | None = None
) -> list[Path]:
    """Write both documents of every tenant and period the finance marts hold (of `periods` when given)."""
    written = []
    for subject in query(SUBJECTS_SQL, []):
        if periods is not None and subject["period"] not in periods:
            continue
        directory = finance_dir(artifacts_dir, subject["tenant_id"], subject["period"])
        for stem, content_hash, document in finance_documents(query, **subject):
            written.append(write_artifact(directory, stem, content_hash, document).path)
    return written
