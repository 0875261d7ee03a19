"""The operator API's database as every command needs it: the one URL `settld.settings` resolves (the SQLite
file under warehouse/ unless `SETTLD_API_DATABASE_URL` says otherwise), usable, or refused with the
setting or the command that fixes it. `settld run`, `settld gate`, `settld mismatches` and `settld triage`
check it before they start, so nothing is skipped or half-done because of it.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from settld.settings import Settings, display_url, sqlite_path

API_DATABASE_SETTING = "SETTLD_API_DATABASE_URL"


class ApiDatabaseUnusable(RuntimeError):
    """The API database cannot be used as it is; the message names the setting or the command to run."""


def usable_api_database(settings: Settings) -> str:
    """The API database's SQLAlchemy URL when it is set, exists and is migrated to head; otherwise raise
    ApiDatabaseUnusable saying what to do (`SETTLD_API_DATABASE_URL`, or `settld api migrate`)."""
    from sqlalchemy.exc import SQLAlchemyError

    from api.core.migrate import MIGRATE_COMMAND, SchemaOutdated, assert_schema_at_head
    from api.core.settings import normalise_database_url

    try:
        url = normalise_database_url(settings.api_database_url)
    except ValueError as error:
        raise ApiDatabaseUnusable(
            f"{API_DATABASE_SETTING} is {settings.api_database_url!r}: {error}; unset it to use the default "
            f"(the SQLite file under {settings.home / 'warehouse'}) or set it to a database URL"
        ) from error
    path = sqlite_path(url)
    if path and not Path(path).is_file():
        raise ApiDatabaseUnusable(
            f"the operator API's database {path} ({API_DATABASE_SETTING}) does not exist yet: "
            f"run `{MIGRATE_COMMAND}` first (the deploy step; `make demo` runs it)"
        )
    try:
        assert_schema_at_head(url)
    except SchemaOutdated as error:
        raise ApiDatabaseUnusable(str(error)) from error
    except SQLAlchemyError as error:
        raise ApiDatabaseUnusable(
            f"{API_DATABASE_SETTING}: cannot open the operator API's database {display_url(url)}: "
            f"{error.__class__.__name__}: {str(error).splitlines()[0]}"
        ) from error
    return url


def require_api_database(console: Console, settings: Settings) -> str:
    """`usable_api_database`, or the reason printed and exit 1."""
    try:
        return usable_api_database(settings)
    except ApiDatabaseUnusable as error:
        console.print(f"[red]The operator API's database is not usable:[/] {error}", soft_wrap=True)
        raise typer.Exit(1) from error
