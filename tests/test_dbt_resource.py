"""The dbt resource knows the version of the dbt beside this interpreter without running `dbt --version`
(2.4 s of a demo-size run), and still asks any other executable."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import dagster_dbt.core.resource as dagster_dbt_resource
import pytest
from dagster_dbt import DbtCliResource
from dbt.version import __version__ as dbt_core_version

from orchestration.resources import DBT_BESIDE_PYTHON, SettldDbtCliResource, dbt_resource
from settld.settings import warehouse_target


def _no_process(*args, **kwargs):
    raise AssertionError(f"a process was started: {args}")


def test_the_venvs_dbt_version_is_known_without_a_process(monkeypatch, tmp_path: Path) -> None:
    # The property dagster-dbt reads before each invocation; renamed upstream, the override would be dead.
    assert isinstance(vars(DbtCliResource).get("_cli_version"), cached_property)
    monkeypatch.setattr(dagster_dbt_resource, "check_output", _no_process)
    resource = dbt_resource(warehouse_target(str(tmp_path / "warehouse.duckdb")))
    assert isinstance(resource, SettldDbtCliResource) and Path(resource.dbt_executable) == DBT_BESIDE_PYTHON
    assert str(resource._cli_version) == dbt_core_version


def test_another_executable_is_still_asked(monkeypatch, tmp_path: Path) -> None:
    other = tmp_path / "dbt"
    other.write_text('#!/bin/sh\necho "Core: - installed: 9.8.7"\n')
    other.chmod(0o755)

    def resource() -> SettldDbtCliResource:
        return SettldDbtCliResource(
            project_dir="dbt_project", profiles_dir="dbt_project", dbt_executable=str(other)
        )

    assert str(resource()._cli_version) == "9.8.7"  # its own answer, not this venv's dbt-core
    monkeypatch.setattr(dagster_dbt_resource, "check_output", _no_process)
    with pytest.raises(AssertionError, match="a process was started"):
        _ = resource()._cli_version
