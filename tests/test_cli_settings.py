"""One default per setting: settld.settings decides, the API's settings take it from there, and a command
that cannot use the operator API's database stops before it starts and names the setting or the command
that fixes it (issue 31). `settld run` on a migrated database runs every stage (the pipeline fixture's
output lists them); `settld stripe replay` without a key refuses to start."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from settld.cli.main import app

STAGE_JOBS = ("load_landing", "check_raw_quality", "ingest_billing", "build_warehouse", "write_reports",
              "publish_to_operator_api", "evaluate_period_gate")  # fmt: skip


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A SETTLD_HOME with an (empty) landing zone and no other setting in the environment."""
    for name in ("SETTLD_WAREHOUSE_URL", "SETTLD_LANDING_DIR", "SETTLD_ARTIFACTS_DIR", "SETTLD_API_DATABASE_URL",
                 "SETTLD_API_ARTIFACTS_DIR", "STRIPE_API_KEY", "DAGSTER_HOME"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SETTLD_HOME", str(tmp_path))
    (tmp_path / "data" / "landing").mkdir(parents=True)
    return tmp_path


def test_every_location_defaults_under_the_home_and_the_api_takes_its_database_from_there(home: Path) -> None:
    from api.core.settings import ApiSettings
    from settld.settings import REPO_ROOT, Settings

    settings = Settings()
    assert settings.warehouse_url == str(home / "warehouse" / "settld.duckdb")
    assert (settings.landing_dir, settings.artifacts_dir) == (home / "data" / "landing", home / "artifacts")
    assert settings.api_database_url == f"sqlite:///{home / 'warehouse' / 'settld-api.sqlite3'}"
    api = ApiSettings()
    assert (api.database_url, api.artifacts_dir) == (settings.api_database_url, settings.artifacts_dir)
    assert (
        Settings(home=REPO_ROOT).api_database_url
        == f"sqlite:///{REPO_ROOT / 'warehouse' / 'settld-api.sqlite3'}"
    )
    # A value given wins over the default; an explicit None means "the default".
    assert Settings(warehouse_url="/x/w.duckdb", api_database_url=None).warehouse_url == "/x/w.duckdb"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, " ".join(result.output.split())


def test_run_stops_before_any_stage_when_the_api_database_was_never_migrated(home: Path) -> None:
    code, output = _run("run", "--as-of", "2026-11-03T00:00:00Z")
    assert code == 1
    assert "settld api migrate" in output and "settld-api.sqlite3" in output
    assert not any(job in output for job in ("done", "FAILED"))
    assert not (home / "warehouse" / "settld-api.sqlite3").exists()  # the check creates nothing


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("", "SETTLD_API_DATABASE_URL is ''"),
        ("postgresql://nobody:pw-S3cret@127.0.0.1:1/nothing", "SETTLD_API_DATABASE_URL: cannot open"),
    ],
)
def test_run_stops_naming_the_setting_when_the_api_database_is_unusable(
    home: Path, monkeypatch: pytest.MonkeyPatch, value: str, named: str
) -> None:
    monkeypatch.setenv("SETTLD_API_DATABASE_URL", value)
    code, output = _run("run", "--as-of", "2026-11-03T00:00:00Z")
    assert code == 1 and named in output, output
    assert "S3cret" not in output


def test_run_stops_naming_the_migrate_command_when_the_schema_is_not_at_head(home: Path) -> None:
    (home / "warehouse").mkdir()
    (home / "warehouse" / "settld-api.sqlite3").write_bytes(b"")  # a database with no schema at all
    code, output = _run("run", "--as-of", "2026-11-03T00:00:00Z")
    assert code == 1 and "API_SCHEMA_OUTDATED" in output and "settld api migrate" in output


def test_commands_that_use_the_api_database_say_what_to_run(home: Path) -> None:
    for args in (["gate", "--period", "2026-10"],
                 ["mismatches", "--period", "2026-10"], ["period", "close", "2026-10", "--tenant", "tnt_acme"]):  # fmt: skip
        code, output = _run(*args)
        assert code == 1 and "run `settld api migrate` first" in output, (args, output)


def test_stripe_replay_without_a_key_exits_non_zero_and_says_why(home: Path) -> None:
    code, output = _run("stripe", "replay", "--from", "2026-11-01T00:00:00Z", "--to", "2026-11-02T00:00:00Z")
    assert code == 2 and "STRIPE_API_KEY is not set" in output and "--dead-letters-only" in output


@pytest.mark.slow
@pytest.mark.xdist_group("pipeline")
def test_run_with_an_api_database_runs_every_stage_and_lists_what_it_published(pipeline_run: dict) -> None:
    output = pipeline_run["first"].output
    for job in STAGE_JOBS:
        assert re.search(rf"^\s*{job}: .* done\b", output, re.MULTILINE), (job, output)
    assert (
        "marts.fct_reconciliation_mismatches" in output and "marts.fct_billing_invoice_mismatches" in output
    )
    assert "Period gate" in output and "make ui" in output and "settld period close 2026-10" in output
    assert (pipeline_run["root"] / "settld-run.json").is_file()
    # The generated zone's malformed rows stay under their datasets' thresholds: said, and the run passes.
    flat = " ".join(output.split())
    assert re.search(
        r"settlements: \d+ of [\d,]+ rows quarantined \(\d\.\d%\), within its threshold of 10\.0%", flat
    )
    assert "not fit to build on" not in flat and "Landing warnings" not in flat
