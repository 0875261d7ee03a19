"""Locust users for the API load bench: each user triages its own mismatch back and forth, so every
request is a real write (a revision bump, an action-log row and an audit row), and reads the queue."""

import itertools
import os

from locust import HttpUser, constant, task

TOKEN = os.environ["SETTLD_BENCH_TOKEN"]
KEYS = os.environ["SETTLD_BENCH_TRIAGE_KEYS"].split(",")
_assignments = itertools.count()


class TriageOperator(HttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        self.triage_key = KEYS[next(_assignments) % len(KEYS)]
        self.statuses = itertools.cycle(["acknowledged", "in_progress"])
        self.headers = {"Authorization": f"Bearer {TOKEN}"}

    @task(4)
    def triage_write(self) -> None:
        body = {"triage_key": self.triage_key, "status": next(self.statuses), "owner": "bench"}
        self.client.post(
            "/ops/finance/reconciliation/triage", json=body, headers=self.headers, name="triage write"
        )

    @task(1)
    def queue_read(self) -> None:
        self.client.get("/ops/finance/reconciliation/queue?limit=50", headers=self.headers, name="queue read")
