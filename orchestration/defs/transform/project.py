"""The dbt project as dagster-dbt sees it, and the one place its manifest is (re)built."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from dagster_dbt import DbtProject

from settld.settings import DBT_PROJECT_DIR

if TYPE_CHECKING:
    from settld.settings import Settings

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

# What every production `dbt build` of the daily run adds (orchestration/defs/transform/assets.py):
# - unit tests prove the SQL, not the data: they run in `make test` (tests/test_dbt_project.py builds
#   the project with them) and CI, not on every production run (about 6 s a run at any size);
# - no debug file log (dbt.log): dbt's own debug events cost about 8 s a run to format and write; the
#   run log still holds every event dbt prints (docs/performance.md, "Fixed cost").
PRODUCTION_BUILD_FLAGS = ("--exclude-resource-type", "unit_test", "--log-level-file", "none")


def refresh_manifest(settings: Settings | None = None) -> None:
    """Parse the dbt project in-process so the asset graph matches the SQL on disk.

    With `settings`, the parse sees the very profile, target and `--vars` the run's build will: dbt then
    keeps its partial parsing (`target/partial_parse.msgpack`, which dagster-dbt copies into each build's
    folder) instead of parsing the whole project twice per run (docs/performance.md, "Fixed cost")."""
    from contextlib import nullcontext

    from dbt.cli.main import dbtRunner

    arguments = [
        "parse", "--quiet", "--project-dir", str(dbt_project.project_dir),
        "--profiles-dir", str(dbt_project.profiles_dir), "--target-path", str(dbt_project.target_path),
    ]  # fmt: skip
    environment = nullcontext()
    if settings is not None:
        from orchestration.resources import dbt_profile_environment
        from settld.settings import dbt_parse_vars, warehouse_target

        target = warehouse_target(settings.warehouse_url)
        variables = dbt_parse_vars(grace_days=settings.reconciliation_grace_days,
                                   api_database_url=settings.api_database_url,
                                   warehouse_url=settings.warehouse_url)  # fmt: skip
        arguments += ["--target", target.dbt_target, "--vars", json.dumps(variables)]
        environment = dbt_profile_environment(target)
    with environment:
        result = dbtRunner().invoke(arguments)
    if not result.success:
        raise RuntimeError(f"dbt parse failed: {result.exception}")


def ensure_manifest() -> None:
    dbt_project.prepare_if_dev()  # under `dagster dev`, always re-parse
    if not dbt_project.manifest_path.exists():
        refresh_manifest()
