"""The mismatch queue and the audit log: sorting, filters, counts, cleared mismatches, tenant confinement."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.api.factories import T0, Factory, auth, mismatch_row

QUEUE = "/ops/finance/reconciliation/queue"
TRIAGE = "/ops/finance/reconciliation/triage"


def keys(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["mismatch_key"] for item in response.json()["items"]]


def test_queue_sorting_filters_and_counts(client: TestClient, token: str, factory: Factory) -> None:
    older = [
        mismatch_row("acme", "medium_old", mismatch_type="duplicate_expected"),
        mismatch_row("acme", "high_old", mismatch_type="amount_mismatch"),
    ]
    newer = [
        mismatch_row("acme", "critical_new", mismatch_type="missing_operation", provider_id="wise"),
        mismatch_row("acme", "high_new", mismatch_type="currency_mismatch", period="2026-08"),
        mismatch_row("acme", "high_new_b", mismatch_type="unexpected_operation", party_id=None),
    ]
    theirs = [mismatch_row("globex", "theirs", mismatch_type="missing_operation")]
    factory.publish(older + theirs, at=T0)
    factory.publish(older + newer + theirs, at=T0 + timedelta(days=1))  # a publish is the whole mart

    everything = client.get(QUEUE, headers=auth(token))
    # severity rank, then oldest first, then triage_key (high_new / high_new_b share rank and age).
    high_new = sorted(
        ["high_new", "high_new_b"],
        key=lambda k: next(r for r in newer if r["mismatch_key"] == k)["triage_key"],
    )
    assert keys(everything) == ["critical_new", "high_old", *high_new, "medium_old"]
    payload = everything.json()
    assert payload["count"] == 5 and (payload["limit"], payload["offset"]) == (50, 0)
    assert payload["statusCounts"] == {
        "open": 5,
        "acknowledged": 0,
        "in_progress": 0,
        "resolved": 0,
        "dismissed": 0,
    }
    first = payload["items"][0]
    assert first["status"] == "open" and first["triage"] is None and first["tenant_id"] == "acme"
    assert first["first_seen_at"] == "2026-10-02T06:00:00Z" and first["is_cleared"] is False

    assert keys(client.get(QUEUE, headers=auth(token), params={"provider_id": "wise"})) == ["critical_new"]
    assert keys(client.get(QUEUE, headers=auth(token), params={"period": "2026-08"})) == ["high_new"]
    assert keys(client.get(QUEUE, headers=auth(token), params={"mismatch_type": "duplicate_expected"})) == [
        "medium_old"
    ]
    assert keys(client.get(QUEUE, headers=auth(token), params={"limit": 2, "offset": 1})) == [
        "high_old",
        high_new[0],
    ]

    by_key = {row["mismatch_key"]: row["triage_key"] for row in older + newer}
    post = lambda body: client.post(TRIAGE, json=body, headers=auth(token))  # noqa: E731
    assert (
        post({"triage_key": by_key["high_old"], "status": "in_progress", "owner": "ana"}).status_code == 200
    )
    # An operator's severity override moves the item in the queue: medium_old becomes critical.
    assert (
        post({"triage_key": by_key["medium_old"], "severity": "critical", "owner": "bo"}).status_code == 200
    )
    assert (
        post({"triage_key": by_key["critical_new"], "status": "dismissed", "resolution": "dup"}).status_code
        == 200
    )

    reordered = client.get(QUEUE, headers=auth(token))
    assert keys(reordered)[:2] == ["medium_old", "critical_new"]
    assert reordered.json()["statusCounts"] == {
        "open": 3, "acknowledged": 0, "in_progress": 1, "resolved": 0, "dismissed": 1,
    }  # fmt: skip
    open_only = client.get(QUEUE, headers=auth(token), params={"status": "open"})
    assert keys(open_only) == ["medium_old", *high_new]
    assert open_only.json()["count"] == 3 and open_only.json()["statusCounts"]["in_progress"] == 1
    assert keys(client.get(QUEUE, headers=auth(token), params={"owner": "ana"})) == ["high_old"]
    assert keys(client.get(QUEUE, headers=auth(token), params={"severity": "critical"})) == [
        "medium_old",
        "critical_new",
    ]
    item = client.get(QUEUE, headers=auth(token), params={"owner": "ana"}).json()["items"][0]
    assert (item["status"], item["triage"]["owner"], item["triage"]["revision"]) == ("in_progress", "ana", 1)


def test_queue_hides_cleared_mismatches_unless_asked(
    client: TestClient, token: str, factory: Factory
) -> None:
    rows = [mismatch_row("acme", "stays"), mismatch_row("acme", "goes", mismatch_type="missing_operation")]
    factory.publish(rows, at=T0)
    factory.publish(rows[:1], at=T0 + timedelta(days=1))
    assert keys(client.get(QUEUE, headers=auth(token))) == ["stays"]
    with_cleared = client.get(QUEUE, headers=auth(token), params={"include_cleared": "true"})
    assert keys(with_cleared) == ["goes", "stays"]
    cleared = with_cleared.json()["items"][0]
    assert cleared["is_cleared"] is True and cleared["cleared_at"] == "2026-10-02T06:00:00Z"
    # A cleared mismatch can still be triaged (e.g. to record why it went away).
    response = client.post(
        TRIAGE, json={"triage_key": rows[1]["triage_key"], "status": "resolved", "resolution": "paid late"},
        headers=auth(token),
    )  # fmt: skip
    assert response.status_code == 200


def test_audit_filters_and_stable_pagination(client: TestClient, token: str, factory: Factory) -> None:
    rows = [mismatch_row("acme", f"a{i}") for i in range(3)]
    factory.publish(rows)
    for row in rows:
        client.post(TRIAGE, json={"triage_key": row["triage_key"], "owner": "ana"}, headers=auth(token))
    everything = client.get("/ops/audit", headers=auth(token)).json()
    actions = [item["action"] for item in everything["items"]]
    # The key's own creation (CLI service functions) is audited too; newest first.
    assert actions[:3] == ["FINANCE_RECONCILIATION_TRIAGE_UPSERT"] * 3
    assert {"TENANT_CREATE", "API_KEY_CREATE"} <= set(actions)
    ids = [item["id"] for item in everything["items"]]
    assert ids == sorted(ids, reverse=True)
    pages = [
        client.get("/ops/audit", headers=auth(token), params={"limit": 2, "offset": offset}).json()["items"]
        for offset in range(0, everything["count"], 2)
    ]
    assert [item["id"] for page in pages for item in page] == ids
    triage_rows = client.get(
        "/ops/audit", headers=auth(token), params={"action": "FINANCE_RECONCILIATION_TRIAGE_UPSERT"}
    ).json()
    assert triage_rows["count"] == 3
    item = triage_rows["items"][0]
    assert item["target_type"] == "reconciliation_triage" and item["target_id"] == rows[2]["triage_key"]
    assert item["actor_key_id"] == token[3:23] and item["request_id"].startswith("req_")
    assert item["details"]["changes"] == {"owner": [None, "ana"]} and len(item["details_hash"]) == 64
    at = item["at"]
    assert client.get("/ops/audit", headers=auth(token), params={"since": at}).json()["count"] == 1
    until = client.get(
        "/ops/audit", headers=auth(token), params={"until": at, "target_type": "reconciliation_triage"}
    )
    assert until.json()["count"] == 2


def test_finance_read_alone_may_read_the_audit_log(client: TestClient, factory: Factory) -> None:
    reader = factory.key("acme", "finance_read")
    assert client.get("/ops/audit", headers=auth(reader)).status_code == 200
    ops = factory.key("acme", "ops_read")
    assert client.get("/ops/audit", headers=auth(ops)).status_code == 200


def test_the_source_type_filter_selects_the_gl_and_escrow_findings(
    client: TestClient, token: str, factory: Factory
) -> None:
    rail = mismatch_row("acme", "rail", mismatch_type="missing_operation")
    gl = mismatch_row("acme", "2026-09", mismatch_type="gl_batch_missing", provider_id="settlement_kernel",
                      source_type="finance_reconcile", operation_id=None, operation_state=None)  # fmt: skip
    escrow = mismatch_row("acme", "USD", mismatch_type="held_rollforward_missing", provider_id="settlement_kernel",
                          source_type="escrow_net_close", operation_id=None, operation_state=None)  # fmt: skip
    factory.publish([rail, gl, escrow])
    assert keys(client.get(QUEUE, headers=auth(token), params={"source_type": "finance_reconcile"})) == [
        "2026-09"
    ]
    assert keys(client.get(QUEUE, headers=auth(token), params={"source_type": "escrow_net_close"})) == ["USD"]
    assert sorted(keys(client.get(QUEUE, headers=auth(token)))) == ["2026-09", "USD", "rail"]
    unknown = client.get(QUEUE, headers=auth(token), params={"source_type": "ledger"})
    assert unknown.status_code in (400, 422)


def test_queue_sort_picks_another_total_order_and_its_cursor_keeps_to_it(
    client: TestClient, token: str, factory: Factory
) -> None:
    rows = [
        mismatch_row("acme", f"m{n}", amount_delta_cents=delta)
        for n, delta in enumerate((-50, 700, None, 20))
    ]
    factory.publish(rows[:2], at=T0)
    factory.publish(rows, at=T0 + timedelta(days=1))
    assert keys(client.get(QUEUE, params={"sort": "delta"}, headers=auth(token))) == ["m1", "m0", "m3", "m2"]
    oldest = keys(client.get(QUEUE, params={"sort": "oldest"}, headers=auth(token)))
    newest = keys(client.get(QUEUE, params={"sort": "newest"}, headers=auth(token)))
    assert set(oldest[:2]) == {"m0", "m1"} and set(newest[:2]) == {"m2", "m3"}
    first = client.get(QUEUE, params={"sort": "delta", "limit": 2}, headers=auth(token)).json()
    rest = client.get(QUEUE, params={"sort": "delta", "cursor": first["next_cursor"]}, headers=auth(token))
    assert [i["mismatch_key"] for i in first["items"]] + keys(rest) == ["m1", "m0", "m3", "m2"]
    foreign = client.get(
        QUEUE, params={"sort": "oldest", "cursor": first["next_cursor"]}, headers=auth(token)
    )
    assert foreign.status_code == 422 and foreign.json()["code"] == "CURSOR_INVALID"
    assert client.get(QUEUE, params={"sort": "loudest"}, headers=auth(token)).status_code == 422
