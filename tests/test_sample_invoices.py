"""The sample Stripe events look like Stripe's, and their invoices bill the drafts Settld computes (issue
31): each invoice disagreement is injected on purpose, listed in injected.csv and counted in the manifest;
a computation of the drafts from the landed settlements and Stripe events alone finds exactly those; every
other invoice is its draft, line for line; and end to end, marts.fct_billing_invoice_mismatches holds
exactly the injected ones."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from devtools.sample_data import generate_landing_zone
from tests.sample_zone import (
    EVENT_KEYS,
    INVOICE_MISMATCH,
    PERIODS,
    billing_drafts,
    injected,
    invoice_disagreements,
    load,
    month_of,
    service_month,
    stripe_events,
    stripe_invoices,
    stripe_totals,
)

ZONES = {
    "demo": {},  # `make demo`'s arguments
    # a year boundary, a month without a generated period, the upgrade and the cancellation in the last one
    "gap": {"tenants": 3, "seed": 3, "periods": ("2026-11", "2027-01"), "fmt": "jsonl"},
}
KEY = ["tenant_id", "period", "provider_id", "mismatch_type", "mismatch_key"]


@pytest.fixture(scope="module")
def zones(tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    roots = {name: tmp_path_factory.mktemp(name) / "landing" for name in ZONES}
    return {name: (root, generate_landing_zone(root, **ZONES[name])) for name, root in roots.items()}


@pytest.fixture(params=sorted(ZONES))
def zone(request, zones) -> tuple[Path, dict]:
    return zones[request.param]


def invoice_rows(root: Path) -> pl.DataFrame:
    return injected(root).filter(pl.col("mismatch_type") == INVOICE_MISMATCH)


def injected_keys(root: Path) -> set[tuple]:
    return {tuple(row) for row in invoice_rows(root).select(KEY).iter_rows()}


def test_stripe_events_look_like_stripe(zones):
    root, manifest = zones["demo"]
    events, lines = [], []
    for entry in manifest["datasets"]["stripe_events"]["files"]:
        text = (root / entry["path"]).read_text(encoding="utf-8").splitlines()
        lines += [(entry["path"], i, line) for i, line in enumerate(text, 1)]
        batch = [json.loads(line) for line in text]
        assert [(e["created"], e["id"]) for e in batch] == sorted((e["created"], e["id"]) for e in batch)
        assert {month_of(e["created"]) for e in batch} == {entry["path"][-13:-6]}  # events-<month>.jsonl
        events += batch
    # a month's renewal is invoiced at its start (issue 28): no event falls after the last period
    assert [f["path"][-13:-6] for f in manifest["datasets"]["stripe_events"]["files"]] == [*PERIODS]
    dup = manifest["stripe_duplicate"]
    duplicated = [i for path, i, _ in lines if path == dup["file"] and json.loads(_)["id"] == dup["event_id"]]
    assert duplicated == dup["rows"]
    assert len({e["id"] for e in events}) == len(events) - 1
    types = Counter(e["type"] for e in {e["id"]: e for e in events}.values())  # each event once
    assert types["customer.created"] == types["customer.subscription.created"] == 4
    # a draft per tenant, period and currency it has lines in (globex also bills EUR volume, umbrella GBP),
    # plus the two injected invoices; charges for the invoices above zero
    assert types["invoice.created"] == types["invoice.finalized"] == types["invoice.paid"] == 6 * 3 + 2
    assert 3 * 3 <= types["charge.succeeded"] < types["invoice.paid"]
    assert types["customer.subscription.updated"] == 1 and types["customer.subscription.deleted"] == 1
    # on the 20th, per currency, the charges since the last payout: renewals are paid at the month's start
    payouts = [(e["created"], e["data"]["object"]["currency"]) for e in events if e["type"] == "payout.paid"]
    assert sorted({month_of(at) for at, _ in payouts}) == list(PERIODS)
    assert {currency for _, currency in payouts} == {"usd", "eur"}
    for e in events:
        assert list(e) == EVENT_KEYS
        assert e["id"].startswith("evt_") and len(e["id"]) == 28 and e["object"] == "event"
        assert isinstance(e["created"], int) and e["api_version"] == "2024-06-20"
        obj = e["data"]["object"]
        assert ("previous_attributes" in e["data"]) == (e["type"] == "customer.subscription.updated")
        if e["type"] == "payout.paid":
            assert "customer" not in obj and obj["metadata"] == {}
        else:
            assert obj["metadata"]["tenant_id"].startswith("tnt_")
        if obj["object"] in ("invoice", "charge"):
            assert obj["currency"] in ("usd", "eur", "gbp") and obj["customer"].startswith("cus_")
        if e["type"] == "customer.subscription.updated":
            assert e["data"]["previous_attributes"]["metadata"] == {"plan": "builder"}
            assert obj["metadata"]["plan"] == "growth"
            assert obj["items"]["data"][0]["price"]["metadata"]["plan"] == "growth"
        if e["type"] == "invoice.paid":
            assert obj["amount_paid"] == obj["total"] == sum(line["amount"] for line in obj["lines"]["data"])
            assert obj["status"] == "paid" and obj["paid"] is True


def test_invoice_disagreements_are_injected_listed_and_counted(zone):
    root, manifest = zone
    rows = invoice_rows(root)
    assert manifest["injected"][INVOICE_MISMATCH] == rows.height == 2
    assert injected(root).filter(pl.col("provider_id") == "stripe").height == rows.height
    assert rows.select(KEY).is_unique().all() and set(rows["mismatch_key"]) <= {"USD", "EUR", "GBP"}
    periods = manifest["arguments"]["periods"]
    by_note = {
        ("prorated" in note, "by hand" in note): row for note, *row in rows.select("note", *KEY).iter_rows()
    }
    # the upgrade in the middle period; the hand-made invoice in the last, in a currency with no draft
    assert by_note[(True, False)][:2] == ["tnt_globex", periods[len(periods) // 2]]
    assert by_note[(False, True)][:2] == ["tnt_acme", periods[-1]] and by_note[(False, True)][4] != "USD"


def test_an_independent_billing_finds_exactly_the_injected_disagreements(zone):
    root, manifest = zone
    events = stripe_events(root, manifest)
    drafts = billing_drafts(load(root, manifest, "settlements"), events, manifest)
    invoices = stripe_invoices(events)
    assert invoice_disagreements(drafts, stripe_totals(invoices)) == injected_keys(root)

    # Every other invoice is the draft of its tenant, month and currency, line for line, and every draft
    # with a line has one; the injected ones are named in their notes.
    named = {re.search(r"invoice (in_\w+)", note).group(1) for note in invoice_rows(root)["note"]}
    billed: dict[tuple, dict[str, int]] = {}
    for invoice_id, invoice in invoices.items():
        lines = invoice["lines"]["data"]
        assert invoice["status"] == "paid" and invoice["lines"]["total_count"] == len(lines)
        assert (
            invoice["total"]
            == invoice["subtotal"]
            == invoice["amount_paid"]
            == sum(i["amount"] for i in lines)
        )
        # every line carries the month billed; a renewal's period_start is the previous month, as Stripe's
        assert all(line["currency"] == invoice["currency"] for line in lines)
        if invoice_id in named:
            continue
        month = service_month(invoice)
        assert {month_of(line["period"]["start"]) for line in lines} == {month}
        if invoice["billing_reason"] == "subscription_cycle":
            assert month_of(invoice["period_start"]) < month == month_of(invoice["period_end"])
        key = (invoice["metadata"]["tenant_id"], month, invoice["currency"].upper())
        assert key not in billed, key
        billed[key] = {line["metadata"]["line_code"]: line["amount"] for line in lines}
    assert len(named) == invoice_rows(root).height
    assert billed == {key: lines for key, lines in drafts.items() if lines}


def test_zero_invoices_are_paid_without_a_charge_and_every_charge_pays_one_invoice(zone):
    root, manifest = zone
    events = stripe_events(root, manifest)
    invoices = stripe_invoices(events)
    charges = [e["data"]["object"] for e in events if e["type"] == "charge.succeeded"]
    assert sorted(c["invoice"] for c in charges) == sorted(
        i for i, inv in invoices.items() if inv["total"] > 0
    )
    for charge in charges:
        invoice = invoices[charge["invoice"]]
        assert (charge["amount"], charge["currency"], invoice["charge"]) == (
            invoice["total"],
            invoice["currency"],
            charge["id"],
        )
    as_of = datetime.strptime(manifest["as_of"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    assert all(e["created"] < as_of for e in events)  # billed before the export cut-off


def test_adding_a_tenant_leaves_existing_tenants_invoices_unchanged(tmp_path):
    lines = {}
    for tenants in (2, 3):
        root = tmp_path / str(tenants)
        manifest = generate_landing_zone(root, tenants=tenants, fmt="parquet", malformed=False)
        lines[tenants] = {
            json.dumps(e, sort_keys=True)
            for e in stripe_events(root, manifest)
            if e["data"]["object"].get("metadata", {}).get("tenant_id") in ("tnt_acme", "tnt_globex")
        }
        lines[f"injected{tenants}"] = injected_keys(root)
    assert lines[2] == lines[3] and lines["injected2"] == lines["injected3"]


@pytest.mark.slow
@pytest.mark.xdist_group("pipeline")
def test_the_billing_mismatch_mart_holds_exactly_the_injected_invoice_disagreements(
    pipeline_run: dict,
) -> None:
    landing, manifest = pipeline_run["landing"], pipeline_run["manifest"]
    with duckdb.connect(str(pipeline_run["warehouse"]), read_only=True) as con:
        rows = con.execute(
            f"select {', '.join(KEY)}, expected_amount_cents, actual_amount_cents "
            "from marts.fct_billing_invoice_mismatches"
        ).fetchall()
    assert len(rows) == len({row[:5] for row in rows})
    assert {row[:5] for row in rows} == injected_keys(landing) and len(rows) == 2
    events = stripe_events(landing, manifest)
    drafts = billing_drafts(load(landing, manifest, "settlements"), events, manifest)
    totals = stripe_totals(stripe_invoices(events))
    for tenant, period, *_, currency, expected, actual in rows:
        draft = drafts.get((tenant, period, currency))
        assert (expected, actual) == (
            None if draft is None else sum(draft.values()),
            totals[(tenant, period, currency)],
        )
