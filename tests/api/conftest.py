from __future__ import annotations

import shutil
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
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

from api.core.migrate import migrate_database
from api.core.settings import ApiSettings
from api.main import create_app
from tests.api.factories import SECRET, Factory

with warnings.catch_warnings():  # starlette's notice about httpx2, which is not installed here
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

FINANCE_ALL = ("finance_read", "finance_write", "ops_read")


def _admin_engine(server_url: str) -> Engine:
    return create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def _database(server_url: str, name: str) -> str:
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated from empty once per session; each test's is a copy of the file."""
    path = tmp_path_factory.mktemp("api-template") / "settld-api.sqlite3"
    assert migrate_database(f"sqlite:///{path}") is True
    assert not path.with_name(path.name + "-wal").exists()  # checkpointed: the file is the database
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_server_url: str) -> Iterator[str]:
    """A database migrated from empty once per session; each test's database is a copy of it (CREATE
    DATABASE ... TEMPLATE), which spares every Postgres test a full migration."""
    name = f"settld_api_template_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine(postgres_server_url)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        assert migrate_database(_database(postgres_server_url, name)) is True
        yield name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated database, once per backend: a SQLite file, and a new database (created and
    dropped around the test) on the session's PostgreSQL server."""
    yield from migrated_database(request, tmp_path)


def migrated_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The body of `database_url` for `request.param` ("sqlite" or "postgres"), for a test module that
    parametrizes the backends with marks of its own."""
    if request.param == "sqlite":
        path = tmp_path / "settld-api.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
        assert migrate_database(url) is False  # already at head: a copy of the migrated template
        yield url
        return
    server = request.getfixturevalue("postgres_server_url")
    template = request.getfixturevalue("postgres_template")
    name = f"settld_api_test_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine(server)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        url = _database(server, name)
        assert migrate_database(url) is False  # already at head: a copy of the migrated template
        yield url
    finally:
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
def artifacts_dir(tmp_path: Path) -> Path:
    return tmp_path / "artifacts"


@pytest.fixture
def closing_client(database_url: str, artifacts_dir: Path) -> Iterator[TestClient]:
    """A client of an app whose period closes read drafts from and write files under `artifacts_dir`."""
    with TestClient(
        create_app(ApiSettings(database_url=database_url, artifacts_dir=artifacts_dir))
    ) as client:
        yield client


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
    # The first answer may wait on a machine busy with the other worker's pipeline runs (a 5 s read timeout
    # once failed make test): the harness waits longer than httpx's default; the tests keep their own.
    assert httpx.get(base_url + "/readyz", timeout=30).json()["database"] == "ok"
    yield base_url
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def webhook_client(database_url: str) -> Iterator[TestClient]:
    settings = ApiSettings(
        database_url=database_url, stripe_webhook_secret=SECRET, stripe_webhook_tolerance=300
    )
    with TestClient(create_app(settings)) as client:
        yield client
