"""The dbt project as dagster-dbt sees it, and the one place its manifest is (re)built."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import nullcontext
from pathlib import Path
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
MANIFEST_FILE, PARTIAL_PARSE_FILE = "manifest.json", "partial_parse.msgpack"


def refresh_manifest(settings: Settings | None = None) -> None:
    """Parse the dbt project in-process so the asset graph matches the SQL on disk.

    With `settings`, the parse sees the very profile, target and `--vars` the run's build will: dbt then
    keeps its partial parsing (`target/partial_parse.msgpack`, which dagster-dbt copies into each build's
    folder) instead of parsing the whole project twice per run (docs/performance.md, "Fixed cost").

    Several runs may parse at once (two homes share this checkout's `target/`), and dbt writes its
    manifest in place: a run importing the asset graph meanwhile read half a file. So the parse writes
    into a scratch folder of its own, seeded with the last partial-parse state, and the state and then
    the manifest are renamed into `target/`: a reader sees the previous manifest or the new one, whole."""
    from dbt.cli.main import dbtRunner

    target_path = Path(dbt_project.manifest_path).parent  # target_path itself is relative to the project
    target_path.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".parse-", dir=target_path))
    if (target_path / PARTIAL_PARSE_FILE).is_file():
        shutil.copy2(target_path / PARTIAL_PARSE_FILE, scratch / PARTIAL_PARSE_FILE)
    arguments = [
        "parse", "--quiet", "--project-dir", str(dbt_project.project_dir),
        "--profiles-dir", str(dbt_project.profiles_dir), "--target-path", str(scratch),
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
    try:
        with environment:
            result = dbtRunner().invoke(arguments)
        if not result.success:
            raise RuntimeError(f"dbt parse failed: {result.exception}")
        for name in (PARTIAL_PARSE_FILE, MANIFEST_FILE):  # the manifest last: it is what readers open
            if (scratch / name).is_file():
                os.replace(scratch / name, target_path / name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def ensure_manifest() -> None:
    dbt_project.prepare_if_dev()  # under `dagster dev`, always re-parse
    if not dbt_project.manifest_path.exists():
        refresh_manifest()
