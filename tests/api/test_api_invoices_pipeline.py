"""On the generated data, `settld run` publishes the invoice drafts into the operator API: every draft file
the artifact writer wrote is an invoice of the API with the same draft hash, subtotal and lines (and the
API also shows the running draft of the run's as-of month, which the report stage writes no file for)."""

from __future__ import annotations

import json
import shutil
import warnings
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from api.core.database import Database
from api.core.settings import ApiSettings
from api.invoices.models import Invoice
from api.main import create_app
from reports.invoices import draft_file_name
from tests.api.factories import Factory, auth

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]


def test_the_published_invoices_are_the_draft_files(pipeline_run: dict, tmp_path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):  # a private copy of the run's API database
        source = pipeline_run["root"] / f"api.sqlite3{suffix}"
        if source.exists():
            shutil.copy(source, tmp_path / source.name)
    url = f"sqlite:///{tmp_path / 'api.sqlite3'}"
    drafts = {
        (path.parent.parent.name, path.parent.name, path.name): json.loads(path.read_text())
        for path in (pipeline_run["artifacts"] / "invoices").glob("*/*/*.json")
        if not path.name.endswith("-finalized.json")
    }
    assert drafts, "the run wrote no invoice draft"
    published = {}
    with TestClient(create_app(ApiSettings(database_url=url))) as client:
        for tenant_id in sorted({tenant for tenant, _, _ in drafts}):
            token = Factory(url).key(tenant_id, "finance_read")
            page = client.get("/ops/finance/invoices", headers=auth(token), params={"limit": 500}).json()
            assert page["next_cursor"] is None and page["count"] == len(page["items"])
            published |= {(tenant_id, item["period"], item["currency"]): item for item in page["items"]}
    # Every draft file is an invoice of the API. The API has more: the marts bill through the run's as-of
    # month (a running draft), the report stage writes files for the months with reconciliation rows.
    on_disk = {(tenant, period, draft["currency"]) for (tenant, period, _), draft in drafts.items()}
    assert on_disk <= set(published)
    last_reported = max(period for _, period, _ in on_disk)
    assert all(period > last_reported for _, period, _ in set(published) - on_disk)
    for (tenant_id, period, name), draft in drafts.items():
        invoice = published[(tenant_id, period, draft["currency"])]
        assert name == draft_file_name({"currency": invoice["currency"], "draftHash": invoice["draft_hash"]})
        assert (invoice["status"], invoice["subtotal_cents"], invoice["plan"]) == (
            "draft", draft["subtotalCents"], draft["plan"]
        )  # fmt: skip
        assert [(line["line_type"], line["amount_cents"]) for line in invoice["lines"]] == sorted(
            (item["code"], item["amountCents"]) for item in draft["lineItems"]
        )


def test_the_billing_summary_of_every_published_month_is_its_invoice(
    pipeline_run: dict, tmp_path: Path
) -> None:
    """The published usage (marts.fct_billing_usage) priced by the API (api/billing/estimate.py) gives
    every published draft line for line, in every currency: the API's arithmetic is the warehouse's."""
    for suffix in ("", "-wal", "-shm"):
        source = pipeline_run["root"] / f"api.sqlite3{suffix}"
        if source.exists():
            shutil.copy(source, tmp_path / source.name)
    url = f"sqlite:///{tmp_path / 'api.sqlite3'}"
    later = datetime(2100, 1, 1, tzinfo=UTC)  # every month has ended: priced on the plan it was billed on
    compared = 0
    with TestClient(create_app(ApiSettings(database_url=url), clock=lambda: later)) as client:
        with Database(url).session() as session:
            tenants = sorted(set(session.scalars(select(Invoice.tenant_id))))
        for tenant_id in tenants:
            token = Factory(url).key(tenant_id, "finance_read")
            items = client.get("/ops/finance/invoices", headers=auth(token), params={"limit": 500}).json()[
                "items"
            ]
            billed: dict[str, dict[str, list]] = {}
            for item in items:
                billed.setdefault(item["period"], {})[item["currency"]] = [
                    (line["line_type"], line["quantity"], line["amount_cents"]) for line in item["lines"]]  # fmt: skip
            for period, per_currency in billed.items():
                summary = client.get(
                    "/ops/finance/billing/summary", headers=auth(token), params={"period": period}
                )
                assert summary.status_code == 200, summary.text
                estimated: dict[str, list] = {}
                for line in summary.json()["estimate"]["lines"]:
                    estimated.setdefault(line["currency"], []).append(
                        (line["line_code"], line["quantity"], line["amount_cents"]))  # fmt: skip
                assert summary.json()["plan_source"] == "warehouse", (tenant_id, period)
                assert estimated == {c: lines for c, lines in per_currency.items() if lines}, (
                    tenant_id,
                    period,
                )
                compared += 1
    assert compared > 3
