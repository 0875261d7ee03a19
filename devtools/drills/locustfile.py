"""Locust users of the throughput drill: the old drill's jobs mapped onto this API, per tenant.

Each user belongs to one tenant and loops over one job at a time, chosen by weight:
- a Stripe webhook, signed as Stripe signs it; 2 % forged (another secret: 400 expected) and 2 % a repeat
  of an acknowledged event (200 with duplicate: true expected);
- a triage write with If-Match on the user's own mismatch; 5 % carry a stale revision on purpose
  (409 REVISION_CONFLICT expected); every write has a unique note, so every acknowledged one is a revision;
- a dispute opened on one of the tenant's resolved settlements and an arbitration case on it;
- an RFQ, two bids, and both bids accepted at the same instant (a race: one 200, one 409);
- queue reads with filters, following the cursor to the next page.

Writes answered 503 (or not at all) are retried with the same body and Idempotency-Key until answered, as
a client must. What each user did is written, when locust quits, as a journal (SETTLD_DRILL_JOURNAL) that
devtools/drills/books.py checks against the database; a timeline of answers per second goes with it.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from collections import Counter, defaultdict

import gevent
import stripe
from locust import FastHttpUser, constant, events, task

WORLD = json.loads(os.environ["SETTLD_DRILL_WORLD"])
JOURNAL = os.environ["SETTLD_DRILL_JOURNAL"]
BUDGET = int(os.environ.get("SETTLD_DRILL_MAX_REQUESTS", "0"))  # 0: bounded by time only
FORGED_SHARE, DUPLICATE_SHARE, STALE_SHARE = 0.02, 0.02, 0.05
RETRY_STATUSES = {0, 503}

journal: dict = {"webhooks": {"acknowledged": [], "duplicates_acknowledged": 0, "forged_sent": 0,
                              "forged_rejected": 0, "genuine_rejected": 0, "answered": 0},
                 "triage": defaultdict(list), "stale_conflicts": 0, "stale_sent": 0,
                 "disputes": [], "cases": [], "races": [], "sent": Counter()}  # fmt: skip
timeline: dict[int, Counter] = defaultdict(Counter)
unavailable_without_retry_after = [0]
server_errors: Counter = Counter()  # "503 DATABASE_UNAVAILABLE" -> count
last_server_error = [0.0]
no_answer: list[dict] = []  # requests without an HTTP answer: which, and why
_users = itertools.count()
_rng = random.Random(25)  # which job and which share: deterministic per run order, never hashed
_sent = [0]


@events.request.add_listener
def _record(name: str, response, exception, **_: object) -> None:
    status = getattr(response, "status_code", 0) or 0
    timeline[int(time.time())][str(status)] += 1
    journal["sent"][name] += 1
    if status == 0 and len(no_answer) < 50:
        stopping = (
            bool(WORLD_ENVIRONMENT) and str(getattr(WORLD_ENVIRONMENT[0].runner, "state", "")) != "running"
        )
        no_answer.append({"name": name, "error": repr(exception)[:200], "while_stopping": stopping})
    if status >= 500:  # which problem, and when (seconds), for the incident report
        try:
            code = str(response.json().get("code"))
        except Exception:  # noqa: BLE001 - not a problem document: that is the finding
            code = "not_a_problem_document"
        server_errors[f"{status} {code}"] += 1
        last_server_error[0] = max(last_server_error[0], time.time())
    if status == 503 and not response.headers.get("retry-after"):
        unavailable_without_retry_after[0] += 1
    _sent[0] += 1
    if BUDGET and _sent[0] == BUDGET:
        runner = WORLD_ENVIRONMENT[0].runner if WORLD_ENVIRONMENT else None
        if runner is not None:
            gevent.spawn(runner.quit)


WORLD_ENVIRONMENT: list = []


@events.init.add_listener
def _keep_environment(environment, **_: object) -> None:
    WORLD_ENVIRONMENT.append(environment)


@events.quitting.add_listener
def _write_journal(**_: object) -> None:
    document = {**journal, "triage": dict(journal["triage"]), "sent": dict(journal["sent"]),
                "timeline": {str(second): dict(counts) for second, counts in sorted(timeline.items())},
                "unavailable_without_retry_after": unavailable_without_retry_after[0], "no_answer": no_answer,
                "server_errors": dict(server_errors), "last_server_error_at": last_server_error[0]}  # fmt: skip
    with open(JOURNAL, "w") as handle:
        json.dump(document, handle, sort_keys=True)


def _event(event_id: str, tenant_id: str) -> str:
    obj = {"id": f"sub_{tenant_id}", "object": "subscription", "customer": f"cus_{tenant_id}",
           "status": "active", "metadata": {"tenant_id": tenant_id, "plan": "growth"}}  # fmt: skip
    return json.dumps({"id": event_id, "object": "event", "type": "customer.subscription.updated",
                       "created": int(time.time()), "livemode": False, "data": {"object": obj}})  # fmt: skip


class DrillUser(FastHttpUser):
    wait_time = constant(0)
    connection_timeout = 15.0
    network_timeout = 15.0

    def on_start(self) -> None:
        self.number = next(_users)
        tenant = WORLD["tenants"][self.number % len(WORLD["tenants"])]
        slot = self.number // len(WORLD["tenants"])
        self.tenant_id, self.token = tenant["tenant_id"], tenant["token"]
        self.triage_key = tenant["triage_keys"][slot % len(tenant["triage_keys"])]
        settlements = tenant["settlement_ids"]
        users_of_tenant = max(1, len(tenant["triage_keys"]) // 2)
        self.settlements = iter(settlements[slot::users_of_tenant])
        self.revision: int | None = None
        self.serial = itertools.count()
        self.statuses = itertools.cycle(["acknowledged", "in_progress"])

    def headers(self, key: str | None = None, **extra: str) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}", **extra}
        if key:
            headers["Idempotency-Key"] = key
        return headers

    def until_answered(self, method: str, path: str, name: str, expected: set[int], **kwargs: object):
        """The same request until it is answered other than 503 (Retry-After honoured, 0.5 s at most)."""
        for _ in range(120):
            with self.client.request(method, path, name=name, catch_response=True, **kwargs) as response:
                status = response.status_code or 0
                if status in expected:
                    response.success()
                else:
                    response.failure(f"{status}")
                if status not in RETRY_STATUSES:
                    return status, response
            time.sleep(0.5)
        return 0, None

    @task(8)
    def webhook(self) -> None:
        event_id = f"evt_drill_{WORLD['run_tag']}_{self.number}_{next(self.serial)}"
        acknowledged = journal["webhooks"]["acknowledged"]
        draw = _rng.random()
        forged = draw < FORGED_SHARE
        duplicate = not forged and draw < FORGED_SHARE + DUPLICATE_SHARE and acknowledged
        # a duplicate is the same bytes as an acknowledged event, newly signed (as Stripe retries)
        body = _rng.choice(acknowledged)["body"] if duplicate else _event(event_id, self.tenant_id)
        secret = "whsec_forged_by_someone_else" if forged else WORLD["webhook_secret"]
        signature = stripe.WebhookSignature.generate_signature_header(body, secret)
        headers = {"Stripe-Signature": signature, "Content-Type": "application/json"}
        expected = {400} if forged else {200}
        status, response = self.until_answered("POST", "/v1/webhooks/stripe", "webhook", expected,
                                               data=body, headers=headers)  # fmt: skip
        books = journal["webhooks"]
        books["forged_sent"] += forged
        if status in (200, 400):
            books["answered"] += 1
        if forged:
            books["forged_rejected"] += status == 400
        elif status == 200 and response.json().get("duplicate"):
            books["duplicates_acknowledged"] += 1
        elif status == 200:
            acknowledged.append({"id": json.loads(body)["id"], "body": body})
        elif status == 400:
            books["genuine_rejected"] += 1

    @task(8)
    def triage_write(self) -> None:
        note = f"drill-{self.number}-{next(self.serial)}"
        stale = self.revision is not None and self.revision > 1 and _rng.random() < STALE_SHARE
        body = {"triage_key": self.triage_key, "status": next(self.statuses), "notes": note}
        extra = (
            {}
            if self.revision is None
            else {"If-Match": f'"{self.revision - 1 if stale else self.revision}"'}
        )
        expected = {409} if stale else {200}
        status, response = self.until_answered("POST", "/ops/finance/reconciliation/triage", "triage write",
                                               expected, json=body, headers=self.headers(note, **extra))  # fmt: skip
        if stale:
            journal["stale_sent"] += 1
            journal["stale_conflicts"] += status == 409
        elif status == 200:
            self.revision = response.json()["triage"]["revision"]
            journal["triage"][self.triage_key].append(note)
        elif status == 409:  # not ours to conflict: learn the revision and go on
            self.revision = response.json().get("current_revision", self.revision)

    @task(2)
    def dispute_and_case(self) -> None:
        settlement_id = next(self.settlements, None)
        if settlement_id is None:
            return
        path = f"/ops/settlements/{settlement_id}/disputes"
        status, _ = self.until_answered("POST", path, "dispute open", {201}, json={"evidence_refs": ["ev:drill"]},
                                        headers=self.headers(f"dsp-{settlement_id}"))  # fmt: skip
        if status == 201:
            journal["disputes"].append(settlement_id)
        body = {"settlement_id": settlement_id, "arbiter_agent_id": "agt_drill_arbiter"}
        status, _ = self.until_answered("POST", "/ops/arbitration/cases", "case open", {201}, json=body,
                                        headers=self.headers(f"case-{settlement_id}"))  # fmt: skip
        if status == 201:
            journal["cases"].append(settlement_id)

    @task(1)
    def rfq_race(self) -> None:
        rfq_id = f"rfq_drill_{WORLD['run_tag']}_{self.number}_{next(self.serial)}"
        base = "/v1/marketplace/rfqs"
        rfq = {"rfq_id": rfq_id, "capability": "translation", "title": "Drill", "poster_agent_id": "agt_poster",
               "budget_cents": 2500, "currency": "USD", "deadline_at": "2099-01-01T00:00:00Z"}  # fmt: skip
        if (
            self.until_answered("POST", base, "rfq create", {201}, json=rfq, headers=self.headers(rfq_id))[0]
            != 201
        ):
            return
        bids = [f"{rfq_id}_b{n}" for n in (1, 2)]
        for bid_id, amount in zip(bids, (2200, 1900), strict=True):
            bid = {"bid_id": bid_id, "bidder_agent_id": f"agt_{bid_id}", "amount_cents": amount, "currency": "USD",
                   "eta_seconds": 3600}  # fmt: skip
            self.until_answered(
                "POST", f"{base}/{rfq_id}/bids", "bid", {201}, json=bid, headers=self.headers(bid_id)
            )
        racers = [gevent.spawn(self.until_answered, "POST", f"{base}/{rfq_id}/accept", "accept (race)", {200, 409},
                               json={"bid_id": bid_id}, headers=self.headers(f"acc-{bid_id}")) for bid_id in bids]  # fmt: skip
        gevent.joinall(racers)
        codes = sorted(str(r.value[1].json().get("code")) for r in racers if r.value[0] == 409)
        journal["races"].append(
            {"rfq_id": rfq_id, "statuses": sorted(r.value[0] for r in racers), "codes": codes}
        )

    @task(6)
    def queue_read(self) -> None:
        query = {
            "limit": 5,
            "status": _rng.choice(["open", "acknowledged", "in_progress"]),
            "severity": "high",
        }
        with self.client.get("/ops/finance/reconciliation/queue", params=query, headers=self.headers(),
                             name="queue read", catch_response=True) as response:  # fmt: skip
            if response.status_code != 200:
                response.failure(str(response.status_code))
                return
            cursor = response.json().get("next_cursor")
        if cursor:
            with self.client.get("/ops/finance/reconciliation/queue", params={**query, "cursor": cursor},
                                 headers=self.headers(), name="queue read (next page)", catch_response=True) as page:  # fmt: skip
                if page.status_code != 200:
                    page.failure(str(page.status_code))
