"""The acceptance corpus of issue 28: events built from Stripe's published example objects
(tests/stripe_corpus.py), signed with the SDK's scheme, sent to POST /v1/webhooks/stripe (each twice, and
one forged), replayed three times, landed as an export file and run through the pipeline's Stripe and
billing assets (raw load, event store, dbt) on a fresh warehouse."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.billing import webhook
from api.billing.models import StripeEvent, StripeWebhookDelivery
from api.billing.replay import ReplayReport, replay_dead_letters
from api.core.database import Database, utc_now
from api.core.migrate import migrate_database
from api.core.settings import ApiSettings
from api.main import create_app
from orchestration.as_of import AS_OF_TAG
from settld.settings import Settings
from tests.api.factories import SECRET, URL, signed
from tests.stripe_corpus import OLD_TENANT, TENANT, notification, old_events, recent_events

pytestmark = [pytest.mark.slow]

MODELS = [
    dg.AssetKey(["marts", "fct_billing_invoice_mismatches"]),
    dg.AssetKey(["marts", "fct_stripe_payment_failures"]),
    dg.AssetKey(["marts", "dim_tenant_billing_plan"]),
    dg.AssetKey(["marts", "fct_stripe_event_gaps"]),
    dg.AssetKey(["staging", "stg_stripe__events"]),
]
STORES = [dg.AssetKey(["raw", "stripe_events"]), dg.AssetKey(["operator_api", "stripe_events"])]


def _dead_letters(database: Database) -> int:
    with database.session() as session:
        return len(webhook.dead_letters(session))


def _replay(database: Database) -> dict:
    from datetime import UTC, datetime

    report = ReplayReport(window={}, dry_run=False)
    with database.transaction() as session:
        replay_dead_letters(session, secret=SECRET, start=datetime(2000, 1, 1, tzinfo=UTC),
                            end=datetime(2100, 1, 1, tzinfo=UTC), now=utc_now(), report=report)  # fmt: skip
    return report.as_dict()["dead_letters"]


def test_stripes_published_objects_go_through_webhook_replay_landing_and_marts(tmp_path: Path) -> None:
    from orchestration.definitions import ASSETS, build_resources
    from orchestration.stages import transform_upstream

    api_url = f"sqlite:///{tmp_path / 'api.sqlite3'}"
    migrate_database(api_url)
    events = recent_events() + old_events()
    bodies = [json.dumps(e, indent=2) for e in events] + [json.dumps(notification())]  # pretty-printed too
    forged = bodies[2].replace("growth_monthly", "enterprise_monthly")
    with TestClient(create_app(ApiSettings(database_url=api_url, stripe_webhook_secret=SECRET))) as api:
        first = [api.post(URL, content=body, headers=signed(body)) for body in bodies]
        again = [api.post(URL, content=body, headers=signed(body)) for body in bodies]
        refused = api.post(URL, content=forged, headers=signed(bodies[2]))
    answers = {e["id"]: r for e, r in zip([*events, notification()], first, strict=True)}
    assert all(r.status_code == 200 for r in first), [r.text for r in first if r.status_code != 200]
    assert all(r.status_code == 200 and r.json()["duplicate"] for r in again)
    assert refused.status_code == 400 and refused.json()["reason"] == "signature_verification_failed"
    # payouts and the balance are the platform's; a charge without customer is parked; v2 is stored
    assert {
        answers[i].json()["attribution"] for i in ("evt_corpus_09", "evt_corpus_10", "evt_corpus_14")
    } == {"platform"}
    assert answers["evt_corpus_08"].json()["attribution"] == "unattributed"
    assert answers["evt_corpus_v2"].json()["tenant_id"] == TENANT  # its customer was linked by then

    database = Database(api_url)
    try:
        assert _dead_letters(database) == 1
        for _ in range(3):
            assert _replay(database)["refused"] == {"signature_verification_failed": 1}
            assert _dead_letters(database) == 1
        with database.session() as session:
            assert (
                session.scalar(select(func.count()).select_from(StripeWebhookDelivery)) == 2 * len(bodies) + 1
            )
            stored = {e.event_id: (e.attribution, e.tenant_id, e.plan, e.api_version)
                      for e in session.scalars(select(StripeEvent))}  # fmt: skip
    finally:
        database.dispose()
    assert len(stored) == len(bodies)  # every event stored once
    assert stored["evt_corpus_01"][:2] == ("tenant", TENANT)  # arrived before its tenant link
    assert stored["evt_corpus_03"][2] == "growth" and stored["evt_corpus_12"][2] == "builder"  # lookup_key
    assert stored["evt_corpus_12"][3] == "2020-08-27"

    # The same events exported into the landing zone: loaded, and found already stored.
    landing = tmp_path / "landing"
    (landing / "stripe" / "events").mkdir(parents=True)
    (landing / "stripe" / "events" / "events-2026-10.jsonl").write_text(
        "".join(json.dumps(e) + "\n" for e in events), encoding="utf-8"
    )
    warehouse = tmp_path / "warehouse.duckdb"
    settings = Settings(warehouse_url=str(warehouse), landing_dir=landing, artifacts_dir=tmp_path / "artifacts",
                        api_database_url=api_url)  # fmt: skip
    selection = dg.AssetSelection.assets(*STORES) | transform_upstream(*MODELS)
    built = dg.materialize(ASSETS, resources=build_resources(settings), selection=selection,
                           tags={AS_OF_TAG: "2026-11-01T06:00:00Z"})  # fmt: skip
    assert built.success
    with duckdb.connect(str(warehouse), read_only=True) as con:
        raw = con.execute(
            "select count(*), count(distinct event_id) from staging.stg_stripe__events"
        ).fetchone()
        mismatches = con.execute(
            "select period, expected_amount_cents, actual_amount_cents from marts.fct_billing_invoice_mismatches "
            "where tenant_id = ? order by period",
            [TENANT],
        ).fetchall()
        draft = con.execute(
            "select subtotal_cents from marts.fct_invoice_drafts where tenant_id = ? and period = '2026-10'",
            [TENANT],
        ).fetchone()
        plans = dict(
            con.execute(
                "select tenant_id, plan from marts.dim_tenant_billing_plan where is_current"
            ).fetchall()
        )
        failures = con.execute(
            "select object_type, failure_code, decline_code, failures, currency, attempted_amount_cents "
            "from marts.fct_stripe_payment_failures order by object_type, failure_code"
        ).fetchall()
        gaps = con.execute("select count(*) from marts.fct_stripe_event_gaps").fetchone()[0]
    assert raw == (len(events), len(events))
    # The October renewal (period_start in September) is compared with October's draft, not September's.
    assert draft is not None and mismatches == [("2026-10", draft[0], 60_000)]
    assert plans[TENANT] == "growth" and plans[OLD_TENANT] == "builder"
    assert failures == [
        ("charge", "card_declined", "insufficient_funds", 1, "USD", 60_000),
        ("charge", "expired_card", None, 1, "USD", 9_900),
        ("payment_intent", "authentication_required", "authentication_required", 1, "USD", 60_000),
    ]
    assert gaps == 0
