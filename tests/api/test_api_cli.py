"""`settld api ...` and `settld keys ...`, mounted the way the main CLI mounts them."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.core.migrate import MIGRATE_COMMAND, SchemaOutdated, head_revision
from api.core.settings import ApiSettings
from api.main import create_app
from settld.cli.api_commands import api_app, keys_app
from tests.api.factories import auth

cli = typer.Typer()
cli.add_typer(api_app, name="api")
cli.add_typer(keys_app, name="keys")
runner = CliRunner()


def migrated(url: str) -> str:
    result = runner.invoke(cli, ["api", "migrate", "--database-url", url])
    assert result.exit_code == 0, result.output
    return url


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    first = runner.invoke(cli, ["api", "migrate", "--database-url", url])
    assert first.exit_code == 0, first.output
    assert f"migrated to revision {head_revision()}" in first.output
    second = runner.invoke(cli, ["api", "migrate"], env={"SETTLD_API_DATABASE_URL": url})
    assert second.exit_code == 0 and f"already at revision {head_revision()}" in second.output


def test_only_migrate_changes_the_schema(tmp_path: Path) -> None:
    """Everything else refuses a database that is not at head, naming the deploy step."""
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    refused = runner.invoke(
        cli, ["keys", "create", "--tenant", "acme", "--scope", "ops_read", "--database-url", url]
    )
    assert isinstance(refused.exception, SchemaOutdated) and MIGRATE_COMMAND in str(refused.exception)
    assert "API_SCHEMA_OUTDATED" in str(refused.exception)
    with pytest.raises(SchemaOutdated), TestClient(create_app(ApiSettings(database_url=url))):
        pass  # the app refuses to start
    assert (
        migrated(url)
        and runner.invoke(cli, ["keys", "list", "--tenant", "acme", "--database-url", url]).exit_code == 0
    )


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    url = migrated(f"sqlite:///{tmp_path / 'keys.sqlite3'}")
    created = runner.invoke(
        cli,
        ["keys", "create", "--tenant", "acme", "--scope", "finance_read", "--scope", "ops_read",
         "--description", "analyst laptop", "--database-url", url],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    lines = created.output.rstrip("\n").split("\n")
    token = lines[-1]
    assert token.startswith("sk_") and token == token.strip() and " " not in token
    assert "Created tenant acme" in created.output
    key_id = token[3:].split(".")[0]

    with TestClient(create_app(ApiSettings(database_url=url))) as client:
        assert client.get("/ops/audit", headers=auth(token)).status_code == 200
        assert client.get("/ops/finance/reconciliation/queue", headers=auth(token)).status_code == 200
        assert (
            client.post("/ops/finance/reconciliation/triage", json={}, headers=auth(token)).status_code == 403
        )

        listed = runner.invoke(cli, ["keys", "list", "--tenant", "acme", "--database-url", url])
        assert listed.exit_code == 0 and key_id in listed.output and token[24:] not in listed.output

        revoked = runner.invoke(cli, ["keys", "revoke", key_id, "--database-url", url])
        assert revoked.exit_code == 0, revoked.output
        assert client.get("/ops/audit", headers=auth(token)).json()["code"] == "AUTH_KEY_REVOKED"
    again = runner.invoke(cli, ["keys", "revoke", key_id, "--database-url", url])
    assert again.exit_code == 0  # revoking twice is harmless

    second = runner.invoke(
        cli, ["keys", "create", "--tenant", "acme", "--scope", "finance_write", "--database-url", url]
    )
    assert second.exit_code == 0 and "Created tenant" not in second.output


def test_keys_refuse_bad_input(tmp_path: Path) -> None:
    url = migrated(f"sqlite:///{tmp_path / 'bad.sqlite3'}")
    bad_scope = runner.invoke(
        cli, ["keys", "create", "--tenant", "acme", "--scope", "admin", "--database-url", url]
    )
    assert bad_scope.exit_code == 2 and "scopes must be among" in bad_scope.output
    bad_tenant = runner.invoke(
        cli, ["keys", "create", "--tenant", "a b", "--scope", "ops_read", "--database-url", url]
    )
    assert bad_tenant.exit_code == 2
    unknown = runner.invoke(cli, ["keys", "revoke", "0123456789abcdef0123", "--database-url", url])
    assert unknown.exit_code == 1 and "does not exist" in unknown.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(*args: str) -> Iterator[str]:
    """`settld api serve ARGS` on a free port until /healthz answers; yields the base URL."""
    port = _free_port()
    code = "from settld.cli.api_commands import api_app; api_app()"
    server = subprocess.Popen([sys.executable, "-c", code, "serve", "--port", str(port), *args],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base_url}/healthz").raise_for_status()
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, (
                    server.stderr and server.stderr.read()
                )
                time.sleep(0.1)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_serve_starts_uvicorn_with_the_app_in_workers(tmp_path: Path) -> None:
    url = migrated(f"sqlite:///{tmp_path / 'serve.sqlite3'}")
    with serving("--workers", "2", "--database-url", url) as base_url:
        assert httpx.get(f"{base_url}/healthz").json() == {"ok": True}
        assert httpx.get(f"{base_url}/readyz").json()["database"] == "ok"
        assert httpx.get(f"{base_url}/docs").status_code == 200


def test_serve_starts_and_answers_503_while_the_database_is_down() -> None:
    """Nothing listens on the database's port: the API starts anyway, is alive but not ready, and every
    request that needs the database is a 503 problem with Retry-After, fast."""
    down = f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/settld"
    with serving("--database-url", down) as base_url:
        assert httpx.get(f"{base_url}/healthz").json() == {"ok": True}
        for path in ("/readyz", "/ops/audit"):
            started = time.monotonic()
            response = httpx.get(base_url + path, headers=auth("sk_0123456789abcdef0123." + "a" * 43))
            assert time.monotonic() - started < 3.0
            assert (response.status_code, response.json()["code"]) == (503, "DATABASE_UNAVAILABLE")
            assert response.headers["retry-after"] == "1"
            assert response.headers["content-type"] == "application/problem+json"
