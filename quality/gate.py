"""The period gate: may a tenant's period (a UTC month) close? `PeriodGateVerdict.v1`, one per tenant.

Every check that bears on the period is evaluated, each as {id, ok, blocking, details}; the verdict is ok
when every blocking check is. The gate fails closed: a check that cannot run (missing table, unreadable
API database, an exception) is a failed blocking check whose details say why. The rules are written
down in docs/DECISIONLOG.md ("Period gate"); the runbook is docs/runbooks/period-close.md.

The verdict's `asOf` is the as-of of the warehouse build it judged (the latest dbt build's): the instant a
close of this verdict takes, unless the operator gives another (api/periods/service.py `close_instant`).

Checks:
- `ge.<dataset>.<rule>`: great-expectations suites on the period's raw rows of the tenant
  (quality/raw_suites/); blocking as each expectation says.
- `dbt.tests_passed` and one `dbt.<test name>` per failing dbt test: the latest build's outcomes
  (quality/dbt_results.py). A dbt test is not scoped to a tenant or period, so a failing one blocks all.
- `landing.delivered_after_period_end`: every landing dataset has a file loaded after the period ended,
  so the exports covering its last days are in (quality/freshness.py).
- `landing.files_within_quarantine_threshold` (blocking) and `landing.no_quarantined_rows` (warning):
  landing files whose rows broke their contract, by file, with counts and reasons; `landing.no_rejected_files`
  (blocking): files the loader rejected, with their reason (quality/quarantine.py).
- `reconciliation.tieout_explained`: per provider and currency, confirmed - expected drift within the
  tolerance, or explained by at least one mismatch of that provider and currency (which the next check
  then requires to be handled when it is serious).
- `reconciliation.serious_mismatches_handled`: no critical or high mismatch (after an operator's severity
  override) whose triage is not resolved or dismissed. Triage is read live from the operator API's
  database when one is configured, else from the queue mart as of the last build.
- `reconciliation.reports_present`: the period's ReconcileReport.v1 exists for every provider.
- `finance.gl_ties_out_with_statements` and `finance.escrow_net_close_passes`: the kernel's books
  (quality/gate_finance.py).
- `billing.invoice_drafts_present`: the BillingInvoiceDraft.v1 of every currency the billing marts hold for
  the tenant and period is on disk, as the marts compute it now (or the period's invoice is finalized).
- `policies.settlement_hashes_registered` (quality/gate_policies.py): every settlement locked or resolved in
  the period references a registered policy version with its hash; the offending ones listed by id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from quality.dbt_results import FAILING_STATUSES, build_as_of, read_test_results
from quality.freshness import period_freshness_details
from quality.gate_check import Check
from quality.gate_finance import GL_CHECK, finance_checks, finance_report_inputs
from quality.gate_inputs import invoice_drafts, latest_reports
from quality.gate_policies import CHECK_ID as POLICY_CHECK
from quality.gate_policies import unbacked_settlements as unbacked
from quality.gate_suites import great_expectations_checks
from quality.quarantine import quarantined_files, rejected_files
from reports.artifacts import write_once
from settld.core import canonical_hash, canonical_json, iso_micro, parse_period
from settld.vocabulary import (
    GATED_BY_RECONCILIATION_CHECK,
    GE_REUSED_PASSES,
    HANDLED_STATUSES,
    SERIOUS_SEVERITIES,
)
from settld.warehouse import Warehouse

SCHEMA_VERSION = "PeriodGateVerdict.v1"
DETAIL_EXAMPLES = 20  # keys listed in a check's details (the count is always complete)


TriageReader = Callable[[str, str], dict[str, dict[str, Any]]]  # (tenant, period) -> triage_key -> record


def _guarded(check_id: str, evaluate: Callable[[], list[Check]]) -> list[Check]:
    """Run a group of checks; if it cannot run, it is one failed blocking check (fail closed)."""
    try:
        return evaluate()
    except Exception as error:  # noqa: BLE001 - any failure to evaluate must turn the gate red
        return [Check(check_id, False, True, {"error": f"{type(error).__name__}: {error}"[:500]})]


def dbt_checks(db: Warehouse) -> list[Check]:
    results = read_test_results(db)
    if not results:
        return [
            Check("dbt.tests_passed", False, True, {"error": "no dbt test results recorded (run dbt build)"})
        ]
    failing = [row for row in results if row["status"] in FAILING_STATUSES]
    checks = [
        Check(
            "dbt.tests_passed",
            not failing,
            True,
            {
                "tests": len(results),
                "failing": len(failing),
                "asOf": iso_micro(max(row["as_of"] for row in results)),
            },
        )
    ]
    for row in failing:
        checks.append(
            Check(
                f"dbt.{row['test_name']}",
                False,
                row["severity"] != "warn",
                {
                    "status": row["status"],
                    "failures": row["failures"],
                    "attachedNode": row["attached_node"],
                    "message": row["message"],
                },
            )  # fmt: skip
        )
    return checks


def tieout_check(db: Warehouse, *, tenant_id: str, period: str, tolerance_cents: int) -> list[Check]:
    rows = db.query(
        "select provider_id, currency, expected_total_cents, confirmed_total_cents, drift_cents "
        "from marts.fct_reconciliation_tieout where tenant_id = ? and period = ? order by provider_id, currency",
        [tenant_id, period],
    )
    # A mismatch explains drift in its expected currency and, for a currency mismatch, in the currency
    # the money actually moved in.
    explained = set()
    for row in db.query(
        "select distinct provider_id, currency, actual_currency from marts.fct_reconciliation_mismatches "
        "where tenant_id = ? and period = ?",
        [tenant_id, period],
    ):
        explained.add((row["provider_id"], row["currency"]))
        explained.add((row["provider_id"], row["actual_currency"] or row["currency"]))
    unexplained = [
        {"providerId": row["provider_id"], "currency": row["currency"], "driftCents": row["drift_cents"]}
        for row in rows
        if abs(row["drift_cents"]) > tolerance_cents
        and (row["provider_id"], row["currency"]) not in explained
    ]
    drifting = sum(abs(row["drift_cents"]) > tolerance_cents for row in rows)
    details = {"toleranceCents": tolerance_cents, "drifting": drifting, "unexplained": unexplained}
    return [Check("reconciliation.tieout_explained", not unexplained, True, details)]


def mismatch_check(db: Warehouse, *, tenant_id: str, period: str, triage: TriageReader | None) -> list[Check]:
    union = " union all ".join(
        f"select triage_key, severity, mismatch_type from marts.{mart} where tenant_id = ? and period = ?"
        for mart in GATED_BY_RECONCILIATION_CHECK
    )
    params = [tenant_id, period] * len(GATED_BY_RECONCILIATION_CHECK)
    mismatches = db.query(f"{union} order by triage_key", params)
    if triage is not None:
        records, source = triage(tenant_id, period), "operator_api"
    else:
        records = {
            row["triage_key"]: {"status": row["triage_status"], "severity": None}
            for row in db.query(
                "select triage_key, triage_status from marts.fct_reconciliation_mismatch_queue "
                "where tenant_id = ? and period = ? and has_triage",
                [tenant_id, period],
            )
        }
        source = "warehouse_queue_mart"
    unhandled = []
    for row in mismatches:
        record = records.get(row["triage_key"]) or {}
        severity = record.get("severity") or row["severity"]
        if severity in SERIOUS_SEVERITIES and record.get("status") not in HANDLED_STATUSES:
            unhandled.append(row["triage_key"])
    details = {
        "triageSource": source,
        "mismatches": len(mismatches),
        "unhandledSerious": len(unhandled),
        "examples": unhandled[:DETAIL_EXAMPLES],
    }
    return [Check("reconciliation.serious_mismatches_handled", not unhandled, True, details)]


def reports_check(db: Warehouse, artifacts_dir: Path, *, tenant_id: str, period: str) -> list[Check]:
    expected = {
        row["provider_id"]
        for row in db.query(
            "select distinct provider_id from marts.fct_reconciliation_report_inputs "
            "where tenant_id = ? and period = ?",
            [tenant_id, period],
        )
    }
    present = {entry["report"]["providerId"] for entry in latest_reports(artifacts_dir, tenant_id=tenant_id,
                                                                          period=period)}  # fmt: skip
    missing = sorted(expected - present)
    return [Check("reconciliation.reports_present", not missing, True, {"providers": sorted(expected),
                                                                          "missing": missing})]  # fmt: skip


def invoice_drafts_check(entries: list[dict[str, Any]]) -> list[Check]:
    """`entries`: invoice_drafts' (read once, also named in the verdict's inputs)."""
    missing = [e["file"] for e in entries if not e["present"] and e["finalizedInvoiceHash"] is None]
    return [Check("billing.invoice_drafts_present", not missing, True,
                  {"currencies": [e["currency"] for e in entries], "missing": missing})]  # fmt: skip


def input_files(db: Warehouse, *, tenant_id: str, period: str) -> list[dict[str, str]]:
    """Landing files the period's reconciliation inputs came from, with their sha256."""
    names: set[str] = set()
    for row in db.query(
        "select source_files from marts.fct_reconciliation_report_inputs where tenant_id = ? and period = ?",
        [tenant_id, period],
    ):
        names.update(row["source_files"].split("\n"))
    digests = {
        row["source_file"]: (row["dataset"], row["file_sha256"])
        for row in db.query(
            "select dataset, source_file, file_sha256 from raw.load_files where status = 'loaded'"
        )
    }
    return [
        {
            "sourceFile": name,
            "dataset": digests.get(name, (None, None))[0],
            "sha256": digests.get(name, (None, None))[1],
        }
        for name in sorted(names)
    ]


def quarantine_checks(db: Warehouse, max_quarantine_rate: Mapping[str, float] | None = None) -> list[Check]:
    sick, warned = quarantined_files(db, max_quarantine_rate)
    rejected = rejected_files(db)
    return [
        Check("landing.files_within_quarantine_threshold", not sick, True, {"files": sick}),
        Check("landing.no_quarantined_rows", not warned, False, {"files": warned}),
        Check("landing.no_rejected_files", not rejected, True, {"files": rejected}),
    ]


def freshness_check(db: Warehouse, *, period: str) -> list[Check]:
    ok, details = period_freshness_details(db, period=period)
    return [Check("landing.delivered_after_period_end", ok, True, details)]


def evaluate(
    db: Warehouse,
    *,
    tenant_id: str,
    period: str,
    artifacts_dir: Path,
    triage: TriageReader | None = None,
    tolerance_cents: int = 0,
    data_docs: bool = False,
    max_quarantine_rate: Mapping[str, float] | None = None,
    raw_suites: Mapping[str, Any] | None = None,
    raw_suites_reused: bool = False,
) -> dict[str, Any]:
    """The PeriodGateVerdict.v1 of one tenant and period (canonical JSON content, with its hash).

    `raw_suites`: the tenant's great-expectations outcomes from one validation of the period for every
    tenant (`quality.raw_suites.batched`, the same outcomes); else validated here for the tenant alone.
    `raw_suites_reused`: those outcomes counted the rows of files that passed their suite in an earlier
    run instead of validating them (the daily run's gate): the verdict says so in `geValidation`, and a
    close refuses it (`gate.not_validated_in_full`).

    With `data_docs`, great-expectations' HTML Data Docs of the validation are written to
    `<artifacts>/quality/data_docs/<tenant>/<period>/index.html` for analysts. `max_quarantine_rate`:
    the settings' per-dataset overrides of the contracts' thresholds.
    """
    parse_period(period)
    docs_dir = artifacts_dir / "quality" / "data_docs" / tenant_id / period if data_docs else None
    checks: list[Check] = []
    checks += _guarded(
        "ge.suites_ran",
        lambda: great_expectations_checks(
            db, tenant_id=tenant_id, period=period, data_docs_dir=docs_dir, suites=raw_suites
        ),
    )
    checks += _guarded("dbt.tests_passed", lambda: dbt_checks(db))
    checks += _guarded("landing.delivered_after_period_end", lambda: freshness_check(db, period=period))
    checks += _guarded(
        "landing.files_within_quarantine_threshold", lambda: quarantine_checks(db, max_quarantine_rate)
    )
    checks += _guarded(
        "reconciliation.tieout_explained",
        lambda: tieout_check(db, tenant_id=tenant_id, period=period, tolerance_cents=tolerance_cents),
    )
    checks += _guarded(
        "reconciliation.serious_mismatches_handled",
        lambda: mismatch_check(db, tenant_id=tenant_id, period=period, triage=triage),
    )
    checks += _guarded(
        "reconciliation.reports_present",
        lambda: reports_check(db, artifacts_dir, tenant_id=tenant_id, period=period),
    )
    checks += _guarded(
        GL_CHECK, lambda: finance_checks(db, tenant_id=tenant_id, period=period, triage=triage)
    )
    drafts: list[dict[str, Any]] = []  # filled by the check; stays empty when it cannot run

    def drafts_check() -> list[Check]:
        drafts.extend(invoice_drafts(db, artifacts_dir, tenant_id=tenant_id, period=period))
        return invoice_drafts_check(drafts)

    checks += _guarded("billing.invoice_drafts_present", drafts_check)

    def policy_check() -> list[Check]:  # blocking: a settlement no registered version backs
        ok, details = unbacked(db, tenant_id=tenant_id, period=period)
        return [Check(POLICY_CHECK, ok, True, details)]

    checks += _guarded(POLICY_CHECK, policy_check)
    checks.sort(key=lambda check: check.id)
    reports = _guarded_value(lambda: latest_reports(artifacts_dir, tenant_id=tenant_id, period=period), [])
    core = {
        "schemaVersion": SCHEMA_VERSION,
        "artifactType": SCHEMA_VERSION,
        "tenantId": tenant_id,
        "period": period,
        # The as-of of the build judged: the instant a close of this verdict takes (docs/DECISIONLOG.md).
        "asOf": iso_micro(_guarded_value(lambda: build_as_of(db), None)),
        "checks": [check.as_dict() for check in checks],
        # Only when earlier suite passes were reused; a verdict without it validated every row.
        **({"geValidation": GE_REUSED_PASSES} if raw_suites_reused else {}),
        "verdict": {
            "ok": all(check.ok for check in checks if check.blocking),
            "failingCheckIds": [check.id for check in checks if check.blocking and not check.ok],
            "warningCheckIds": [check.id for check in checks if not check.blocking and not check.ok],
        },
        "inputs": {
            "landingFiles": _guarded_value(lambda: input_files(db, tenant_id=tenant_id, period=period), []),
            "reconciliationReports": [
                {
                    "file": entry["path"].name,
                    "providerId": entry["report"]["providerId"],
                    "reportHash": entry["report"]["reportHash"],
                    "asOf": entry["report"]["asOf"],
                }
                for entry in reports
            ],  # fmt: skip
            "invoiceDrafts": [
                {key: entry[key] for key in ("file", "currency", "draftHash", "subtotalCents")}
                for entry in drafts
                if entry["present"]
            ],
            "financeReports": _guarded_value(
                lambda: finance_report_inputs(db, artifacts_dir, tenant_id=tenant_id, period=period), []
            ),
        },
    }
    return {**core, "verdictHash": canonical_hash(core)}


def _guarded_value(produce: Callable[[], Any], fallback: Any) -> Any:
    try:
        return produce()
    except Exception:  # noqa: BLE001 - a missing input is reported by the checks themselves
        return fallback


def gate_tenants(db: Warehouse) -> list[str]:
    """Every tenant the warehouse knows (each gets a verdict, even with nothing in the period)."""
    return [
        row["tenant_id"] for row in db.query("select tenant_id from marts.dim_tenants order by tenant_id")
    ]


def write_verdict(artifacts_dir: Path, verdict: dict[str, Any]) -> Path:
    """`<artifacts>/gates/<tenant>/<period>.json`: the latest verdict, canonical JSON."""
    path = artifacts_dir / "gates" / verdict["tenantId"] / f"{verdict['period']}.json"
    write_once(path, (canonical_json(verdict) + "\n").encode("utf-8"))
    return path
