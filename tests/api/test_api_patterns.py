"""The patterns every domain copies: one commit point, idempotent writes, files only after the commit.

A throwaway route registered on the test app (as a new domain's would be) writes through WriteSessionDep
and never commits: when it returns its write is kept, when it raises after writing nothing is, and files
it stages appear only after the commit.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import func, select

from api.audit.models import AuditLogEntry
from api.audit.service import append_audit
from api.core.database import Database
from api.core.dependencies import WriteSessionDep, get_write_session
from api.core.staging import STAGING_DIR, stage_files
from api.idempotency.dependencies import claim_idempotency_key, idempotent
from api.idempotency.models import IdempotencyRecord
from api.tenants.dependencies import FinanceWriteDep
from tests.api.factories import URL, auth, event, signed

# Write routes that are idempotent by a key of their own instead of Idempotency-Key, and why.
OWN_IDEMPOTENCY = {
    ("POST", "/v1/webhooks/stripe"): "Stripe sends no key; an event is stored once per event id",
    ("POST", "/console/reconciliation/triage"): "a console form: its own key, claimed with claim_key",
    ("POST", "/console/reconciliation/close"): "a console form: its own key, claimed with claim_key",
    (
        "POST",
        "/console/arbitration/cases/{case_id}/{action}",
    ): "a console form: its own key, claimed with claim_key",
    ("POST", "/console/policies/rollback"): "a console form: its own key, claimed with claim_key",
    (
        "POST",
        "/console/marketplace/rfqs/{rfq_id}/accept",
    ): "a console form: its own key, claimed with claim_key",
}
# Console forms that write only the session cookie, never a row.
COOKIE_ONLY = {("POST", "/console/sign-in"), ("POST", "/console/sign-out")}
PROBE = "/probe"


class Written(BaseModel):
    audit_id: int


def probe_router(artifacts: Path) -> APIRouter:
    """A throwaway domain: writes an audit row (and stages a file), then answers or raises."""
    router = APIRouter(prefix=PROBE)

    def write(session: WriteSessionDep, principal: FinanceWriteDep, name: str) -> Written:
        entry = append_audit(session, context=principal.audit_context, action="PROBE_WRITE",
                             target_type="probe", target_id=name, details={"name": name})  # fmt: skip
        staged = stage_files(session, root=artifacts, key=f"probe-{name}")
        (staged.directory / "probe" / f"{name}.txt").parent.mkdir(parents=True, exist_ok=True)
        (staged.directory / "probe" / f"{name}.txt").write_text(name)
        return Written(audit_id=entry.id)

    @router.post("/write")
    @idempotent
    def write_and_return(session: WriteSessionDep, principal: FinanceWriteDep) -> Written:
        return write(session, principal, "kept")

    @router.post("/raise")
    @idempotent
    def write_and_raise(session: WriteSessionDep, principal: FinanceWriteDep) -> Written:
        write(session, principal, "lost")
        raise RuntimeError("after the write")

    return router


@pytest.fixture
def probe_client(app: FastAPI, tmp_path: Path) -> Iterator[TestClient]:
    app.include_router(probe_router(tmp_path / "artifacts"))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def count(database_url: str, model: type, **where: str) -> int:
    database = Database(database_url)
    try:
        with database.session() as session:
            query = select(func.count()).select_from(model)
            for column, value in where.items():
                query = query.where(getattr(model, column) == value)
            return session.scalar(query) or 0
    finally:
        database.dispose()


def dependency_calls(route: APIRoute) -> set:
    """Every callable the route depends on, however deep."""
    calls, pending = set(), [route.dependant]
    while pending:
        dependant = pending.pop()
        calls.add(dependant.call)
        pending.extend(dependant.dependencies)
    return calls


def test_every_write_route_is_idempotent_and_writes_through_the_commit_point(app: FastAPI) -> None:
    writes = {
        (method, context.path): dependency_calls(context.original_route)
        for context in iter_route_contexts(app.routes)  # app.routes, with each included router's routes
        if isinstance(context.original_route, APIRoute)
        for method in context.methods - {"GET", "HEAD"}
    }
    assert len(writes) >= 4
    assert all(get_write_session in calls for route, calls in writes.items() if route not in COOKIE_ONLY), (
        "a write route without WriteSessionDep"
    )
    without_key = {route for route, calls in writes.items() if claim_idempotency_key not in calls}
    assert without_key == set(OWN_IDEMPOTENCY) | COOKIE_ONLY, (
        f"write routes without @idempotent: {without_key}"
    )


def test_the_stripe_webhook_is_idempotent_by_event_id(webhook_client: TestClient, database_url: str) -> None:
    from api.billing.models import StripeEvent

    body = json.dumps(event("evt_once"))
    answers = [webhook_client.post(URL, content=body, headers=signed(body)).json() for _ in range(2)]
    assert [answer["duplicate"] for answer in answers] == [False, True]
    assert count(database_url, StripeEvent) == 1


def test_a_write_that_returns_is_committed_without_calling_commit(
    probe_client: TestClient, token: str, database_url: str, tmp_path: Path
) -> None:
    response = probe_client.post(f"{PROBE}/write", headers=auth(token, **{"Idempotency-Key": "probe-1"}))
    assert response.status_code == 200, response.text
    assert count(database_url, AuditLogEntry, action="PROBE_WRITE", target_id="kept") == 1
    assert count(database_url, IdempotencyRecord, idempotency_key="probe-1") == 1
    # The staged file is in place after the commit, and the staging area is empty again.
    assert (tmp_path / "artifacts" / "probe" / "kept.txt").read_text() == "kept"
    assert not (tmp_path / "artifacts" / STAGING_DIR).exists()
    replay = probe_client.post(f"{PROBE}/write", headers=auth(token, **{"Idempotency-Key": "probe-1"}))
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.content == response.content
    assert count(database_url, AuditLogEntry, action="PROBE_WRITE") == 1


def test_a_write_that_raises_after_writing_leaves_nothing(
    probe_client: TestClient, token: str, database_url: str, tmp_path: Path
) -> None:
    response = probe_client.post(f"{PROBE}/raise", headers=auth(token, **{"Idempotency-Key": "probe-2"}))
    assert (response.status_code, response.json()["code"]) == (500, "INTERNAL_ERROR")
    assert count(database_url, AuditLogEntry, action="PROBE_WRITE") == 0
    assert count(database_url, IdempotencyRecord, idempotency_key="probe-2") == 0  # the key may be retried
    assert not (tmp_path / "artifacts" / "probe").exists()
    assert not (tmp_path / "artifacts" / STAGING_DIR).exists()


def test_a_read_session_refuses_to_write(database_url: str) -> None:
    from api.core.database import ReadOnlySessionError
    from api.tenants.models import Tenant

    database = Database(database_url)
    try:
        with database.session() as session, pytest.raises(ReadOnlySessionError):
            session.add(Tenant(tenant_id="sneaky"))
            session.flush()
    finally:
        database.dispose()
