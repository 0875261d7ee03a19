"""The Dagster code location loads; what it defines is a reviewed snapshot (a renamed finance asset, a
moved group, a changed dependency, job or schedule is a diff here); every asset is in exactly one job of
the daily run; no secret reaches what the UI shows."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import pytest

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.txt"


def _definitions() -> dg.Definitions:
    """Built afresh: the pipeline fixture may have imported the module with a throwaway domain on its path."""
    from orchestration.definitions import build_definitions

    return build_definitions()


def _describe(defs: dg.Definitions) -> str:
    repository = defs.get_repository_def()
    graph = repository.asset_graph
    lines = ["# assets: key | group | partitions | upstream"]
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        partitions = "monthly" if node.partitions_def else "-"
        kind = "" if node.is_materializable else " (external)"
        parents = ", ".join(sorted(parent.to_user_string() for parent in node.parent_keys)) or "-"
        lines.append(f"{key.to_user_string()}{kind} | {node.group_name} | {partitions} | {parents}")
    lines.append("# asset checks")
    lines += sorted(f"{k.asset_key.to_user_string()}:{k.name}" for k in graph.asset_check_keys)
    lines.append("# jobs: name | partitions | assets")
    for job in sorted(repository.get_all_jobs(), key=lambda j: j.name):
        if job.name.startswith("__"):
            continue
        keys = sorted(k.to_user_string() for k in job.asset_layer.selected_asset_keys)
        partitions = "monthly" if job.partitions_def else "-"
        checks_only = "(checks only)" if job.asset_layer.asset_graph.asset_check_keys else None
        ops = "(ops: " + ", ".join(sorted(node.name for node in job.graph.nodes)) + ")"
        lines.append(f"{job.name} | {partitions} | {', '.join(keys) or checks_only or ops}")
    lines.append("# schedules: name | cron | job")
    for schedule in sorted(repository.schedule_defs, key=lambda s: s.name):
        lines.append(f"{schedule.name} | {schedule.cron_schedule} | {schedule.job_name}")
    lines.append("# sensors: name | starts")
    for sensor in sorted(repository.sensor_defs, key=lambda s: s.name):
        lines.append(f"{sensor.name} | {', '.join(target.job_name for target in sensor.targets)}")
    return "\n".join(lines) + "\n"


def test_definitions_match_the_snapshot() -> None:
    current = _describe(_definitions())
    if os.environ.get("SETTLD_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(current)
    assert current == SNAPSHOT.read_text(), (
        "definitions changed: review, then SETTLD_UPDATE_SNAPSHOTS=1 pytest"
    )


def test_every_asset_is_in_exactly_one_job_of_the_daily_run() -> None:
    from orchestration.stages import DAILY_RUN

    repository = _definitions().get_repository_def()
    graph = repository.asset_graph
    jobs = {step.job_name: repository.get_job(step.job_name) for step in DAILY_RUN}
    for key in graph.get_all_asset_keys():
        if not graph.get(key).is_materializable:
            continue
        owners = [name for name, job in jobs.items() if key in job.asset_layer.selected_asset_keys]
        assert len(owners) == 1, f"{key.to_user_string()} is in {owners or 'no job'} of the daily run"
    checks = [name for name, job in jobs.items() for _ in job.asset_layer.asset_graph.asset_check_keys]
    assert checks, "the daily run runs no asset checks"


def test_lineage_runs_from_landing_files_to_marts() -> None:
    graph = _definitions().get_repository_def().asset_graph
    marts = [key for key in graph.get_all_asset_keys() if key.path[0] == "marts"]
    assert marts, "no mart assets"
    for mart in marts:
        upstream = graph.get(mart).parent_keys
        ancestors: set[dg.AssetKey] = set()
        while upstream:
            ancestors |= upstream
            upstream = set().union(*(graph.get(key).parent_keys for key in upstream)) - ancestors
        # Every mart traces back to landed files (raw/*, loaded by the landing assets) or, for the billing
        # marts, to what the operator API recorded (operator_api/*, e.g. Stripe webhook deliveries).
        assert any(
            (key.path[0] == "raw" and graph.get(key).is_materializable) or key.path[0] == "operator_api"
            for key in ancestors
        ), mart


def test_no_secret_reaches_what_the_ui_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    """The repository snapshot is what the webserver receives from the code location: resources, their
    configured values, jobs and metadata. Secrets set in the environment must appear only by name."""
    from dagster._core.remote_representation.external_data import RepositorySnap
    from dagster._serdes import serialize_value

    secrets = {
        "SETTLD_WAREHOUSE_URL": "postgresql://finance:wh-S3cret-pw@db.internal:5432/settld",
        "SETTLD_API_DATABASE_URL": "postgresql+psycopg://ops:api-S3cret-pw@db.internal:5432/settld",
        "STRIPE_API_KEY": "sk_test_stripe-S3cret-key",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    repository = _definitions().get_repository_def()
    shown = serialize_value(RepositorySnap.from_def(repository))
    for name, value in secrets.items():
        assert "S3cret" not in shown.replace(value, ""), "a secret fragment leaked"
        assert value not in shown, f"{name}'s value is visible in the UI"
        assert name in shown, f"{name} should be shown as an environment variable"


def test_only_the_newest_dbt_invocation_folders_are_kept(tmp_path: Path) -> None:
    import time

    from orchestration.defs.transform.assets import prune_invocation_folders

    folders = [tmp_path / f"settld_dbt_models-run{n:04d}-abcdef{n}" for n in range(5)]
    for n, folder in enumerate(folders):
        folder.mkdir()
        (folder / "run_results.json").write_text("{}")
        os.utime(folder, (time.time() + n, time.time() + n))
    (tmp_path / "manifest.json").write_text("{}")  # dbt's own files beside them stay
    removed = prune_invocation_folders(folders[-1], keep=3)
    assert removed == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["manifest.json", *(f.name for f in folders[2:])]
    )
