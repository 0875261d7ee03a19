"""The SLA watchdog with a fixed clock over three 15-minute buckets: the sensor ticks every 5 minutes, each
run request is executed, and a webhook receiver on loopback gets exactly one alert per over-SLA case and
bucket, carrying the case, run and dispute ids and the Dagster run id (a first 503 is retried)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest
from sqlalchemy import select

from api.arbitration.models import ArbitrationAlert
from orchestration.defs.arbitration.watchdog import (
    ArbitrationWatchdogResource,
    arbitration_sla_alerts,
    arbitration_sla_watchdog,
)
from orchestration.resources import OperatorApiResource
from tests.api.arbitration_kit import VERDICT, Arbitration, arbitration, settlement_row
from tests.api.factories import Factory

S = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a bucket's start


class Receiver(BaseHTTPRequestHandler):
    received: list[dict] = []
    refuse_first = [True]

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.refuse_first[0]:
            self.refuse_first[0] = False
            self.send_response(503)
        else:
            self.received.append(body)
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received, Receiver.refuse_first = [], [True]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/alerts"
    server.shutdown()


@pytest.fixture
def arb(factory: Factory) -> Iterator[Arbitration]:
    with arbitration(factory) as harness:
        yield harness


def _open(arb: Arbitration, n: int, opened_at: datetime) -> str:
    arb.now[0] = opened_at
    arb.dispute(n)
    return arb.case(n, case_id=f"case_{n}", arbiter_agent_id="agt_arb")["case_id"]


def test_one_alert_per_case_per_bucket_over_three_buckets(arb: Arbitration, receiver: str) -> None:
    resolved = S - timedelta(days=3)
    arb.now[0] = resolved
    arb.publish(*(settlement_row("acme", n, resolved_at=resolved, window_days=30) for n in (1, 2, 3)))
    _open(arb, 1, S - timedelta(hours=30))  # over SLA throughout
    _open(arb, 3, S - timedelta(hours=25))  # over SLA, closed before the third bucket
    _open(arb, 2, S - timedelta(hours=24) + timedelta(minutes=20))  # due at S+20m: over from the 2nd bucket
    database_url = arb.factory.database_url
    run_ids: set[str] = set()
    for minute in range(1, 45, 5):  # ticks at S+1, 6, 11 | 16, 21, 26 | 31, 36, 41
        now = S + timedelta(minutes=minute)
        if minute == 31:  # before this tick: case_3 gets its verdict and is closed
            arb.now[0] = now - timedelta(minutes=2)
            assert arb.act("case_3", "verdict", VERDICT).status_code == 200
            assert arb.act("case_3", "close", {}).status_code == 200
        resources = {
            "operator_api": OperatorApiResource(database_url=database_url),
            "arbitration_watchdog": ArbitrationWatchdogResource(
                webhook_url=receiver, fixed_now=now.isoformat(), backoff_seconds=0.01
            ),
        }
        result = arbitration_sla_watchdog(dg.build_sensor_context(resources=resources))
        for request in getattr(result, "run_requests", None) or []:
            run = arbitration_sla_alerts.execute_in_process(
                run_config=request.run_config, resources=resources
            )
            assert run.success
            run_ids.add(run.run_id)
    received = sorted(
        (alert["bucket_start_at"], alert["dimensions"]["case_id"]) for alert in Receiver.received
    )
    b1, b2, b3 = (S + timedelta(minutes=15 * k) for k in range(3))
    assert received == sorted([
        (b1.isoformat(), "case_1"), (b1.isoformat(), "case_3"),
        (b2.isoformat(), "case_1"), (b2.isoformat(), "case_2"), (b2.isoformat(), "case_3"),
        (b3.isoformat(), "case_1"), (b3.isoformat(), "case_2"),
    ])  # fmt: skip
    first = next(a for a in Receiver.received if a["dimensions"]["case_id"] == "case_1")
    assert first["dimensions"] == {"case_id": "case_1", "run_id": "run_1", "dispute_id": "dsp_run_1",
                                   "priority": "normal", "status": "under_review"}  # fmt: skip
    assert first["alert_type"] == "dispute_case_over_sla" and first["tenant_id"] == "acme"
    assert first["dagster_run_id"] in run_ids and first["current_value"] > first["threshold"] == 86400
    assert len({a["alert_id"] for a in Receiver.received}) == 7
    with arb.factory.transaction() as session:
        alerts = session.scalars(select(ArbitrationAlert).order_by(ArbitrationAlert.created_at)).all()
        assert len(alerts) == 7 and {a.delivery_status for a in alerts} == {"delivered"}
        assert sorted(a.attempts for a in alerts) == [1] * 6 + [2]  # the first was refused with a 503 once


def test_without_a_webhook_alerts_are_log_lines(arb: Arbitration) -> None:
    arb.publish(settlement_row("acme", 1, resolved_at=S - timedelta(days=3), window_days=30))
    _open(arb, 1, S - timedelta(hours=30))
    resources = {
        "operator_api": OperatorApiResource(database_url=arb.factory.database_url),
        "arbitration_watchdog": ArbitrationWatchdogResource(fixed_now=S.isoformat()),
    }
    result = arbitration_sla_watchdog(dg.build_sensor_context(resources=resources))
    (request,) = result.run_requests
    run = arbitration_sla_alerts.execute_in_process(run_config=request.run_config, resources=resources)
    assert run.success and run.output_for_node("emit_arbitration_sla_alerts") == 1
    again = arbitration_sla_watchdog(dg.build_sensor_context(resources=resources))
    assert isinstance(again, dg.SkipReason)  # the bucket's alert is recorded: nothing more to page
