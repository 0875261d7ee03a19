"""The deploy step, as the tools that build a scratch API database (the billing smoke, the API bench) run it."""

from __future__ import annotations

import subprocess
import sys


def deploy_migrations(database_url: str) -> None:
    """`settld api migrate`: the only step that changes the API database's schema (everything else refuses
    a database not at head with API_SCHEMA_OUTDATED)."""
    command = [sys.executable, "-m", "settld.cli.main", "api", "migrate", "--database-url", database_url]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)
