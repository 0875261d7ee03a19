"""The dbt project as dagster-dbt sees it, and the one place its manifest is (re)built."""

from __future__ import annotations

from dagster_dbt import DbtProject

from settld.settings import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def refresh_manifest() -> None:
    """Parse the dbt project in-process (~2 s) so the asset graph matches the SQL on disk."""
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(
        [
            "parse",
            "--quiet",
            "--project-dir",
            str(dbt_project.project_dir),
            "--profiles-dir",
            str(dbt_project.profiles_dir),
            "--target-path",
            str(dbt_project.target_path),
        ]
    )
    if not result.success:
        raise RuntimeError(f"dbt parse failed: {result.exception}")


def ensure_manifest() -> None:
    dbt_project.prepare_if_dev()  # under `dagster dev`, always re-parse
    if not dbt_project.manifest_path.exists():
        refresh_manifest()
