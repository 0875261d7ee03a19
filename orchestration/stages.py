"""The staged daily run: named jobs, in order, each selecting the assets tagged with its stage.

An asset joins the daily run by its tag `settld/stage` (`stage_tags(Stage.report)`), never by being listed
here: a new domain tags its assets and `settld run`, the UI's jobs and the daily schedule pick them up.
`tests/test_definitions.py` checks that every materializable asset is in exactly one job of the run.

    load            landing files -> raw (contract checks ride along)
    raw_quality     great-expectations suites on the rows of the latest load (skippable: SETTLD_QUALITY_RAW_CHECKS)
    billing         Stripe events and objects -> the operator API's stores
    transform       dbt build: staging, intermediate, marts, seeds, data tests as checks (unit tests: make test, CI)
    report          artifacts for people, over the range of periods in the data
    publish         what the operator API needs, into its database
    gate            the period gate's verdict per tenant and period (recorded in the operator API)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import dagster as dg

from orchestration.partitions import period_partitions

STAGE_TAG = "settld/stage"


class Stage(StrEnum):
    load = "load"
    raw_quality = "raw_quality"
    billing = "billing"
    transform = "transform"
    report = "report"
    publish = "publish"
    gate = "gate"


@dataclass(frozen=True)
class StageJob:
    stage: Stage
    job_name: str
    description: str
    # Runs over the range of periods with data (a partition range) rather than once.
    over_periods: bool = False
    # Reads or writes the operator API's database: `settld run` checks it is usable before any stage.
    needs_operator_api: bool = False


DAILY_RUN: tuple[StageJob, ...] = (
    StageJob(Stage.load, "load_landing", "Load landing files into raw"),
    StageJob(Stage.raw_quality, "check_raw_quality", "Great-expectations suites on the raw layer"),
    StageJob(Stage.billing, "ingest_billing", "Stripe events and objects into the operator API", needs_operator_api=True),
    StageJob(Stage.transform, "build_warehouse", "dbt build: staging, marts and tests"),
    StageJob(Stage.report, "write_reports", "Reconciliation reports and invoice drafts", over_periods=True),
    StageJob(Stage.publish, "publish_to_operator_api", "Publish mismatches and invoice drafts to the operator API", needs_operator_api=True),
    StageJob(Stage.gate, "evaluate_period_gate", "Period gate verdicts and closes", over_periods=True, needs_operator_api=True),
)  # fmt: skip


def stage_tags(stage: Stage) -> dict[str, str]:
    """The tags that put an asset in a stage of the daily run."""
    return {STAGE_TAG: stage.value}


def stage_jobs(raw_quality_checks: Sequence[dg.AssetCheckKey]) -> list[dg.UnresolvedAssetJobDefinition]:
    """One job per stage. `raw_quality_checks`: the checks defined apart from the loaders on load-stage
    assets (definitions.py finds them); they form the raw_quality stage and are left out of the load."""
    suites = dg.AssetSelection.checks(*raw_quality_checks)

    def selection(stage: Stage) -> dg.AssetSelection:
        if stage is Stage.raw_quality:
            return suites
        return dg.AssetSelection.tag(STAGE_TAG, stage.value) - suites

    return [
        dg.define_asset_job(
            step.job_name,
            selection=selection(step.stage),
            partitions_def=period_partitions if step.over_periods else None,
            description=step.description,
            tags=stage_tags(step.stage),
        )
        for step in DAILY_RUN
    ]


def job_of(stage: Stage) -> str:
    return next(step.job_name for step in DAILY_RUN if step.stage is stage)


def transform_upstream(*keys: dg.AssetKey) -> dg.AssetSelection:
    """dbt models `keys` with every model and seed they read: what building just these models on a fresh
    warehouse needs (tests that also read other models are left out: dbt_project.yml selects tests
    cautiously)."""
    return dg.AssetSelection.assets(*keys).upstream() & dg.AssetSelection.tag(
        STAGE_TAG, Stage.transform.value
    )
