"""`settld api serve|migrate|purge|seed-policies` and `settld keys create|revoke|list`: the operator API from the command line.

Two typer apps for the main CLI: `app.add_typer(api_app, name="api")` and `app.add_typer(keys_app, name="keys")`.
`keys create` prints the new bearer token once, alone on its last line, so scripts can take `tail -n 1`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from api.core.settings import ApiSettings

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="API database URL (default: SETTLD_API_DATABASE_URL or the SQLite file)."
    ),
]

api_app = typer.Typer(
    help="The operator API (FastAPI): serve it, migrate its database.", no_args_is_help=True
)
keys_app = typer.Typer(
    help="API keys of tenants and of the platform: create, rotate, revoke, list.", no_args_is_help=True
)
console = Console()


def _settings(database_url: str | None) -> ApiSettings:
    # Imported here, like every api import below, to keep `settld --help` fast.
    from api.core.settings import ApiSettings

    return ApiSettings(database_url=database_url) if database_url else ApiSettings()


@api_app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes (uvicorn's).")] = 1,
    database_url: DatabaseUrl = None,
) -> None:
    """Serve the API with uvicorn (the database must be migrated: `settld api migrate`; OpenAPI at /docs).

    It starts while the database is down and answers 503 until it is back: /healthz is liveness (the
    process), /readyz readiness (the database)."""
    import os

    import uvicorn

    _settings(database_url)  # a bad URL or setting fails here, once, not in every worker
    if database_url:  # each worker builds its app from the environment (api.main:create_app)
        os.environ["SETTLD_API_DATABASE_URL"] = database_url
    uvicorn.run("api.main:create_app", factory=True, host=host, port=port, workers=workers)


@api_app.command()
def purge(
    database_url: DatabaseUrl = None,
    retention_hours: Annotated[
        float | None,
        typer.Option(
            min=0, help="Keep records this many hours (default: SETTLD_API_IDEMPOTENCY_RETENTION_HOURS, 24)."
        ),
    ] = None,
) -> None:
    """Delete idempotency records older than the retention (their keys are no longer replayed)."""
    from datetime import timedelta

    from api.core.database import utc_now
    from api.idempotency.purge import purge_idempotency_records

    settings = _settings(database_url)
    retention = (
        settings.idempotency_retention if retention_hours is None else timedelta(hours=retention_hours)
    )
    now = utc_now()
    deleted = purge_idempotency_records(settings.database_url, now=now, retention=retention)
    console.print(
        f"Purged {deleted} idempotency record(s) stored at or before {_utc_text(now - retention)} "
        f"(retention {retention.total_seconds() / 3600:g} h)."
    )


@api_app.command()
def migrate(database_url: DatabaseUrl = None) -> None:
    """Apply the API database migrations (idempotent): the deploy step, run before serve and the pipeline."""
    from api.core.migrate import head_revision, migrate_database

    settings = _settings(database_url)
    applied = migrate_database(settings.database_url)
    state = "migrated to" if applied else "already at"
    console.print(f"API database {state} revision {head_revision()}.")


@keys_app.command("create")
def create_key(
    scope: Annotated[
        list[str], typer.Option(help="Scope to grant; repeat for several (finance_read, finance_write, ...).")
    ],
    tenant: Annotated[str | None, typer.Option(help="Tenant id (created if missing).")] = None,
    platform: Annotated[
        bool, typer.Option("--platform", help="A platform key: bootstraps tenants and manages their keys.")
    ] = False,
    description: Annotated[str | None, typer.Option(help="What the key is for.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an API key and print its bearer token (shown once) on the last line."""
    from api.core.migrate import database_at_head
    from api.tenants.keys import create_platform_key
    from api.tenants.service import TenantError, create_key, ensure_tenant

    if platform == (tenant is not None):
        raise typer.BadParameter("give either --tenant or --platform")
    created_tenant = False
    try:
        with (
            database_at_head(_settings(database_url).database_url) as database,
            database.transaction() as session,
        ):
            if tenant is None:
                key = create_platform_key(session, scopes=scope, description=description, request_id="cli")
            else:
                created_tenant = ensure_tenant(session, tenant_id=tenant, request_id="cli")
                key = create_key(
                    session, tenant_id=tenant, scopes=scope, description=description, request_id="cli"
                )
    except TenantError as error:
        raise typer.BadParameter(str(error)) from error
    if created_tenant:
        console.print(f"Created tenant [bold]{tenant}[/bold].")
    kind = "platform key" if platform else "key"
    console.print(
        f"Created {kind} [bold]{key.key_id}[/bold] with scopes {', '.join(key.scopes)}. Token (shown once):"
    )
    typer.echo(key.token)


@keys_app.command("rotate")
def rotate_key(
    key_id: Annotated[str, typer.Argument(help="Key id (the part between `sk_` and the dot).")],
    grace_seconds: Annotated[
        int | None,
        typer.Option(
            min=0, help="How long the old key keeps working (default SETTLD_API_KEY_ROTATION_GRACE_SECONDS)."
        ),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Issue the key's successor (its token printed once, on the last line); the old key keeps working for
    the grace period."""
    from datetime import timedelta

    from api.audit.service import AuditContext
    from api.core.migrate import database_at_head
    from api.tenants.keys import KeySettings
    from api.tenants.keys import rotate_key as rotate
    from api.tenants.service import TenantError, find_key

    grace = timedelta(
        seconds=grace_seconds if grace_seconds is not None else KeySettings().key_rotation_grace_seconds
    )
    try:
        with (
            database_at_head(_settings(database_url).database_url) as database,
            database.transaction() as session,
        ):
            tenant_id = find_key(session, key_id=key_id).tenant_id
            key, old_revoked_at = rotate(session, tenant_id=tenant_id, key_id=key_id, grace=grace,
                                         context=AuditContext(tenant_id, None, "cli"))  # fmt: skip
    except TenantError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    console.print(
        f"Key {key_id} of tenant {tenant_id} is replaced by [bold]{key.key_id}[/bold]; it stops working at "
        f"{_utc_text(old_revoked_at)}. Token (shown once):"
    )
    typer.echo(key.token)


@keys_app.command("revoke")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="Key id (the part between `sk_` and the dot).")],
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke an API key; requests using it get 401 from now on."""
    from api.core.migrate import database_at_head
    from api.tenants.service import TenantError, revoke_key

    try:
        with (
            database_at_head(_settings(database_url).database_url) as database,
            database.transaction() as session,
        ):
            key = revoke_key(session, key_id=key_id, request_id="cli")
    except TenantError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    assert key.revoked_at is not None
    console.print(f"Key {key.key_id} of tenant {key.tenant_id} revoked at {_utc_text(key.revoked_at)}.")


@keys_app.command("list")
def list_keys(
    tenant: Annotated[str, typer.Option(help="Tenant id.")],
    database_url: DatabaseUrl = None,
) -> None:
    """List a tenant's keys (never their secrets)."""
    from api.core.migrate import database_at_head
    from api.tenants.service import list_keys

    with database_at_head(_settings(database_url).database_url) as database, database.session() as session:
        keys = list_keys(session, tenant_id=tenant)
    table = Table(title=f"API keys of {tenant}")
    table.add_column("key_id", no_wrap=True)
    table.add_column("scopes")
    table.add_column("description")
    table.add_column("created_at", no_wrap=True)
    table.add_column("expires_at", no_wrap=True)
    table.add_column("revoked_at", no_wrap=True)
    for key in keys:
        revoked = _utc_text(key.revoked_at) if key.revoked_at else "-"
        expires = _utc_text(key.expires_at) if key.expires_at else "-"
        table.add_row(
            key.key_id,
            " ".join(key.scopes),
            key.description or "",
            _utc_text(key.created_at),
            expires,
            revoked,
        )
    console.print(table)


def _utc_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@api_app.command("seed-policies")
def seed_policies(
    landing: Annotated[
        Path | None, typer.Option(help="The generated landing zone (default: SETTLD_LANDING_DIR).")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Seed the sample landing zone's settlement policy registry (the three presets, the balanced one
    active, high autonomy canary at 10 %) into the API database, as of the first period's start."""
    import json

    from devtools.sample_data.policies import seed_registry
    from settld.core import period_bounds
    from settld.settings import Settings

    manifest = json.loads(((landing or Settings().landing_dir) / "manifest.json").read_text())
    registry = manifest["policy_registry"]
    at = period_bounds(manifest["arguments"]["periods"][0])[0]
    counts = seed_registry(_settings(database_url).database_url, registry["tenants"], at=at)
    console.print(
        f"Settlement policy registry: {counts['registered']} version(s) registered, {counts['moved']} rollout "
        f"move(s) for {len(registry['tenants'])} tenant(s); {registry['unregistered']} settlement(s) carry a "
        "policy hash no registered version has (the period gate's policies.settlement_hashes_registered)."
    )
