"""Onboarding events and the checklist (issue 17): codes for each bad body, sanitised metadata, event ids,
steps the platform witnesses, and a tenant confined to its own onboarding."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.factories import Factory, auth

EVENTS = "/v1/tenants/acme/onboarding/events"
CHECKLIST = "/v1/tenants/acme/onboarding/checklist"


def test_each_bad_event_body_gets_its_code(client: TestClient, factory: Factory) -> None:
    token = factory.key("acme", "ops_write")
    cases = [
        ({}, "EVENT_TYPE_REQUIRED"),
        ({"event_type": "  "}, "EVENT_TYPE_REQUIRED"),
        ({"event_type": 7}, "EVENT_TYPE_REQUIRED"),
        ({"event_type": "wizard_exploded"}, "INVALID_EVENT"),
        ({"event_type": "wizard_viewed", "at": "yesterday"}, "INVALID_AT"),
        ({"event_type": "wizard_viewed", "at": "2026-11-01T10:00:00"}, "INVALID_AT"),  # no offset
        ({"event_type": "wizard_viewed", "at": "2999-01-01T00:00:00Z"}, "INVALID_AT"),  # the future
        ({"event_type": "wizard_viewed", "at": 1700000000}, "INVALID_AT"),
        ({"event_type": "wizard_viewed", "metadata": ["a"]}, "INVALID_METADATA"),
        ({"event_type": "wizard_viewed", "metadata": "x"}, "INVALID_METADATA"),
        ({"event_type": "first_settlement_completed"}, "EVENT_PLATFORM_WITNESSED"),
        ({"event_type": "signup"}, "EVENT_PLATFORM_WITNESSED"),
        ({"event_type": "wizard_viewed", "event_id": "platform:signup"}, "INVALID_EVENT_ID"),
    ]
    for body, code in cases:
        response = client.post(EVENTS, json=body, headers=auth(token))
        assert (response.status_code, response.json()["code"]) == (400, code), body
    unknown_field = client.post(EVENTS, json={"event_type": "wizard_viewed", "extra": 1}, headers=auth(token))
    assert unknown_field.json()["code"] == "VALIDATION_FAILED"


def test_metadata_is_sanitised(client: TestClient, factory: Factory) -> None:
    token = factory.key("acme", "ops_write")
    metadata = {"long": "x" * 500, "k" * 65: "dropped", "nested": {"a": 1}, "list": [1], "n": 3, "ok": True,
                "none": None, **{f"f{i:02d}": i for i in range(30)}}  # fmt: skip
    response = client.post(EVENTS, json={"event_type": "template_selected", "metadata": metadata,
                                         "source": "sdk"}, headers=auth(token))  # fmt: skip
    assert response.status_code == 200, response.text
    kept = response.json()["event"]["metadata"]
    assert len(kept) == 20 and len(kept["long"]) == 200
    assert "nested" not in kept and "list" not in kept and "k" * 65 not in kept
    assert kept["n"] == 3 and kept["ok"] is True and kept["none"] is None
    # The first 20 entries that are kept, in the order sent (stored as canonical JSON: sorted).
    assert set(kept) == {"long", "n", "ok", "none", *(f"f{i:02d}" for i in range(16))}


def test_a_repost_with_the_same_event_id_changes_nothing(client: TestClient, factory: Factory) -> None:
    token = factory.key("acme", "ops_write", "ops_read")
    body = {"event_type": "first_run_started", "event_id": "run-1", "at": "2026-11-02T09:00:00Z"}
    first = client.post(EVENTS, json=body, headers=auth(token))
    again = client.post(EVENTS, json={**body, "at": "2026-11-01T09:00:00Z"}, headers=auth(token))
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    assert again.json()["event"] == first.json()["event"]
    checklist = client.get(CHECKLIST, headers=auth(token)).json()
    assert checklist["event_count"] == 3  # signup and the first key (witnessed), and the run
    step = {s["step"]: s for s in checklist["steps"]}["first_run_started"]
    assert step["done"] and step["at"].startswith("2026-11-02T09:00:00")


def test_the_checklist_counts_a_skipped_step_and_names_the_next(client: TestClient, factory: Factory) -> None:
    token = factory.key("acme", "ops_write", "ops_read")
    before = client.get(CHECKLIST, headers=auth(token)).json()
    assert [s["done"] for s in before["steps"]] == [True, True, False, False, False]
    assert before["next_step"] == "first_run_started" and "first_run_started" in before["next_command"]
    assert "/v1/tenants/acme/onboarding/events" in before["next_command"]
    # The first verification without a reported first run: it counts, and the run is still next.
    client.post(EVENTS, json={"event_type": "first_verification_passed"}, headers=auth(token))
    after = client.get(CHECKLIST, headers=auth(token)).json()
    assert [s["done"] for s in after["steps"]] == [True, True, False, True, False]
    assert after["next_step"] == "first_run_started" and after["completed_steps"] == 3
    assert {s["step"]: s["recorded_by"] for s in after["steps"]}["first_settlement_completed"] == "platform"


def test_a_tenant_sees_only_its_own_onboarding(client: TestClient, factory: Factory) -> None:
    acme = factory.key("acme", "ops_write", "ops_read")
    globex = factory.key("globex", "ops_write", "ops_read")
    for response in (
        client.get("/v1/tenants/globex/onboarding/checklist", headers=auth(acme)),
        client.post(
            "/v1/tenants/globex/onboarding/events", json={"event_type": "wizard_viewed"}, headers=auth(acme)
        ),  # fmt: skip
        client.get("/v1/tenants/nobody/onboarding/checklist", headers=auth(acme)),
    ):
        assert (response.status_code, response.json()["code"]) == (404, "TENANT_NOT_FOUND")
    assert client.get("/v1/tenants/globex/onboarding/checklist", headers=auth(globex)).status_code == 200
    # A platform key with ops_read reads any tenant's checklist, but reports nothing for it.
    platform = factory.platform_key("ops_read", "ops_write")
    assert client.get("/v1/tenants/globex/onboarding/checklist", headers=auth(platform)).status_code == 200
    posted = client.post("/v1/tenants/globex/onboarding/events", json={"event_type": "wizard_viewed"},
                         headers=auth(platform))  # fmt: skip
    assert posted.status_code == 404


def test_witnessed_steps_are_recorded_once(factory: Factory, client: TestClient) -> None:
    token = factory.key("acme", "ops_read")
    factory.key("acme", "ops_read")  # a second key is not a second api_key_created
    steps = client.get(CHECKLIST, headers=auth(token)).json()
    assert steps["event_count"] == 2
