"""The dbt project's layout rules (dbt_project/README.md), read from the files: no dbt run needed.

- every model sits in `models/<layer>/<folder>/`: staging by source, intermediate and marts by domain;
- each folder has one `_<folder>.yml` documenting exactly its models, and a staging folder its sources in
  `_<source>__sources.yml`;
- only staging selects from sources; staging reads no other model; intermediate reads staging,
  intermediate and seeds; only marts read marts.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.dbt_rows import DBT_PROJECT_DIR

MODELS = DBT_PROJECT_DIR / "models"
LAYERS = ("staging", "intermediate", "marts")
PREFIXES = {"staging": ("stg_",), "intermediate": ("int_",), "marts": ("fct_", "dim_")}
# What each layer may ref, by the referenced model's layer (seeds are reference data: anyone may read them).
MAY_REF = {"staging": set(), "intermediate": {"staging", "intermediate"}, "marts": set(LAYERS)}
REF = re.compile(r"""\bref\(\s*['"]([^'"]+)['"]\s*\)""")


def _models() -> dict[str, Path]:
    return {path.stem: path for path in MODELS.rglob("*.sql")}


def _layer(path: Path) -> str:
    return path.relative_to(MODELS).parts[0]


def _folders() -> list[Path]:
    return sorted({path.parent for path in MODELS.rglob("*.sql")})


def test_every_model_sits_in_a_folder_of_its_layer_and_is_named_for_it() -> None:
    for name, path in _models().items():
        parts = path.relative_to(MODELS).parts
        assert len(parts) == 3 and parts[0] in LAYERS, (
            f"{path}: models/<layer>/<source or domain>/<model>.sql"
        )
        assert name.startswith(PREFIXES[parts[0]]), (
            f"{name}: a {parts[0]} model is named {PREFIXES[parts[0]]}..."
        )
        if parts[0] == "staging":
            assert name.startswith(f"stg_{parts[1]}__"), (
                f"{name} belongs in staging/{name[4:].split('__')[0]}/"
            )


@pytest.mark.parametrize("folder", _folders(), ids=lambda folder: str(folder.relative_to(MODELS)))
def test_each_folder_has_one_yaml_of_its_own_models(folder: Path) -> None:
    allowed = {f"_{folder.name}.yml"} | (
        {f"_{folder.name}__sources.yml"} if _layer(folder) == "staging" else set()
    )
    yamls = {path.name for path in folder.glob("*.yml")}
    assert f"_{folder.name}.yml" in yamls and yamls <= allowed, yamls
    documented = yaml.safe_load((folder / f"_{folder.name}.yml").read_text())
    assert {model["name"] for model in documented["models"]} == {path.stem for path in folder.glob("*.sql")}
    assert "sources" not in documented, "sources go in the folder's _<source>__sources.yml"
    tested = {test["model"] for test in documented.get("unit_tests", [])}
    assert tested <= {path.stem for path in folder.glob("*.sql")}, "unit tests sit beside their model"
    # dbt names a unit test's relation after it, and Postgres cuts identifiers at 63 bytes (an error there).
    too_long = [test["name"] for test in documented.get("unit_tests", []) if len(test["name"]) > 63]
    assert not too_long, f"unit test names longer than Postgres' 63-byte identifiers: {too_long}"


def test_only_staging_selects_from_sources() -> None:
    for name, path in _models().items():
        if _layer(path) != "staging":
            assert "source(" not in path.read_text(), name


def test_layers_read_only_downwards_and_only_marts_read_marts() -> None:
    models = _models()
    for name, path in models.items():
        for referenced in REF.findall(path.read_text()):
            if referenced in models:
                assert _layer(models[referenced]) in MAY_REF[_layer(path)], f"{name} reads {referenced}"
            else:
                assert (DBT_PROJECT_DIR / "seeds" / f"{referenced}.csv").exists(), (
                    f"{name}: no model {referenced}"
                )
