"""The dbt project as dagster-dbt sees it, and the one place its manifest is (re)built."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from contextlib import AbstractContextManager, nullcontext
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
# What the last parse saw (`_parse_inputs`) and the manifest it wrote: a run whose parse would see the same
# skips it (`refresh_manifest`).
PARSED_FROM_FILE = "settld_parsed_from.json"
_ENV_VAR_CALL = re.compile(rb"""env_var\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]""")
_DBT_PACKAGES = ("dbt-core", "dbt-adapters", "dbt-duckdb", "dbt-postgres", "dbt-spark")


def refresh_manifest(settings: Settings | None = None) -> None:
    """Parse the dbt project in-process so the asset graph matches the SQL on disk.

    With `settings`, the parse sees the very profile, target and `--vars` the run's build will: dbt then
    keeps its partial parsing (`target/partial_parse.msgpack`, which dagster-dbt copies into each build's
    folder) instead of parsing the whole project twice per run (docs/performance.md, "Fixed cost").

    Several runs may parse at once (two homes share this checkout's `target/`), and dbt writes its
    manifest in place: a run importing the asset graph meanwhile read half a file. So the parse writes
    into a scratch folder of its own, seeded with the last partial-parse state, and the state and then
    the manifest are renamed into `target/`: a reader sees the previous manifest or the new one, whole.

    A parse that would read what the parse of the manifest on disk read (`_parse_inputs`: the project's
    files, the arguments, the environment variables the project names, dbt's version) is not run: a daily
    run with no change to the project starts its build several seconds sooner."""
    target_path = Path(dbt_project.manifest_path).parent  # target_path itself is relative to the project
    arguments, environment = parse_invocation(settings)
    with environment:
        inputs = _parse_inputs(arguments, skip=target_path)
        if _parsed_from(target_path) == inputs:
            return  # nothing the parse reads has changed: the manifest on disk is the one it would write
        _parse(arguments, target_path, inputs)


def parse_invocation(settings: Settings | None) -> tuple[list[str], AbstractContextManager[None]]:
    """The `dbt parse` arguments for `settings` (without: the profile's default target and no vars) and the
    environment to run it in (the profile's variables; never the as-of, which only the build is given)."""
    arguments = [
        "parse", "--quiet", "--project-dir", str(dbt_project.project_dir),
        "--profiles-dir", str(dbt_project.profiles_dir),
    ]  # fmt: skip
    if settings is None:
        return arguments, nullcontext()
    from orchestration.resources import dbt_profile_environment
    from settld.settings import dbt_parse_vars, warehouse_target

    target = warehouse_target(settings.warehouse_url)
    variables = dbt_parse_vars(grace_days=settings.reconciliation_grace_days,
                               api_database_url=settings.api_database_url,
                               warehouse_url=settings.warehouse_url)  # fmt: skip
    arguments += ["--target", target.dbt_target, "--vars", json.dumps(variables)]
    return arguments, dbt_profile_environment(target)


def _parse(arguments: list[str], target_path: Path, inputs: str) -> None:
    from dbt.cli.main import dbtRunner

    target_path.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".parse-", dir=target_path))
    try:
        if (target_path / PARTIAL_PARSE_FILE).is_file():
            shutil.copy2(target_path / PARTIAL_PARSE_FILE, scratch / PARTIAL_PARSE_FILE)
        result = dbtRunner().invoke([*arguments, "--target-path", str(scratch)])
        if not result.success:
            raise RuntimeError(f"dbt parse failed: {result.exception}")
        manifest = (scratch / MANIFEST_FILE).stat()  # a rename keeps what `_identity` names
        for name in (PARTIAL_PARSE_FILE, MANIFEST_FILE):  # the manifest last: it is what readers open
            if (scratch / name).is_file():
                os.replace(scratch / name, target_path / name)
        record = scratch / PARSED_FROM_FILE
        record.write_text(json.dumps({"inputs": inputs, "manifest": _identity(manifest)}))
        os.replace(record, target_path / PARSED_FROM_FILE)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _parse_inputs(arguments: list[str], skip: Path) -> str:
    """A digest of everything a `dbt parse` with `arguments` reads: every file of the project (but the
    target folder `skip`, the default target and log folders), the arguments, the environment variables the
    project names in `env_var(...)` and dbt's own `DBT_*` ones, and the versions of dbt and its adapters.
    dbt's partial parsing compares the same things, but only after dbt has started, which costs several
    seconds a run (docs/performance.md, "Fixed cost")."""
    from importlib.metadata import PackageNotFoundError, version

    project_dir = Path(dbt_project.project_dir).resolve()
    # dbt's own output: the target folder in use and the project's default one (a run whose target path
    # is elsewhere still finds other runs' builds there), the logs, installed packages.
    skipped = {skip.resolve(), *(project_dir / name for name in ("target", "logs", "dbt_packages"))}
    digest, names = hashlib.sha256(), set()
    for folder, subfolders, files in os.walk(project_dir):
        subfolders[:] = sorted(
            d for d in subfolders if not d.startswith(".") and Path(folder, d) not in skipped
        )
        for name in sorted(f for f in files if not f.startswith(".")):
            content = Path(folder, name).read_bytes()
            names.update(match.decode() for match in _ENV_VAR_CALL.findall(content))
            digest.update(
                f"{Path(folder, name).relative_to(project_dir)}\0{len(content)}\0".encode() + content
            )
    versions = {}
    for package in _DBT_PACKAGES:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    names.update(name for name in os.environ if name.startswith("DBT_"))
    context = {
        "arguments": arguments,
        "environment": {name: os.environ.get(name) for name in sorted(names)},
        "versions": versions,
    }
    digest.update(json.dumps(context, sort_keys=True).encode())
    return digest.hexdigest()


def _parsed_from(target_path: Path) -> str | None:
    """The inputs digest of the parse that wrote the manifest now in `target_path`, or None when unknown
    (never recorded, unreadable, or the manifest was replaced since: two homes share this folder)."""
    try:
        record = json.loads((target_path / PARSED_FROM_FILE).read_text())
        manifest = (target_path / MANIFEST_FILE).stat()
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("manifest") != _identity(manifest):
        return None
    return record.get("inputs")


def _identity(stat: os.stat_result) -> list[int]:
    """The manifest file itself, not its name: a run that replaces the manifest after this one recorded
    it makes the record stale instead of wrong."""
    return [stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns]


def ensure_manifest() -> None:
    dbt_project.prepare_if_dev()  # under `dagster dev`, always re-parse
    if not dbt_project.manifest_path.exists():
        refresh_manifest()
