"""The period gate and the close, as period-partitioned assets.

`gates/period_verdicts`: the daily run evaluates each tenant's gate for the periods it reconciles
(quality/gate.py), writes `PeriodGateVerdict.v1` under artifacts/gates/, and records the verdicts in the
operator API's database, where the close reads them (`settld gate` does the same for one period on demand,
with Data Docs). Each period's partition shows that period's verdicts only.

`gates/period_closes`: which tenant periods are closed (the close itself is an operator's act, through
the API or `settld period close`), with a check that every closed period's evidence bundle is there and
verifies.
"""

import dagster as dg

from orchestration.partitions import period_partitions
from orchestration.resources import (
    ArtifactsResource,
    LandingZoneResource,
    OperatorApiResource,
    WarehouseResource,
)
from orchestration.stages import Stage, stage_tags
from quality.gate import evaluate, gate_tenants, write_verdict
from quality.raw_suites import passes
from quality.raw_suites.batched import raw_suites_by_tenant
from reports.evidence import verify_bundle

VERDICTS_KEY = dg.AssetKey(["gates", "period_verdicts"])
CLOSES_KEY = dg.AssetKey(["gates", "period_closes"])
READY_CHECK = "every_tenant_ready_to_close"
EVIDENCE_CHECK = "closed_periods_have_verified_evidence"


def verdicts_markdown(verdicts: list[dict]) -> str:
    lines = ["| tenant | verdict | failing (blocking) | warnings |", "|---|---|---|---|"]
    for verdict in verdicts:
        state = "ready to close" if verdict["verdict"]["ok"] else "**RED**"
        failing = "<br>".join(verdict["verdict"]["failingCheckIds"]) or "-"
        warnings = "<br>".join(verdict["verdict"]["warningCheckIds"]) or "-"
        lines.append(f"| {verdict['tenantId']} | {state} | {failing} | {warnings} |")
    return "\n".join(lines) if verdicts else "No tenants."


@dg.asset(
    key=VERDICTS_KEY,
    group_name="gate",
    deps=[
        dg.AssetKey(["reports", "reconciliation_reports"]),
        dg.AssetKey(["reports", "invoice_drafts"]),
        dg.AssetKey(["operator_api", "reconciliation_mismatches"]),
    ],
    partitions_def=period_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    tags=stage_tags(Stage.gate),
    kinds={"json"},
    check_specs=[
        dg.AssetCheckSpec(
            READY_CHECK,
            asset=VERDICTS_KEY,
            description="Every tenant's gate is green for the periods of the run (warns: not an error).",
        )
    ],
    description=(
        "PeriodGateVerdict.v1 per tenant and period under artifacts/gates/: great-expectations suites, dbt "
        "tests, landing deliveries, tie-out, serious mismatches handled, reports and invoice drafts present. "
        "Recorded in the operator API, so a green verdict lets the period close."
    ),
)
def period_gate_verdicts(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    artifacts: ArtifactsResource,
    operator_api: OperatorApiResource,
    landing: LandingZoneResource,
):
    from api.periods.verdicts import record_verdicts, triage_reader

    triage = triage_reader(operator_api.database_url)
    verdicts = []
    with warehouse.connect(read_only=True) as db:
        tenants = gate_tenants(db)
        # The rows of files whose suite passed in an earlier run are counted, not validated again: the
        # verdict says so, and a close asks for `settld gate`'s full validation (raw_suites/passes.py).
        reuse = passes.has_table(db)
        for period in context.partition_keys:
            # One great-expectations validation of the period for every tenant (the same outcomes as one
            # per tenant, quality/raw_suites/batched.py): GX costs about a second per validation.
            suites = raw_suites_by_tenant(db, period=period, tenant_ids=tenants, reuse_passes=reuse)
            verdicts += [
                evaluate(
                    db,
                    tenant_id=tenant,
                    period=period,
                    artifacts_dir=artifacts.directory,
                    triage=triage,
                    max_quarantine_rate=landing.max_quarantine_rate,
                    raw_suites=suites.get(tenant),
                    raw_suites_reused=reuse and tenant in suites,
                )
                for tenant in tenants
            ]
    for verdict in verdicts:
        write_verdict(artifacts.directory, verdict)
    record_verdicts(operator_api.database_url, verdicts)
    for period in context.partition_keys:
        own = [verdict for verdict in verdicts if verdict["period"] == period]
        context.add_asset_metadata(
            {"tenants": len(own), "ready_to_close": sum(v["verdict"]["ok"] for v in own),
             "verdicts": dg.MetadataValue.md(verdicts_markdown(own))},
            partition_key=period,
        )  # fmt: skip
    red = sorted(f"{v['tenantId']} {v['period']}" for v in verdicts if not v["verdict"]["ok"])
    context.log.info(f"{len(verdicts) - len(red)} of {len(verdicts)} tenant periods are ready to close")
    yield dg.MaterializeResult(metadata={"tenant_periods": len(verdicts)})
    yield dg.AssetCheckResult(
        check_name=READY_CHECK,
        passed=not red,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"not_ready": ", ".join(red) or "-", "tenant_periods": len(verdicts)},
    )


def closes_markdown(closes: list[dict], problems: dict[tuple[str, str], str]) -> str:
    lines = ["| tenant | status | revision | closed at | evidence bundle |", "|---|---|---|---|---|"]
    for close in closes:
        evidence = problems.get((close["tenant_id"], close["period"]), "verified")
        lines.append(
            f"| {close['tenant_id']} | {close['status']} | {close['revision']} | "
            f"{close['closed_at'].strftime('%Y-%m-%dT%H:%M:%SZ')} | `{close['bundle_file']}`: {evidence} |"
        )
    return "\n".join(lines) if closes else "No tenant has closed this period."


@dg.asset(
    key=CLOSES_KEY,
    group_name="gate",
    deps=[VERDICTS_KEY],
    partitions_def=period_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    tags=stage_tags(Stage.gate),
    kinds={"sqlalchemy"},
    check_specs=[
        dg.AssetCheckSpec(
            EVIDENCE_CHECK,
            asset=CLOSES_KEY,
            description="Every closed tenant period's evidence bundle exists and verifies byte for byte.",
        )
    ],
    description=(
        "Which tenant periods are closed (or reopened) in the operator API, with their evidence bundles. "
        "Closing is an operator's act: `settld period close` or POST /ops/finance/periods/{period}/close."
    ),
)
def period_closes(
    context: dg.AssetExecutionContext, artifacts: ArtifactsResource, operator_api: OperatorApiResource
):
    from api.periods.verdicts import period_closes as read_closes

    closes = read_closes(operator_api.database_url, periods=list(context.partition_keys))
    problems: dict[tuple[str, str], str] = {}
    for close in closes:
        if close["status"] != "closed":
            continue
        verification = verify_bundle(artifacts.directory / close["bundle_file"])
        if not verification.ok:
            problems[(close["tenant_id"], close["period"])] = "; ".join(verification.problems)[:300]
    for period in context.partition_keys:
        own = [close for close in closes if close["period"] == period]
        context.add_asset_metadata(
            {"closed": sum(c["status"] == "closed" for c in own),
             "closes": dg.MetadataValue.md(closes_markdown(own, problems))},
            partition_key=period,
        )  # fmt: skip
    yield dg.MaterializeResult(
        metadata={"closed_tenant_periods": sum(c["status"] == "closed" for c in closes)}
    )
    yield dg.AssetCheckResult(
        check_name=EVIDENCE_CHECK,
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"failing": ", ".join(f"{t} {p}: {why}" for (t, p), why in sorted(problems.items())) or "-"},
    )
