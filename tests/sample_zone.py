"""Reading a generated landing zone back as a reviewer would: files, manifest, rows, and an independent
reconciliation of what was injected (shared by the sample-data tests)."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from ingestion.contracts import DATASETS
from settld.core import next_period, period_bounds

KERNEL_RAIL = ("settlements", "payout_instructions", "money_rail_operations")
PERIODS = ("2026-08", "2026-09", "2026-10")
TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
LIVE = ("initiated", "submitted", "confirmed")
COMMON_REASONS = "invalid_integer invalid_enum missing_required invalid_timestamp invalid_currency".split()  # noqa: SIM905
JSONL_REASONS = {*COMMON_REASONS, "invalid_json"}
CSV_REASONS = {*COMMON_REASONS, "invalid_period", "malformed_row"}
EVENT_KEYS = "id object api_version created data livemode pending_webhooks request type".split()  # noqa: SIM905
SEEDS = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"
INVOICE_MISMATCH = "invoice_total_mismatch"


# ------------------------------------------------------------------------------------------- helpers
def digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def bad_rows(manifest: dict, rel: str) -> set[int]:
    return {r["row"] for r in manifest["malformed"]["rows"] if r["file"] == rel}


def raw_records(root: Path, entry: dict, skip: set[int]) -> list[dict]:
    """Data rows of one file as dicts (CSV: strings, "" -> None), skipping the given 1-based rows."""
    path = root / entry["path"]
    if entry["format"] == "parquet":
        return pl.read_parquet(path).to_dicts()
    if entry["format"] == "jsonl":
        lines = path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for i, line in enumerate(lines, 1) if i not in skip]
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return [
            {k: (v if v != "" else None) for k, v in zip(header, rec, strict=True)}
            for i, rec in enumerate(reader, 1)
            if i not in skip
        ]


def check_value(column, value, fmt: str) -> None:
    where = f"{column.name}={value!r}"
    if value is None or value == "":
        assert not column.required, f"required {where}"
        assert value is None, f"empty string instead of null: {where}"
        return
    if column.kind == "integer":
        if fmt == "csv":
            assert re.fullmatch(r"-?\d+", value), where
            value = int(value)
        assert isinstance(value, int) and not isinstance(value, bool), where
        assert column.min_value is None or value >= column.min_value, where
    elif column.kind == "timestamp":
        assert TS.match(value), where
        try:
            datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
        except ValueError as error:
            raise AssertionError(where) from error
    elif column.kind == "currency":
        assert re.fullmatch(r"[A-Z]{3}", value), where
    elif column.kind == "period":
        assert re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value), where
    elif column.kind == "enum":
        assert value in column.values, where
    else:
        assert isinstance(value, str), where


def load(root: Path, manifest: dict, dataset: str, validate: bool = True) -> pl.DataFrame:
    """Every good row of a dataset, typed (int64 / string), after checking it against the contract."""
    contract = DATASETS[dataset]
    rows: list[dict] = []
    for entry in manifest["datasets"][dataset]["files"]:
        path = root / entry["path"]
        if entry["format"] == "parquet":
            frame = pl.read_parquet(path)
            assert tuple(frame.columns) == contract.column_names
            for c in contract.columns:
                assert frame.schema[c.name] == (pl.Int64 if c.kind == "integer" else pl.String), c.name
        elif entry["format"] == "csv":
            header = path.read_text(encoding="utf-8").split("\n", 1)[0]
            assert tuple(header.split(",")) == contract.column_names
        records = raw_records(root, entry, bad_rows(manifest, entry["path"]))
        for record in records:
            assert tuple(record) == contract.column_names, entry["path"]
            if validate:
                for column in contract.columns:
                    check_value(column, record[column.name], entry["format"])
        rows.extend(records)
    schema = {c.name: pl.Int64 if c.kind == "integer" else pl.String for c in contract.columns}
    return pl.DataFrame(rows, schema=schema, orient="row", strict=False)


def injected(root: Path) -> pl.DataFrame:
    return pl.read_csv(root / "injected.csv", infer_schema=False)


def reconcile(instructions: pl.DataFrame, operations: pl.DataFrame, last_period: str) -> set[tuple]:
    """A reference reconciliation (docs/architecture.md section 5) to prove the injected truth is exactly right."""
    by_key: dict[tuple, list[dict]] = defaultdict(list)
    for row in instructions.to_dicts():
        by_key[(row["tenant_id"], row["payout_key"])].append(row)
    ops_by_key: dict[tuple, list[dict]] = defaultdict(list)
    for op in operations.filter(pl.col("direction") == "payout").to_dicts():
        ops_by_key[(op["tenant_id"], op["payout_key"])].append(op)
    found = set()
    for (tenant, key), rows in by_key.items():
        first = rows[0]
        ident = (tenant, first["period"], first["provider_id"])
        if len(rows) > 1:
            found.add((*ident, "duplicate_expected", key))
        ops = ops_by_key.get((tenant, key), [])
        live = [o for o in ops if o["state"] in LIVE]
        if sum(o["state"] == "confirmed" for o in ops) >= 2:
            found.add((*ident, "duplicate_operation", key))
        elif not live:
            failed = any(o["state"] in ("failed", "reversed") for o in ops)
            found.add((*ident, "terminal_failure" if failed else "missing_operation", key))
        else:
            assert len(live) == 1, key
            op = live[0]
            if op["state"] != "confirmed":
                if first["period"] != last_period:
                    found.add((*ident, "stale_in_flight", key))
            elif op["amount_cents"] != first["amount_cents"]:
                found.add((*ident, "amount_mismatch", key))
            elif op["currency"] != first["currency"]:
                found.add((*ident, "currency_mismatch", key))
    for (tenant, key), ops in ops_by_key.items():
        if key is None or (tenant, key) not in by_key:
            for op in ops:
                mismatch_key = key or op["operation_id"]
                found.add(
                    (tenant, op["initiated_at"][:7], op["provider_id"], "unexpected_operation", mismatch_key)
                )
    return found


# ------------------------------------------------------------------------------------- billing truth
def month_of(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m")


def stripe_events(root: Path, manifest: dict) -> list[dict]:
    """Every landed Stripe event once (a second delivery of an event id is dropped)."""
    events: dict[str, dict] = {}
    for entry in manifest["datasets"]["stripe_events"]["files"]:
        for line in (root / entry["path"]).read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            events.setdefault(event["id"], event)
    return list(events.values())


def stripe_invoices(events: list[dict]) -> dict[str, dict]:
    """The newest state of each Stripe invoice, by invoice id."""
    newest: dict[str, dict] = {}
    for event in sorted(events, key=lambda e: (e["created"], e["id"])):
        if event["data"]["object"]["object"] == "invoice":
            newest[event["data"]["object"]["id"]] = event["data"]["object"]
    return newest


def service_month(invoice: dict) -> str:
    """The month an invoice bills: its subscription line's period, else (one-off) its finalisation date;
    never `period_start`, which is a renewal's previous period."""
    subscription = [
        line for line in invoice["lines"]["data"] if line.get("type") == "subscription" and not line.get("proration")
    ]  # fmt: skip
    if subscription:
        return month_of(subscription[0]["period"]["start"])
    return month_of(invoice["status_transitions"]["finalized_at"])


def stripe_totals(invoices: dict[str, dict]) -> dict[tuple[str, str, str], int]:
    """Stripe's total of the issued invoices per (tenant, service month, currency)."""
    totals: dict[tuple[str, str, str], int] = defaultdict(int)
    for invoice in invoices.values():
        if invoice["status"] in ("open", "paid", "uncollectible"):
            key = (
                invoice["metadata"]["tenant_id"],
                service_month(invoice),
                invoice["currency"].upper(),
            )
            totals[key] += invoice["total"]
    return dict(totals)


def _seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def billed_plan(states: list[tuple[int, str]], before: str, month: str) -> str:
    """The plan held for the longest part of `month` (a tie: the one held later). `states` are the
    (instant, plan) of a tenant's subscription events in time order; `before` is held until the first."""
    start, end = (int(bound.timestamp()) for bound in period_bounds(month))
    held: dict[str, tuple[int, int]] = {}
    for (since, plan), (until, _) in zip([(start, before), *states], [*states, (end, "")], strict=True):
        since, until = max(since, start), min(until, end)
        if until > since:
            held[plan] = (held.get(plan, (0, 0))[0] + until - since, since)
    return max(held, key=lambda plan: held[plan])


def billing_drafts(
    settlements: pl.DataFrame, events: list[dict], manifest: dict
) -> dict[tuple, dict[str, int]]:
    """Settld's invoice drafts of the generated months (docs/DECISIONLOG.md, "Billing"), recomputed from the
    landed settlements and Stripe subscription events: (tenant, period, currency) -> {line code: cents}."""
    catalog = {row["plan"]: row for row in _seed("billing_plan_catalog")}
    configured = {row["tenant_id"]: row for row in _seed("billing_tenant_plans")}
    states: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for event in sorted(events, key=lambda e: (e["created"], e["id"])):
        if event["type"].startswith("customer.subscription."):
            sub = event["data"]["object"]
            ended = sub["status"] in ("canceled", "cancelled", "incomplete_expired", "ended", "terminated")
            states[sub["metadata"]["tenant_id"]].append(
                (event["created"], "free" if ended else sub["metadata"]["plan"])
            )
    resolved = settlements.filter(pl.col("status") != "locked").with_columns(
        period=pl.col("resolved_at").str.slice(0, 7)
    )
    counts = resolved.group_by("tenant_id", "period").agg(
        pl.len(), (pl.col("dispute_status") != "none").sum()
    )
    usage = {(tenant, period): (runs, cases) for tenant, period, runs, cases in counts.iter_rows()}
    volumes = resolved.filter(pl.col("released_amount_cents") > 0).group_by("tenant_id", "period", "currency")
    volume = {(t, p): (c, v) for t, p, c, v in volumes.agg(pl.col("released_amount_cents").sum()).iter_rows()}
    drafts: dict[tuple, dict[str, int]] = defaultdict(dict)
    months = [manifest["arguments"]["periods"][0]]
    while months[-1] < manifest["arguments"]["periods"][-1]:
        months.append(next_period(months[-1]))
    for tenant in (t["tenant_id"] for t in manifest["tenants"]):
        seed_row = configured.get(tenant, {})
        for month in months:
            name = billed_plan(states[tenant], seed_row.get("plan", "free"), month)
            terms = {
                k: int(seed_row.get(k) or v)
                for k, v in catalog[name].items()
                if k not in ("plan", "currency")
            }
            home = catalog[name]["currency"]
            runs, cases = usage.get((tenant, month), (0, 0))
            lines = (
                {"SUBSCRIPTION_BASE": terms["subscription_cents"]} if terms["subscription_cents"] > 0 else {}
            )
            if runs > terms["included_verified_runs"]:
                overage = (runs - terms["included_verified_runs"]) * terms["overage_milli_cents_per_run"]
                lines["VERIFIED_RUN_OVERAGE"] = (overage + 500) // 1000
            if cases:
                lines["ARBITRATION_USAGE_FEE"] = cases * terms["arbitration_case_fee_cents"]
            if lines or runs:
                drafts[(tenant, month, home)] = lines
            if (tenant, month) in volume:
                currency, cents = volume[(tenant, month)]
                drafts[(tenant, month, currency)]["SETTLED_VOLUME_FEE"] = (
                    cents * terms["settled_volume_fee_bps"] // 10_000
                )
    return dict(drafts)


def invoice_disagreements(drafts: dict[tuple, dict[str, int]], totals: dict[tuple, int]) -> set[tuple]:
    """Stripe totals with no draft, or another total than the draft's subtotal, as injected.csv keys them."""
    return {
        (tenant, period, "stripe", INVOICE_MISMATCH, currency)
        for (tenant, period, currency), total in totals.items()
        if (tenant, period, currency) not in drafts
        or sum(drafts[(tenant, period, currency)].values()) != total
    }
