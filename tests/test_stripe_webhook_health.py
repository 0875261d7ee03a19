"""Webhook deliveries made over HTTP show up, counted by status and reason key, in the warehouse's
`marts.fct_stripe_webhook_health` after the next dbt build (DuckDB attaching the API's SQLite file)."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from fastapi.testclient import TestClient

from api.core.migrate import migrate_database
from api.core.settings import ApiSettings
from api.main import create_app
from orchestration.as_of import AS_OF_TAG
from settld.settings import Settings
from tests.api.test_api_stripe_webhook import SECRET, URL, event, signed

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]

HEALTH_ASSETS = [
    dg.AssetKey(["staging", "stg_operator_api__stripe_webhook_deliveries"]),
    dg.AssetKey(["marts", "fct_stripe_webhook_health"]),
]


def test_every_delivery_is_counted_by_status_and_reason(pipeline_run: dict, tmp_path: Path) -> None:
    from orchestration.definitions import ASSETS, build_resources

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(pipeline_run["warehouse"], warehouse)
    api_url = f"sqlite:///{tmp_path / 'api.sqlite3'}"
    migrate_database(api_url)
    good = json.dumps(event("evt_ok"))
    unsigned_tenant = event("evt_nobody", customer="cus_unknown")
    del unsigned_tenant["data"]["object"]["metadata"]
    deliveries = [
        (good, signed(good)),  # accepted
        (good, signed(good)),  # duplicate
        (good.replace("growth", "free"), signed(good)),  # tampered body
        (good, signed(good, secret="whsec_wrong")),  # wrong secret
        (good, {"Content-Type": "application/json"}),  # no signature header
        (good, signed(good, timestamp=int(time.time()) - 3600)),  # stale
        ("not json", signed("not json")),
        ('{"object": "event"}', signed('{"object": "event"}')),  # no id, type or data.object
        (json.dumps(unsigned_tenant), signed(json.dumps(unsigned_tenant))),  # no tenant yet: parked, 2xx
    ]
    settings = ApiSettings(database_url=api_url, stripe_webhook_secret=SECRET)
    with TestClient(create_app(settings)) as client:
        statuses = [
            client.post(URL, content=body, headers=headers).status_code for body, headers in deliveries
        ]
    assert statuses == [200, 200, 400, 400, 400, 400, 400, 400, 200]

    built = dg.materialize(
        ASSETS,
        resources=build_resources(
            Settings(
                warehouse_url=str(warehouse),
                landing_dir=pipeline_run["landing"],
                artifacts_dir=tmp_path,
                api_database_url=api_url,
            )  # fmt: skip
        ),
        selection=dg.AssetSelection.assets(*HEALTH_ASSETS),
        tags={AS_OF_TAG: pipeline_run["manifest"]["as_of"]},
    )
    assert built.success
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute("select * from marts.fct_stripe_webhook_health")
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    assert len(rows) == 1
    row = rows[0]
    del row["received_on"]
    assert row == {
        "deliveries": 9, "accepted": 2, "duplicates": 1, "ignored": 0, "rejected": 6,
        "rejected_signature_verification_failed": 3, "rejected_timestamp_outside_tolerance": 1,
        "rejected_invalid_json": 1, "rejected_schema_invalid": 1, "rejected_tenant_unresolved": 0,
        "dead_letters": 4, "replayed": 0,
    }  # fmt: skip
