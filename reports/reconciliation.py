"""`ReconcileReport.v1`: one artifact per tenant, period and provider, built from the reconciliation marts.

The report is canonical JSON, its `reportHash` is the sha256 of everything else in it, and its
`artifactId` and file name embed a prefix of that hash: the same inputs and as-of time give the same
bytes. Files land in `<artifacts>/reconciliation/<tenant>/<period>/<provider>-<hash16>.json`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from reports.artifacts import apply_retention, write_artifact_text
from settld.core import canonical_members, canonical_object, sha256_hex
from settld.vocabulary import MONEY_RAIL_MISMATCH_TYPES, MONEY_RAILS_SOURCE

SCHEMA_VERSION = "ReconcileReport.v1"
SOURCE_TYPE = MONEY_RAILS_SOURCE
MISMATCH_TYPES = MONEY_RAIL_MISMATCH_TYPES  # seed reconciliation_mismatch_types, in its order

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

# Row counts, digests and landing files per report and input, computed in dbt in one set-based pass.
# Each runs once per period; rows are then grouped by tenant and provider in Python.
PERIOD_SQL = {
    "inputs": "select * from marts.fct_reconciliation_report_inputs where period = ?",
    "summary": "select * from marts.fct_reconciliation_summary where period = ? order by currency",
    "tieout": "select * from marts.fct_reconciliation_tieout where period = ? order by currency",
    "mismatches": "select * from marts.fct_reconciliation_mismatches where period = ?"
    " order by severity_rank, mismatch_type, mismatch_key",
}
INPUT_NAMES = {"payout_instructions": "payoutInstructions", "money_rail_operations": "moneyRailOperations"}
EMPTY_DIGEST = sha256_hex("")  # the digest of no rows (an empty text)

FILES_SQL = """
select dataset, source_file, file_sha256 from raw.load_files where status = 'loaded'
order by dataset, source_file
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


def _input(row: dict | None, digests: dict[str, str]) -> dict:
    """One input of a report: rows, their digest (computed in dbt) and the landing files they came from."""
    if row is None:
        return {"rows": 0, "digest": EMPTY_DIGEST, "files": []}
    files = row["source_files"].split("\n")
    return {
        "rows": row["row_count"],
        "digest": row["rows_digest"],
        "files": [{"sourceFile": name, "sha256": digests.get(name)} for name in files],
    }


def _checks(summary: dict[str, dict], tieout: dict[str, dict], mismatches: list[dict]) -> list[dict]:
    counts = Counter(m["mismatchType"] for m in mismatches)
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


@cache
def _camel_name(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _camel(row: dict, drop: tuple[str, ...] = ()) -> dict:
    return _camel_rows([row], drop)[0]


def _camel_rows(rows: list[dict], drop: tuple[str, ...] = ()) -> list[dict]:
    """Rows of one query with camelCase names and ISO timestamps; names are converted once per column."""
    if not rows:
        return []
    columns = [(key, _camel_name(key)) for key in rows[0] if key not in drop]
    return [
        {name: (iso(value) if isinstance(value := row[key], datetime) else value) for key, name in columns}
        for row in rows
    ]


@dataclass
class PeriodRows:
    """The rows of one period's marts, grouped by (tenant_id, provider_id)."""

    inputs: dict[tuple[str, str], dict[str, dict]] = field(default_factory=dict)
    summary: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    tieout: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    mismatches: dict[tuple[str, str], list[dict]] = field(default_factory=dict)

    @classmethod
    def fetch(cls, query: Query, period: str) -> PeriodRows:
        rows = cls()
        for kind, sql in PERIOD_SQL.items():
            for row in query(sql, [period]):
                subject = (row["tenant_id"], row["provider_id"])
                if kind == "inputs":
                    rows.inputs.setdefault(subject, {})[row["input_name"]] = row
                else:
                    getattr(rows, kind).setdefault(subject, []).append(row)
        return rows


@dataclass(frozen=True)
class BuiltReport:
    document: dict
    text: str  # its canonical JSON: the artifact's content


def build_report(rows: PeriodRows, *, tenant_id: str, period: str, provider_id: str, as_of: datetime,
                 grace_days: int, file_digests: dict[str, str]) -> BuiltReport:  # fmt: skip
    subject = (tenant_id, provider_id)
    identity = ("tenant_id", "period", "provider_id", "as_of")
    summary = {
        row["currency"]: _camel(row, identity + ("currency",)) for row in rows.summary.get(subject, [])
    }
    tieout = {row["currency"]: _camel(row, identity + ("currency",)) for row in rows.tieout.get(subject, [])}
    mismatches = _camel_rows(rows.mismatches.get(subject, []), identity)
    inputs = rows.inputs.get(subject, {})
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
        "inputs": {key: _input(inputs.get(name), file_digests) for name, key in INPUT_NAMES.items()},
        "summary": {"byCurrency": summary},
        "tieout": {"byCurrency": tieout},
        "mismatches": mismatches,
        "checks": checks,
        "status": "pass" if all(check["ok"] for check in checks) else "fail",
    }
    members = canonical_members(core)  # encoded once, for the hash and for the file
    report_hash = sha256_hex(canonical_object(members))
    artifact_id = f"money_rail_reconcile_{tenant_id}_{period}_{provider_id}_{report_hash[:24]}"
    stamp = {"artifactId": artifact_id, "reportHash": report_hash}
    text = canonical_object({**members, **canonical_members(stamp)})
    return BuiltReport({**core, **stamp}, text)


def write_reports(query: Query, *, artifacts_dir: Path, periods: Iterable[str], as_of: datetime,
                  grace_days: int, retention: int) -> ReportRun:  # fmt: skip
    """Build, write and prune the reports of every tenant and provider for each period."""
    digests = {row["source_file"]: row["file_sha256"] for row in query(FILES_SQL, [])}
    subjects = query(SUBJECTS_SQL, [])
    run = ReportRun()
    for period in sorted(set(periods)):
        rows = PeriodRows.fetch(query, period)
        for subject in subjects:
            tenant_id, provider_id = subject["tenant_id"], subject["provider_id"]
            built = build_report(rows, tenant_id=tenant_id, period=period, provider_id=provider_id,
                                 as_of=as_of, grace_days=grace_days, file_digests=digests)  # fmt: skip
            report = built.document
            directory = artifacts_dir / "reconciliation" / tenant_id / period
            written = write_artifact_text(directory, provider_id, report["reportHash"], built.text)
            (run.written if written.created else run.unchanged).append(written.path)
            run.removed += apply_retention(directory, provider_id, retention, order_key="asOf")
            run.reports.append(report)
    return run
