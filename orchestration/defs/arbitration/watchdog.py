"""The SLA watchdog: a sensor (every 5 minutes, running by default) that finds arbitration cases over their
SLA without an alert in the current 15-minute bucket and requests a run of `arbitration_sla_alerts`, whose
op claims one alert per case and bucket in the API's `arbitration_alerts` table and sends it to the sink.

Claiming before sending makes a restart, a second tick or a racing run unable to page twice for the same
case in a bucket; a claimed alert whose delivery failed stays `failed` in the table (it is not resent).
"""

import os
from datetime import UTC, datetime

import dagster as dg

from api.arbitration.alerts import bucket_start, claim_alerts, pending_over_sla, record_delivery
from orchestration.defs.arbitration.sinks import log_sink, webhook_sink
from orchestration.resources import OperatorApiResource
from settld.core import canonical_hash

WEBHOOK_ENV = "SETTLD_ARBITRATION_ALERT_WEBHOOK_URL"


class ArbitrationWatchdogResource(dg.ConfigurableResource):
    """The SLA and the sink of the watchdog. `webhook_url` empty: alerts are log lines of the run.
    `fixed_now` (ISO-8601) replaces the wall clock, for drills and tests."""

    sla_hours: float = 24.0
    webhook_url: str = ""
    max_attempts: int = 4
    backoff_seconds: float = 0.5
    fixed_now: str = ""

    def now(self) -> datetime:
        return datetime.fromisoformat(self.fixed_now).astimezone(UTC) if self.fixed_now else datetime.now(UTC)


def watchdog_resource() -> ArbitrationWatchdogResource:
    url = os.environ.get(WEBHOOK_ENV, "")
    return ArbitrationWatchdogResource(webhook_url=dg.EnvVar(WEBHOOK_ENV) if url else "")


class AlertRunConfig(dg.Config):
    now: str  # the instant the sensor judged at (ISO-8601): the run judges at the same one


@dg.op(description="Claim one dispute_case_over_sla alert per over-SLA case and bucket, and send it.")
def emit_arbitration_sla_alerts(
    context: dg.OpExecutionContext, config: AlertRunConfig, operator_api: OperatorApiResource,
    arbitration_watchdog: ArbitrationWatchdogResource,
) -> dg.Output[int]:  # fmt: skip
    watchdog, now = arbitration_watchdog, datetime.fromisoformat(config.now).astimezone(UTC)
    sink_name = "webhook" if watchdog.webhook_url else "log"
    send = (webhook_sink(watchdog.webhook_url, max_attempts=watchdog.max_attempts,
                         backoff_seconds=watchdog.backoff_seconds)
            if watchdog.webhook_url else log_sink(context.log))  # fmt: skip
    claimed = claim_alerts(operator_api.database_url, now=now, sla_hours=watchdog.sla_hours,
                           dagster_run_id=context.run_id, sink=sink_name)  # fmt: skip
    failed = 0
    for payload in claimed:
        delivery = send(payload)
        failed += not delivery.delivered
        record_delivery(operator_api.database_url, alert_id_=payload["alert_id"], delivered=delivery.delivered,
                        attempts=delivery.attempts, at=now)  # fmt: skip
        if not delivery.delivered:
            context.log.error(f"alert {payload['alert_id']} not delivered: {delivery.detail}")
    return dg.Output(len(claimed), metadata={"claimed": len(claimed), "failed": failed, "sink": sink_name,
                                             "bucket_start_at": bucket_start(now).isoformat()})  # fmt: skip


@dg.job(name="arbitration_sla_alerts", description="Page once per over-SLA arbitration case and 15 minutes.")
def arbitration_sla_alerts() -> None:
    emit_arbitration_sla_alerts()


@dg.sensor(job=arbitration_sla_alerts, minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Every 5 minutes: arbitration cases over their SLA without an alert in this 15-minute bucket.")  # fmt: skip
def arbitration_sla_watchdog(
    context: dg.SensorEvaluationContext, operator_api: OperatorApiResource,
    arbitration_watchdog: ArbitrationWatchdogResource,
) -> dg.SensorResult | dg.SkipReason:  # fmt: skip
    now = arbitration_watchdog.now()
    pending = pending_over_sla(operator_api.database_url, now=now, sla_hours=arbitration_watchdog.sla_hours)
    if not pending:
        return dg.SkipReason(f"no arbitration case over SLA without an alert at {now.isoformat()}")
    keys = sorted(f"{case.tenant_id}/{case.case_id}" for case in pending)
    run_key = f"{bucket_start(now).isoformat()}:{canonical_hash(keys)[:16]}"
    return dg.SensorResult(run_requests=[dg.RunRequest(
        run_key=run_key,
        run_config={"ops": {"emit_arbitration_sla_alerts": {"config": {"now": now.isoformat()}}}},
        tags={"settld/arbitration_cases": str(len(keys))},
    )])  # fmt: skip
