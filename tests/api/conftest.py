from __future__ import annotations

import os
import socket
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import create_engine, make_url, text

from api.core.migrate import migrate_database
from api.core.settings import ApiSettings, normalise_database_url
from api.main import create_app
from tests.api.factories import Factory

with warnings.catch_warnings():  # starlette's notice about httpx2, which is not installed here
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

FINANCE_ALL = ("finance_read", "finance_write", "ops_read")


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A migrated SQLite file; or, when SETTLD_API_TEST_POSTGRES_URL names a server, a fresh Postgres database."""
    server = os.environ.get("SETTLD_API_TEST_POSTGRES_URL")
    if not server:
        url = f"sqlite:///{tmp_path / 'settld-api.sqlite3'}"
        migrate_database(url)
        yield url
        return
    name = f"settld_api_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_database_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_database_url(server)).set(database=name).render_as_string(hide_password=False)
    migrate_database(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def factory(database_url: str) -> Factory:
    return Factory(database_url)


@pytest.fixture
def app(database_url: str) -> FastAPI:
    return create_app(ApiSettings(database_url=database_url))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def token(factory: Factory) -> str:
    """finance_read + finance_write + ops_read on tenant `acme`."""
    return factory.key("acme", *FINANCE_ALL)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 and a free port, in a thread; yields its base URL."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    assert httpx.get(base_url + "/healthz").json() == {"ok": True, "database": "ok"}
    yield base_url
    server.should_exit = True
    thread.join(timeout=10)
