"""Problem codes and state machines: every code raised in api/ is a class documented on a route, and status
columns hold only their state machine's states (the CHECK constraints match the enums)."""

from __future__ import annotations

import ast
import importlib.util
from enum import StrEnum
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import CheckConstraint, text
from sqlalchemy.exc import IntegrityError

import api.models  # noqa: F401  (every table)
from api.billing.models import StripeWebhookDelivery
from api.core.database import Base, Database, utc_now
from api.core.errors import PROBLEM_MEDIA_TYPE, Problem
from api.core.states import StateMachine, TransitionIllegal
from api.periods.models import PeriodClose
from api.periods.states import PERIOD_CLOSE, PeriodStatus
from api.reconciliation.states import TRIAGE, TriageStatus
from tests.api.arbitration_kit import one_of_each
from tests.api.factories import Factory, auth, invoice_rows, mismatch_row
from tests.api.marketplace_kit import LISTING, accepted
from tests.api.policies_kit import one_of_each as policies_one_of_each

API = Path(__file__).resolve().parents[2] / "api"
REVISIONS = API / "migrations" / "versions"
CHECK_REVISION = REVISIONS / "20261206_01_state_checks.py"
TRIAGE_ROUTE = "/ops/finance/reconciliation/triage"


def _named(node: ast.AST) -> str | None:
    """The class a call or a raise names: `Cls(...)`, `module.Cls(...)`, `raise Cls`."""
    target = node.func if isinstance(node, ast.Call) else node.exc if isinstance(node, ast.Raise) else None
    if isinstance(target, ast.Name):
        return target.id
    return target.attr if isinstance(target, ast.Attribute) else None


def raised_problem_classes(*, pages: bool = True) -> set[str]:
    """Names of Problem subclasses that api/ constructs or raises, found in the source; without `pages`, not
    those of the console (api/console: HTML pages outside the OpenAPI document, which show a refusal as a page)."""
    names = {cls.__name__ for cls in Problem.registry.values()}
    used = set()
    for path in API.rglob("*.py"):
        if not pages and (API / "console") in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            name = _named(node)
            assert name not in ("Problem", "ProblemError"), f"{path}: raise a Problem subclass, one per code"
            if name in names:
                used.add(name)
    return used


def documented_codes(app: FastAPI) -> set[str]:
    return {
        code
        for item in app.openapi()["paths"].values()
        for operation in item.values()
        for response in operation.get("responses", {}).values()
        for code in response.get("content", {}).get(PROBLEM_MEDIA_TYPE, {}).get("examples", {})
    }


def test_every_code_raised_in_api_is_documented_on_a_route(app: FastAPI) -> None:
    codes = {cls.__name__: code for code, cls in Problem.registry.items()}
    raised = {codes[name] for name in raised_problem_classes()}
    documented = documented_codes(app)
    on_routes = {codes[name] for name in raised_problem_classes(pages=False)}
    assert on_routes - documented == set(), "raised but documented on no route"
    assert documented <= set(Problem.registry), "documented but no class defines it"
    assert set(Problem.registry) == raised, (
        f"problem classes nothing raises: {set(Problem.registry) - raised}"
    )
    assert {"TRANSITION_ILLEGAL", "AUTH_REQUIRED", "VALIDATION_FAILED", "CURSOR_INVALID"} <= raised


def test_a_problem_class_is_status_code_and_meaning_in_one_place() -> None:
    problem = TransitionIllegal("no", from_status="a", to_status="b", allowed=[])
    assert (problem.status, problem.code, problem.detail, problem.extra["to_status"]) == (
        409, "TRANSITION_ILLEGAL", "no", "b"
    )  # fmt: skip
    with pytest.raises(TypeError, match="defined twice"):
        type("Again", (Problem,), {"status": 409, "code": "TRANSITION_ILLEGAL", "title": "again"})


class Light(StrEnum):
    red = "red"
    green = "green"
    off = "off"


def test_the_state_kit_allows_only_the_table() -> None:
    machine = StateMachine(
        "light", {Light.red: {Light.green}, Light.green: {Light.red, Light.off}, Light.off: set()}
    )
    machine.assert_transition(Light.red, Light.green)
    assert machine.terminal == {Light.off}
    with pytest.raises(TransitionIllegal) as refused:
        machine.assert_transition(Light.off, Light.red, hint="It is broken.")
    assert refused.value.extra == {"from_status": "off", "to_status": "red", "allowed": []}
    assert refused.value.detail == "Cannot move a light from off to red. It is broken."
    with pytest.raises(ValueError, match="no row"):
        StateMachine("light", {Light.red: {Light.green}})


def test_triage_and_periods_use_the_kit() -> None:
    assert TRIAGE.terminal == {TriageStatus.resolved, TriageStatus.dismissed}
    assert not TRIAGE.can(TriageStatus.resolved, TriageStatus.open)  # reopening is an action, not a move
    PERIOD_CLOSE.assert_transition(PeriodStatus.open, PeriodStatus.closed)
    PERIOD_CLOSE.assert_transition(PeriodStatus.closed, PeriodStatus.reopened)
    PERIOD_CLOSE.assert_transition(PeriodStatus.reopened, PeriodStatus.closed)
    with pytest.raises(TransitionIllegal):
        PERIOD_CLOSE.assert_transition(PeriodStatus.open, PeriodStatus.reopened)


def model_checks() -> dict[tuple[str, str], str]:
    return {
        (table.name, constraint.name.removeprefix(f"ck_{table.name}_")): str(constraint.sqltext)
        for table in Base.metadata.tables.values()
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
    }


def _revision(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)
    return revision


def test_the_migrated_checks_are_the_models_checks() -> None:
    """Each revision writes its values out (`CHECKS`); when an enum changes, this fails until a new
    revision follows."""
    render = _revision(CHECK_REVISION)._condition
    migrated = {
        (table, column): render(column, values, nullable)
        for path in sorted(REVISIONS.glob("*.py"))
        for table, column, values, nullable in getattr(_revision(path), "CHECKS", ())
    }
    assert migrated == model_checks()


def test_a_status_outside_its_states_is_refused_by_the_database(
    database_url: str, factory: Factory, client: TestClient, token: str
) -> None:
    row = mismatch_row("acme", "checked")
    factory.publish([row])
    factory.publish_invoices(*invoice_rows("acme", "2026-09"))
    triaged = client.post(
        TRIAGE_ROUTE, json={"triage_key": row["triage_key"], "status": "acknowledged"}, headers=auth(token)
    )
    assert triaged.status_code == 200
    one_of_each(client, token, database_url)  # disputes, cases, revisions, adjustments, settlements
    assert client.post("/v1/marketplace/listings", json=LISTING, headers=auth(token)).status_code == 201
    accepted(client, factory, token, "acme")  # RFQ, bids, proposals, agreement (and a policy version)
    policies_one_of_each(factory)  # policy rollout history, run assignments
    database = Database(database_url)
    try:
        with database.transaction() as session:
            session.add(
                PeriodClose(
                    tenant_id="acme",
                    period="2026-09",
                    status="closed",
                    revision=1,
                    verdict_hash="v",
                    bundle_file="b",
                    bundle_sha256="s",
                    closed_at=utc_now(),
                )
            )
            session.add(StripeWebhookDelivery(received_at=utc_now(), source="webhook", status="rejected",
                                              replayable=False))  # fmt: skip
        for table, column in sorted(model_checks()):
            with database.engine.connect() as connection, pytest.raises(IntegrityError):
                connection.execute(text(f"UPDATE {table} SET {column} = 'bogus'"))  # noqa: S608 (names are ours)
    finally:
        database.dispose()
