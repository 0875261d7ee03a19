"""The Dagster code location loads, and its asset keys are a reviewed list (a rename is a diff here)."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_keys.txt"


def test_definitions_load_and_asset_keys_match_the_snapshot() -> None:
    from orchestration.definitions import defs

    repository = defs.get_repository_def()
    keys = sorted(key.to_user_string() for key in repository.asset_graph.get_all_asset_keys())
    checks = sorted(
        f"{key.asset_key.to_user_string()}:{key.name}" for key in repository.asset_graph.asset_check_keys
    )
    current = "\n".join(["# asset keys", *keys, "# asset checks", *checks]) + "\n"
    if os.environ.get("SETTLD_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(current)
    assert current == SNAPSHOT.read_text(), (
        "asset keys changed: review, then SETTLD_UPDATE_SNAPSHOTS=1 pytest"
    )


def test_lineage_runs_from_landing_files_to_marts() -> None:
    from orchestration.definitions import defs

    graph = defs.get_repository_def().asset_graph
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
