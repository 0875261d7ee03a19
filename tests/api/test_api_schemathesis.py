"""Property-based checks of the OpenAPI document against the app in-process: no input produces a 5xx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from api.core.database import Database
from api.core.migrate import migrate_database
from api.core.settings import ApiSettings
from api.main import create_app
from api.reconciliation.schemas import EXAMPLE_TRIAGE_KEY
from tests.api.factories import Factory, mismatch_row

# The schema is loaded at collection time (schemathesis' lazy fixture loader does not support this pytest),
# so the app is built here and pointed at a fresh database by the fixture below before any case runs.
app = create_app(ApiSettings(database_url="sqlite:///:memory:", check_schema_on_startup=False))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.sqlite3'}"
    migrate_database(url)
    factory = Factory(url)
    key = factory.key("acme", "finance_read", "finance_write", "ops_read")
    # The schema's example triage key is a real mismatch, so generated writes reach the state machine.
    factory.publish([{**mismatch_row("acme", "fuzz"), "triage_key": EXAMPLE_TRIAGE_KEY}])
    app.state.database = Database(url)
    yield key
    app.state.database.dispose()


@schema.parametrize()
# Derandomized: the same 25 inputs per operation on every run, so a red CI names a change, not a draw (a
# random draw found the listing PATCH's null status once). Raise max_examples locally to explore further.
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None,
          derandomize=True)  # fmt: skip
def test_no_input_produces_a_server_error(case: schemathesis.Case, token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error])
