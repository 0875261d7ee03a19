"""A throwaway domain: one asset, in no central list. The pipeline fixture (tests/conftest.py) adds this
folder to `orchestration.defs.__path__`, as a new folder under orchestration/defs/ would be, and
`settld run` must materialise the asset: a new domain needs no edit anywhere else."""

import os
from pathlib import Path

import dagster as dg

from orchestration.stages import Stage, stage_tags

MARKER_ENV = "SETTLD_TEST_PROBE_MARKER"


@dg.asset(key=["probe", "domain_marker"], group_name="probe", tags=stage_tags(Stage.load))
def domain_marker(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    marker = Path(os.environ[MARKER_ENV])
    runs = int(marker.read_text()) if marker.exists() else 0
    marker.write_text(str(runs + 1))
    return dg.MaterializeResult(metadata={"runs": runs + 1})


defs = dg.Definitions(assets=[domain_marker])
