"""`ReconcileReport.v1`: one artifact per tenant, period and provider, built from the reconciliation marts.

The report is canonical JSON, its `reportHash` is the sha256 of everything else in it, and its
`artifactId` and file name embed a prefix of that hash: the same inputs and as-of time give the same
bytes. Files land in `<artifacts>/reconciliation/<tenant>/<period>/<provider>-<hash16>.json`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from settld.core import canonical_hash, sha256_hex
from settld.reports.artifacts import apply_retention, write_artifact

SCHEMA_VERSION = "ReconcileReport.v1"
SOURCE_TYPE = "money_rails_reconcile"
MISMATCH_TYPES = (
    "missing_operation", "terminal_failure", "duplicate_operation", "amount_mismatch",
    "currency_mismatch", "unexpected_operation", "duplicate_expected", "stale_in_flight",
)  # fmt: skip

Query = Callable[[str, list], list[dict[str, Any]]]

SUBJECTS_SQL = """
-- Every tenant with every provider it has used, for each requested period: a tenant gets its report
-- even for a period in which nothing was expected yet.
with providers_used as (
    select distinct tenant_id, provider_id from staging.stg_settlement_kernel__payout_instructions
    union
    select distinct tenant_id, provider_id from staging.stg_money_rails__operations where direction = 'payout'
)
select tenant_id, provider_id from providers_used order by tenant_id, provider_id
"""

INSTRUCTIONS_SQL = """
select payout_key, instruction_seq, party_id, amount_cents, currency, created_at, _source_file
from staging.stg_settlement_kernel__payout_instructions
where tenant_id = ? and period = ? and provider_id = ?
order by payout_key, instruction_seq
"""

# Operations attributed to the report the way the tie-out attributes them: by the period and provider of
# the instruction their key names, else by their own provider and the month of their first timestamp.
OPERATIONS_SQL = """
with expected as (
    select tenant_id, payout_key, period, provider_id
    from staging.stg_settlement_kernel__payout_instructions where instruction_seq = 1
)
select o.provider_id, o.operation_id, o.payout_key, o.direction, o.state, o.amount_cents, o.currency,
       o.updated_at, o._source_file
from staging.stg_money_rails__operations o
left join expected e on o.tenant_id = e.tenant_id and o.payout_key = e.payout_key
where o.tenant_id = ? and o.direction = 'payout'
  and ((e.payout_key is not null and e.period = ? and e.provider_id = ?)
       or (e.payout_key is null and o.first_event_period = ? and o.provider_id = ?))
order by o.provider_id, o.operation_id
"""

FILES_SQL = """
select dataset, source_file, file_sha256 from raw.load_files order by dataset, source_file
"""


def triage_key(*, source_type: str, tenant_id: str, period: str, provider_id: str | None,
               mismatch_type: str, mismatch_key: str) -> str:  # fmt: skip
    """The mismatch's stable id; the dbt macro `triage_key` computes the same value in SQL."""
    identity = "\n".join([source_type, tenant_id, period, provider_id or "none", mismatch_type, mismatch_key])
    return f"frt_{period.replace('-', '')}_{sha256_hex(identity)[:24]}"


@dataclass
class ReportRun:
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    reports: list[dict] = field(default_factory=list)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".") + "Z"


def _rows_digest(rows: list[dict]) -> str:
    return canonical_hash(
        [{k: iso(v) if isinstance(v, datetime) else v for k, v in row.items()} for row in rows]
    )


def _input_files(rows: Iterable[dict], digests: dict[str, str]) -> list[dict]:
    files = sorted({row["_source_file"] for row in rows})
    return [{"sourceFile": name, "sha256": digests.get(name)} for name in files]


def _checks(summary: dict[str, dict], tieout: dict[str, dict], mismatches: list[dict]) -> list[dict]:
    counts = {t: sum(1 for m in mismatches if m["mismatchType"] == t) for t in MISMATCH_TYPES}
    checks = [
        {"id": f"{t}_empty", "ok": counts[t] == 0, "details": {"count": counts[t]}} for t in MISMATCH_TYPES
    ]
    drift = {currency: row["driftCents"] for currency, row in tieout.items()}
    checks.append(
        {
            "id": "balance_tied_out",
            "ok": all(v == 0 for v in drift.values()),
            "details": {"driftCents": drift},
        }
    )
    matched = {c: row["matchedCount"] <= row["expectedPayoutCount"] for c, row in summary.items()}
    checks.append({"id": "matched_count_consistent", "ok": all(matched.values()), "details": {}})
    return sorted(checks, key=lambda check: check["id"])


def _camel(row: dict, drop: tuple[str, ...] = ()) -> dict:
    def convert(name: str) -> str:
        head, *rest = name.split("_")
        return head + "".join(part.title() for part in rest)

    return {convert(k): (iso(v) if isinstance(v, datetime) else v) for k, v in row.items() if k not in drop}


def build_report(query: Query, *, tenant_id: str, period: str, provider_id: str, as_of: datetime,
                 grace_days: int, file_digests: dict[str, str]) -> dict:  # fmt: skip
    key = [tenant_id, period, provider_id]
    instructions = query(INSTRUCTIONS_SQL, key)
    operations = query(OPERATIONS_SQL, [tenant_id, period, provider_id, period, provider_id])
    summary_rows = query(
        "select * from marts.fct_reconciliation_summary where tenant_id = ? and period = ? and provider_id = ?"
        " order by currency", key,
    )  # fmt: skip
    tieout_rows = query(
        "select * from marts.fct_reconciliation_tieout where tenant_id = ? and period = ? and provider_id = ?"
        " order by currency", key,
    )  # fmt: skip
    mismatch_rows = query(
        "select * from marts.fct_reconciliation_mismatches where tenant_id = ? and period = ? and provider_id = ?"
        " order by severity_rank, mismatch_type, mismatch_key", key,
    )  # fmt: skip
    identity = ("tenant_id", "period", "provider_id", "as_of")
    summary = {row["currency"]: _camel(row, identity + ("currency",)) for row in summary_rows}
    tieout = {row["currency"]: _camel(row, identity + ("currency",)) for row in tieout_rows}
    mismatches = [_camel(row, identity) for row in mismatch_rows]
    checks = _checks(summary, tieout, mismatches)
    core = {
        "schemaVersion": SCHEMA_VERSION,
        "artifactType": SCHEMA_VERSION,
        "sourceType": SOURCE_TYPE,
        "tenantId": tenant_id,
        "period": period,
        "providerId": provider_id,
        "asOf": iso(as_of),
        "parameters": {"graceDays": grace_days},
        "inputs": {
            "payoutInstructions": {
                "rows": len(instructions),
                "digest": _rows_digest(
                    [{k: v for k, v in r.items() if k != "_source_file"} for r in instructions]
                ),
                "files": _input_files(instructions, file_digests),
            },
            "moneyRailOperations": {
                "rows": len(operations),
                "digest": _rows_digest(
                    [{k: v for k, v in r.items() if k != "_source_file"} for r in operations]
                ),
                "files": _input_files(operations, file_digests),
            },
        },
        "summary": {"byCurrency": summary},
        "tieout": {"byCurrency": tieout},
        "mismatches": mismatches,
        "checks": checks,
        "status": "pass" if all(check["ok"] for check in checks) else "fail",
    }
    report_hash = canonical_hash(core)
    artifact_id = f"money_rail_reconcile_{tenant_id}_{period}_{provider_id}_{report_hash[:24]}"
    return {**core, "artifactId": artifact_id, "reportHash": report_hash}


def write_reports(query: Query, *, artifacts_dir: Path, periods: Iterable[str], as_of: datetime,
                  grace_days: int, retention: int) -> ReportRun:  # fmt: skip
    """Build, write and prune the reports of every tenant and provider for each period."""
    digests = {row["source_file"]: row["file_sha256"] for row in query(FILES_SQL, [])}
    subjects = query(SUBJECTS_SQL, [])
    run = ReportRun()
    for period in sorted(set(periods)):
        for subject in subjects:
            tenant_id, provider_id = subject["tenant_id"], subject["provider_id"]
            report = build_report(query, tenant_id=tenant_id, period=period, provider_id=provider_id,
                                  as_of=as_of, grace_days=grace_days, file_digests=digests)  # fmt: skip
            directory = artifacts_dir / "reconciliation" / tenant_id / period
            written = write_artifact(directory, provider_id, report["reportHash"], report)
            (run.written if written.created else run.unchanged).append(written.path)
            run.removed += apply_retention(directory, provider_id, retention, order_key="asOf")
            run.reports.append(report)
    return run
