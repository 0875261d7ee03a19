"""Invoices in the API: drafts published per tenant, period and currency with their lines; finalised by the
period close in its transaction; never overwritten by a later publish, whose difference becomes an
adjustment billed in the next open month (fixed by that month's close)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from api.invoices.publish import InvoicePublishResult
from reports.invoices import finalized_path
from tests.api.factories import T0, Factory, auth, invoice_rows, mismatch_row

INVOICES = "/ops/finance/invoices"
SEPTEMBER, OCTOBER = "2026-09", "2026-10"


def rows(*drafts: tuple[list[dict], list[dict]]) -> tuple[list[dict], list[dict]]:
    """Several drafts' header and line rows, as the two marts hold them."""
    return [row for draft in drafts for row in draft[0]], [row for draft in drafts for row in draft[1]]


def invoice(client: TestClient, token: str, period: str, currency: str = "USD") -> dict:
    response = client.get(f"{INVOICES}/{period}/{currency}", headers=auth(token))
    assert response.status_code == 200, response.text
    return response.json()


def close(client: TestClient, token: str, period: str) -> dict:
    response = client.post(f"/ops/finance/periods/{period}/close", headers=auth(token))
    assert response.status_code == 200, response.text
    return response.json()["close"]


def test_invoices_are_listed_per_tenant_with_their_lines(
    client: TestClient, factory: Factory, token: str
) -> None:
    published = factory.publish_invoices(*rows(
        invoice_rows("acme", SEPTEMBER, runs=5), invoice_rows("acme", SEPTEMBER, currency="EUR"),
        invoice_rows("acme", OCTOBER), invoice_rows("globex", SEPTEMBER), invoice_rows("globex", "2026-08"),
    ))  # fmt: skip
    assert published == InvoicePublishResult(5, 0, 0, 0, 0, 0)
    page = client.get(INVOICES, headers=auth(token), params={"period": SEPTEMBER}).json()
    assert page["count"] == 2 and [(i["period"], i["currency"]) for i in page["items"]] == [
        (SEPTEMBER, "EUR"), (SEPTEMBER, "USD")
    ]  # fmt: skip
    usd = page["items"][1]
    assert usd["status"] == "draft" and usd["tenant_id"] == "acme" and usd["plan"] == "builder"
    assert (usd["subtotal_cents"], usd["subtotal"]) == (9_900 + 1_125 + 5, "110.30 USD")
    assert usd["finalized_at"] is None and usd["first_published_at"] == usd["published_at"]
    assert len(usd["draft_hash"]) == 64 and usd["adjustments"] == usd["later_adjustments"] == []
    assert [(line["line_type"], line["quantity"], line["amount_cents"], line["amount"]) for line in usd["lines"]] == [
        ("SETTLED_VOLUME_FEE", 150_000, 1_125, "11.25 USD"),
        ("SUBSCRIPTION_BASE", 1, 9_900, "99.00 USD"),
        ("VERIFIED_RUN_OVERAGE", 5, 5, "0.05 USD"),
    ]  # fmt: skip
    volume, subscription, overage = usd["lines"]
    assert (volume["unit_amount_bps"], volume["unit_amount_cents"], volume["unit_amount_milli_cents"]) == (
        75,
        None,
        None,
    )
    assert subscription["unit_amount_cents"] == 9_900 and overage["unit_amount_milli_cents"] == 1_000
    assert invoice(client, token, SEPTEMBER) == usd

    # Filters and pages: every period newest first, one currency, a cursor that continues.
    everything = client.get(INVOICES, headers=auth(token)).json()
    assert [(i["period"], i["currency"]) for i in everything["items"]] == [
        (OCTOBER, "USD"), (SEPTEMBER, "EUR"), (SEPTEMBER, "USD")
    ]  # fmt: skip
    euros = client.get(INVOICES, headers=auth(token), params={"currency": "EUR"}).json()
    assert [i["currency"] for i in euros["items"]] == ["EUR"]
    first = client.get(INVOICES, headers=auth(token), params={"limit": 2}).json()
    rest = client.get(
        INVOICES, headers=auth(token), params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert first["items"] + rest["items"] == everything["items"] and rest["next_cursor"] is None
    for bad in ({"period": "2026-13"}, {"currency": "usd"}, {"status": "paid"}):
        assert client.get(INVOICES, headers=auth(token), params=bad).status_code == 422

    # Another tenant's invoice is a 404, as is one that does not exist.
    for period, currency in (("2026-08", "USD"), ("2026-11", "USD")):
        missing = client.get(f"{INVOICES}/{period}/{currency}", headers=auth(token))
        assert (missing.status_code, missing.json()["code"]) == (404, "INVOICE_NOT_FOUND")
    globex = factory.key("globex", "finance_read")
    assert [i["period"] for i in client.get(INVOICES, headers=auth(globex)).json()["items"]] == [
        SEPTEMBER,
        "2026-08",
    ]
    assert client.get(INVOICES, headers=auth(factory.key("acme", "finance_write"))).status_code == 403


def test_republishing_rewrites_drafts_and_deletes_the_ones_gone(
    factory: Factory, client: TestClient, token: str
) -> None:
    factory.publish_invoices(*rows(invoice_rows("acme", SEPTEMBER), invoice_rows("acme", OCTOBER)))
    before = invoice(client, token, SEPTEMBER)
    later = T0 + timedelta(days=1)
    assert factory.publish_invoices(*rows(invoice_rows("acme", SEPTEMBER), invoice_rows("acme", OCTOBER)),
                                     at=later) == InvoicePublishResult(0, 0, 2, 0, 0, 0)  # fmt: skip
    assert invoice(client, token, SEPTEMBER) == before  # identical marts: nothing written
    result = factory.publish_invoices(*invoice_rows("acme", SEPTEMBER, runs=7), at=later)
    assert result == InvoicePublishResult(0, 1, 0, 1, 0, 0)
    after = invoice(client, token, SEPTEMBER)
    assert (
        after["subtotal_cents"] == before["subtotal_cents"] + 7
        and after["draft_hash"] != before["draft_hash"]
    )
    assert after["published_at"] != after["first_published_at"]
    assert client.get(f"{INVOICES}/{OCTOBER}/USD", headers=auth(token)).status_code == 404


def test_a_close_finalises_and_a_later_publish_never_overwrites(
    closing_client: TestClient, factory: Factory, token: str, artifacts_dir: Path
) -> None:
    client, september = closing_client, invoice_rows("acme", SEPTEMBER)
    factory.publish_invoices(*rows(september, invoice_rows("acme", OCTOBER)))
    draft = invoice(client, token, SEPTEMBER)
    documents = factory.green_verdict("acme", SEPTEMBER, artifacts=artifacts_dir, invoices=september)
    assert documents[0]["draftHash"] == draft["draft_hash"]  # the API's draft is the draft file

    record = close(client, token, SEPTEMBER)
    final = invoice(client, token, SEPTEMBER)
    on_disk = json.loads(finalized_path(artifacts_dir, "acme", SEPTEMBER, "USD").read_text())
    assert final["status"] == "finalized" and final["invoice_hash"] == on_disk["invoiceHash"]
    assert final["finalized_at"] == record["closed_at"] and final["gate_verdict_hash"] == "vh_acme_2026-09"
    assert {
        **final,
        "status": "draft",
        "invoice_hash": None,
        "finalized_at": None,
        "gate_verdict_hash": None,
    } == draft
    finalised = client.get(INVOICES, headers=auth(token), params={"status": "finalized"}).json()
    assert [(i["period"], i["status"]) for i in finalised["items"]] == [(SEPTEMBER, "finalized")]

    # Late usage: the finalised invoice stays; the difference is billed in October, the next open month.
    later = T0 + timedelta(days=3)
    late = rows(invoice_rows("acme", SEPTEMBER, runs=40, volume_cents=160_000), invoice_rows("acme", OCTOBER))
    assert factory.publish_invoices(*late, at=later) == InvoicePublishResult(0, 0, 1, 0, 1, 1)
    assert factory.publish_invoices(*late, at=later + timedelta(hours=1)) == InvoicePublishResult(
        0, 0, 1, 0, 1, 0
    )
    kept = invoice(client, token, SEPTEMBER)
    assert {k: v for k, v in kept.items() if k != "later_adjustments"} == {
        k: v for k, v in final.items() if k != "later_adjustments"
    }
    (adjustment,) = kept["later_adjustments"]
    assert (adjustment["adjusts_period"], adjustment["into_period"], adjustment["finalized_at"]) == (
        SEPTEMBER,
        OCTOBER,
        None,
    )
    assert adjustment["finalized_invoice_hash"] == final["invoice_hash"] and adjustment[
        "published_at"
    ] == later.isoformat().replace("+00:00", "Z")
    assert [(d["line_type"], d["finalized_amount_cents"], d["delta_cents"]) for d in adjustment["line_deltas"]] == [
        ("SETTLED_VOLUME_FEE", 1_125, 75), ("VERIFIED_RUN_OVERAGE", 0, 40)
    ]  # fmt: skip
    assert (adjustment["total_delta_cents"], adjustment["total_delta"]) == (115, "1.15 USD")
    assert invoice(client, token, OCTOBER)["adjustments"] == [adjustment]

    # October closes (the adjustment is fixed there); then September changes again: a new adjustment on top,
    # into November, against what was billed (the finalised invoice and October's adjustment).
    factory.green_verdict("acme", OCTOBER, artifacts=artifacts_dir, invoices=invoice_rows("acme", OCTOBER))
    close(client, token, OCTOBER)
    (fixed,) = invoice(client, token, OCTOBER)["adjustments"]
    assert fixed["finalized_at"] is not None and {**fixed, "finalized_at": None} == adjustment
    again = invoice_rows("acme", SEPTEMBER, runs=50, volume_cents=160_000)
    assert factory.publish_invoices(*again, at=later + timedelta(days=1)).adjustments_changed == 1
    fixed_again, november = invoice(client, token, SEPTEMBER)["later_adjustments"]
    assert fixed_again == fixed and november["into_period"] == "2026-11"
    assert [(d["line_type"], d["finalized_amount_cents"], d["delta_cents"]) for d in november["line_deltas"]] == [
        ("VERIFIED_RUN_OVERAGE", 40, 10)
    ]  # fmt: skip

    # Back to what was billed: the open adjustment is withdrawn; a reopen leaves the invoice finalised.
    billed = invoice_rows("acme", SEPTEMBER, runs=40, volume_cents=160_000)
    assert factory.publish_invoices(*billed, at=later + timedelta(days=2)).adjustments_changed == 1
    assert invoice(client, token, SEPTEMBER)["later_adjustments"] == [fixed]
    reopened = client.post(
        f"/ops/finance/periods/{SEPTEMBER}/reopen", headers=auth(token), json={"reason": "late rail file"}
    )
    assert reopened.status_code == 200 and invoice(client, token, SEPTEMBER)["status"] == "finalized"


def test_a_refused_close_finalises_nothing(
    closing_client: TestClient, factory: Factory, token: str, artifacts_dir: Path
) -> None:
    september = invoice_rows("acme", SEPTEMBER)
    factory.publish_invoices(*september)
    factory.green_verdict("acme", SEPTEMBER, artifacts=artifacts_dir, invoices=september)
    factory.publish(
        [mismatch_row("acme", "unhandled", period=SEPTEMBER)]
    )  # high, untriaged: the close refuses
    refused = closing_client.post(f"/ops/finance/periods/{SEPTEMBER}/close", headers=auth(token))
    assert (refused.status_code, refused.json()["code"]) == (409, "PERIOD_GATE_FAILED")
    assert invoice(closing_client, token, SEPTEMBER)["status"] == "draft"


def test_a_close_records_an_invoice_no_publish_brought(
    closing_client: TestClient, factory: Factory, token: str, artifacts_dir: Path
) -> None:
    factory.green_verdict(
        "acme", SEPTEMBER, artifacts=artifacts_dir, invoices=invoice_rows("acme", SEPTEMBER, currency="EUR")
    )
    close(closing_client, token, SEPTEMBER)
    euros = invoice(closing_client, token, SEPTEMBER, "EUR")
    assert euros["status"] == "finalized" and euros["first_published_at"] is None and len(euros["lines"]) == 2
    # A later publish of the same draft changes nothing: the finalised invoice is as billed.
    assert factory.publish_invoices(*invoice_rows("acme", SEPTEMBER, currency="EUR")) == InvoicePublishResult(
        0, 0, 0, 0, 1, 0
    )


def test_the_close_instant_is_the_verdicts_as_of_or_the_one_given_never_the_clock(
    closing_client: TestClient, factory: Factory, token: str, artifacts_dir: Path
) -> None:
    september = invoice_rows("acme", SEPTEMBER)
    factory.green_verdict("acme", SEPTEMBER, artifacts=artifacts_dir, invoices=september)  # asOf 2026-10-03
    url = f"/ops/finance/periods/{SEPTEMBER}/close"
    for instant in ("2026-09-30T23:59:59Z", "2999-01-01T00:00:00Z"):  # before the month ends; in the future
        refused = closing_client.post(url, headers=auth(token), json={"closed_at": instant})
        assert (refused.status_code, refused.json()["code"]) == (422, "CLOSED_AT_INVALID"), refused.text
    assert not finalized_path(artifacts_dir, "acme", SEPTEMBER, "USD").exists()  # nothing was finalised
    given = closing_client.post(url, headers=auth(token), json={"closed_at": "2026-10-05T09:30:00Z"})
    assert given.status_code == 200, given.text
    assert given.json()["close"]["closed_at"].startswith("2026-10-05T09:30:00")
    on_disk = json.loads(finalized_path(artifacts_dir, "acme", SEPTEMBER, "USD").read_text())
    assert on_disk["finalizedAt"] == "2026-10-05T09:30:00.000000Z"

    factory.green_verdict("acme", OCTOBER, artifacts=artifacts_dir, invoices=invoice_rows("acme", OCTOBER))
    record = close(closing_client, token, OCTOBER)  # no body: the verdict's asOf
    assert record["closed_at"].startswith("2026-11-03T00:00:00")
    on_disk = json.loads(finalized_path(artifacts_dir, "acme", OCTOBER, "USD").read_text())
    assert on_disk["finalizedAt"] == "2026-11-03T00:00:00.000000Z"
