"""Issue 28's hostile inputs, each pinned: what made a 500 or was stored is a 4xx problem document now.

The idempotency layer hashed every write's body before validation, outside its error handling: a lone
surrogate or `1e999` anywhere in a body, or a body nested 50,000 deep, was a 500 on triage, period close
and reopen (and deep nesting on the public webhook). NUL in reopen's `reason` was stored on SQLite (and a
500 on Postgres). Limits on body size, depth and text length are settings.
"""

from __future__ import annotations

import base64
import inspect
import json
from typing import Annotated, Any, get_args, get_origin

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError

from api.core.request_json import JsonLimits, load_json, nests_deeper_than
from api.core.schemas import RequestModel
from api.core.settings import ApiSettings
from api.main import create_app
from tests.api.factories import URL, Factory, auth, mismatch_row

TRIAGE = "/ops/finance/reconciliation/triage"
CLOSE = "/ops/finance/periods/2026-09/close"
REOPEN = "/ops/finance/periods/2026-09/reopen"
DEEP = "[" * 50_000 + "]" * 50_000
SURROGATE = '"\\ud800"'


@pytest.fixture
def triage_key(factory: Factory) -> str:
    row = mismatch_row("acme", "hostile")
    factory.publish([row])
    return row["triage_key"]


def write_body(path: str, triage_key: str, extra: str) -> str:
    """A valid body of the route with one more member, `extra` (JSON text)."""
    valid = {
        TRIAGE: f'"triage_key": "{triage_key}", "status": "acknowledged", ',
        REOPEN: '"reason": "late", ',
    }
    return "{" + valid.get(path, "") + extra + "}"


def post(client: TestClient, path: str, body: str | bytes, token: str) -> Any:
    content = body.encode() if isinstance(body, str) else body
    return client.post(path, content=content, headers=auth(token, **{"Content-Type": "application/json"}))


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code, problem
    return problem


# A member spliced into a valid body (JSON text), and the one refusal it must get.
HOSTILE_MEMBERS = {
    "surrogate_nested": (f'"notes_x": {{"deep": [1, {SURROGATE}]}}', "string_unicode_surrogate"),
    "surrogate_key": (f"{SURROGATE}: 1", "string_unicode_surrogate"),
    "float_overflow": ('"x": [1e999]', "number_not_finite"),
    "nan": ('"x": NaN', "number_not_finite"),
    "minus_infinity": ('"x": -Infinity', "number_not_finite"),
    "int64_max_plus_1": (f'"x": {2**63}', "number_out_of_range"),
    "int64_min_minus_1": (f'"x": {-(2**63) - 1}', "number_out_of_range"),
    "nul": ('"x": "a\\u0000b"', "string_nul"),
    "duplicated_key": ('"x": 1, "x": 2', "key_duplicated"),
    "long_text": (f'"x": "{"a" * 16_385}"', "string_too_long"),
}


@pytest.mark.parametrize("path", [TRIAGE, CLOSE, REOPEN])
def test_a_write_body_that_cannot_be_hashed_or_stored_is_422(
    client: TestClient, token: str, triage_key: str, path: str
) -> None:
    refused = {}
    for hostile, (extra, _) in HOSTILE_MEMBERS.items():
        response = post(client, path, write_body(path, triage_key, extra), token)
        refused[hostile] = assert_problem(response, 422, "VALIDATION_FAILED")["errors"]
    assert {hostile: [error["type"] for error in errors] for hostile, errors in refused.items()} == {
        hostile: [error_type] for hostile, (_, error_type) in HOSTILE_MEMBERS.items()
    }
    assert all(errors[0]["loc"][0] == "body" for errors in refused.values())


@pytest.mark.parametrize("path", [TRIAGE, CLOSE, REOPEN, URL, "/healthz"])
def test_deep_nesting_is_400_on_every_route(client: TestClient, token: str, path: str) -> None:
    problem = assert_problem(post(client, path, DEEP, token), 400, "JSON_TOO_DEEP")
    assert problem["max_json_depth"] == 64


@pytest.mark.parametrize("path", [TRIAGE, CLOSE, REOPEN])
def test_a_write_body_that_is_not_json_is_422(client: TestClient, token: str, path: str) -> None:
    for body in (b'{"reason": "\xff"}', b"\xff\xfe{}", b"{", b"not json", b'{"x": ' + b"9" * 5000 + b"}"):
        problem = assert_problem(post(client, path, body, token), 422, "VALIDATION_FAILED")
        # json.loads converts at most 4300 digits: where FastAPI parses a body model that is its refusal
        assert problem["errors"][0]["type"] in ("json_invalid", "number_out_of_range"), body


@pytest.mark.parametrize("period", ["2026%0009", "9" * 600], ids=["nul", "longer_than_the_claim_column"])
def test_a_write_to_a_path_the_claim_cannot_store_is_422(client: TestClient, token: str, period: str) -> None:
    """The idempotency claim stores the path before the route validates it: NUL in it, or a path longer
    than the column, was a 500 on Postgres."""
    response = client.post(
        f"/ops/finance/periods/{period}/close", headers=auth(token, **{"Idempotency-Key": "k1"})
    )
    assert assert_problem(response, 422, "VALIDATION_FAILED")["errors"][0]["loc"] == ["path"]


def test_nul_in_a_reopen_reason_is_refused_not_stored(
    factory: Factory, closing_client: TestClient, artifacts_dir, token: str
) -> None:
    factory.green_verdict("acme", "2026-09", artifacts=artifacts_dir)
    assert closing_client.post(CLOSE, headers=auth(token)).status_code == 200
    refused = closing_client.post(REOPEN, json={"reason": "late\x00 data"}, headers=auth(token))
    problem = assert_problem(refused, 422, "VALIDATION_FAILED")
    assert problem["errors"][0]["loc"] == ["body", "reason"]
    close = closing_client.get("/ops/finance/periods/2026-09", headers=auth(token)).json()["close"]
    assert (close["status"], close["reopen_reason"]) == ("closed", None)


def test_limits_are_settings(database_url: str, token: str, triage_key: str) -> None:
    settings = ApiSettings(
        database_url=database_url, max_body_bytes=300, max_json_depth=3, max_string_length=10
    )
    with TestClient(create_app(settings)) as client:
        too_large = post(client, TRIAGE, write_body(TRIAGE, triage_key, f'"x": "{"a" * 300}"'), token)
        assert assert_problem(too_large, 413, "BODY_TOO_LARGE")["max_body_bytes"] == 300
        assert too_large.headers["connection"] == "close"  # the rest of the body was not read
        streamed = client.post("/healthz", content=iter([b"[" * 200, b"]" * 200]))  # chunked: no length
        assert_problem(streamed, 413, "BODY_TOO_LARGE")
        assert_problem(post(client, URL, "[[[[]]]]", token), 400, "JSON_TOO_DEEP")
        long_text = post(client, TRIAGE, write_body(TRIAGE, triage_key, '"x": "aaaaaaaaaaa"'), token)
        assert assert_problem(long_text, 422, "VALIDATION_FAILED")["errors"][0]["type"] == "string_too_long"


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SETTLD_API_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("SETTLD_API_MAX_JSON_DEPTH", "8")
    monkeypatch.setenv("SETTLD_API_MAX_STRING_LENGTH", "100")
    settings = ApiSettings(database_url="sqlite:///unused.sqlite3")
    assert (settings.max_body_bytes, settings.json_limits) == (
        2048,
        JsonLimits(max_depth=8, max_string_length=100),
    )


AT = {"t": "2026-10-01T06:00:00+00:00"}


@pytest.mark.parametrize(
    ("path", "document"),
    [
        ("/ops/finance/invoices", {"o": "invoices", "v": ["2026-09\x00", "USD"]}),
        ("/ops/finance/invoices", {"o": "invoices", "v": ["2026-09", "\ud800"]}),
        ("/ops/audit", {"o": "audit_log", "v": [AT, 2**63]}),
        ("/ops/audit", {"o": "audit_log", "v": [AT, 1e999]}),
        ("/ops/audit", {"o": "audit_log", "v": [AT, [[[[[[1]]]]]]]}),
    ],
    ids=["nul", "surrogate", "int64_overflow", "float_overflow", "deep"],
)
def test_a_cursor_carrying_unstorable_values_is_cursor_invalid(
    client: TestClient, token: str, path: str, document: dict
) -> None:
    """A cursor's values reach the SQL: before, these were 500s (on one engine or both)."""
    cursor = base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")
    response = client.get(path, params={"cursor": cursor}, headers=auth(token))
    assert_problem(response, 422, "CURSOR_INVALID")


def test_problem_documents_are_ascii_whatever_the_input_named(client: TestClient, token: str) -> None:
    response = client.get("/ops/audit", params={"actión": "é"}, headers=auth(token))  # an unknown parameter
    assert_problem(response, 422, "VALIDATION_FAILED")
    assert response.content.isascii()


def test_the_depth_measure_ignores_brackets_in_strings_and_escapes() -> None:
    assert not nests_deeper_than(b'{"a": "[[[[[[[[", "b": "\\"[[[[[[[[\\\\"}', 2)
    assert nests_deeper_than(b'{"a": "\\\\", "b": [[[]]]}', 3)
    assert nests_deeper_than(b"[" * 5, 4) and not nests_deeper_than(b"[" * 4, 4)
    assert load_json(b'{"a": [1, 2.5, "x", null, true]}', JsonLimits(3, 10)) == {
        "a": [1, 2.5, "x", None, True]
    }


class Nested(RequestModel):
    text: str | None = None
    texts: list[str] = []
    mapping: dict[str, str] = {}


@pytest.mark.parametrize(
    "fields",
    [{"text": "a\x00"}, {"texts": ["ok", "\x00"]}, {"mapping": {"k\x00": "v"}}, {"mapping": {"k": "\ud800"}}],
)
def test_request_models_refuse_unstorable_text_in_any_field(fields: dict) -> None:
    with pytest.raises(ValidationError):
        Nested(**fields)


def _models(annotation: Any) -> list[type[BaseModel]]:
    if get_origin(annotation) is Annotated:
        return _models(get_args(annotation)[0])
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models(arg)]


def test_every_route_takes_its_body_and_query_models_as_request_models(app: FastAPI) -> None:
    """So NUL is refused on every text field of every route, a route added later included."""
    taken = {
        (context.path, model.__name__): issubclass(model, RequestModel)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        for parameter in inspect.signature(context.original_route.endpoint, eval_str=True).parameters.values()
        for model in _models(parameter.annotation)
    }
    assert {name for _, name in taken} >= {"TriageUpsert", "ReopenRequest", "QueueQuery", "AuditQuery"}
    assert [key for key, derived in taken.items() if not derived] == []
