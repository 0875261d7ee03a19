"""A 500, if one ever happens, is a logged problem document that closes its connection properly.

Before, the catch-all handler answered the 500 and the exception went on to the server, which logged it
again and dropped the connection: a client that kept the connection alive saw its next request reset.
"""

from __future__ import annotations

import http.client
import json
import logging
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

BROKEN = "/probe/broken"


@pytest.fixture
def broken_app(app: FastAPI) -> FastAPI:
    """The app with a route that fails as a bug would (registered as a new domain's route would be)."""
    router = APIRouter()

    @router.get(BROKEN)
    def broken() -> dict:
        raise RuntimeError("a bug")

    app.include_router(router)
    return app


def test_an_unhandled_error_is_a_500_problem_that_closes_the_connection(
    broken_app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(broken_app) as client:  # raises whatever escapes the app: nothing may
        response = client.get(BROKEN, headers={"X-Request-Id": "req-broken-1"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["connection"] == "close"
    assert response.headers["x-request-id"] == "req-broken-1"
    problem = response.json()
    assert (problem["code"], problem["request_id"]) == ("INTERNAL_ERROR", "req-broken-1")
    assert "a bug" not in response.text  # logged, not told
    logged = [r for r in caplog.records if r.name == "api.errors" and r.levelno == logging.ERROR]
    assert len(logged) == 1 and "req-broken-1" in logged[0].getMessage()


@pytest.fixture
def connection(broken_app: FastAPI, live_server: str) -> Iterator[http.client.HTTPConnection]:
    address = urlsplit(live_server)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    yield connection
    connection.close()


def test_a_keep_alive_client_goes_on_after_a_500(connection: http.client.HTTPConnection) -> None:
    """Served by uvicorn: the 500 says `Connection: close` and arrives whole, so the client opens a new
    connection for its next request instead of writing into one the server dropped."""
    connection.request("GET", BROKEN, headers={"Connection": "keep-alive"})
    failed = connection.getresponse()
    body = failed.read()
    assert failed.status == 500 and failed.getheader("connection") == "close"
    assert len(body) == int(failed.getheader("content-length")) and b'"INTERNAL_ERROR"' in body
    for _ in range(3):
        connection.request("GET", "/readyz")
        healthy = connection.getresponse()
        assert (healthy.status, json.loads(healthy.read())["database"]) == (200, "ok")
