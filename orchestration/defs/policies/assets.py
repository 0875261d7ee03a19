"""Settlement policy rollouts in the UI: `policies/rollout_outcomes` shows marts.fct_policy_rollout_outcomes
(per tenant, version, stage and currency: runs, auto-released, manual review, disputed, released share) as
a table, so a canary can be compared with the active version before it is promoted; and the count of
settlements no registered version backs (marts.fct_settlement_policy_exceptions), which the period gate
blocks on. Publish stage (as the onboarding funnel): it reads the marts after the dbt build, writes nothing."""

import dagster as dg

from orchestration.resources import WarehouseResource
from orchestration.stages import Stage, stage_tags

OUTCOMES_MART = dg.AssetKey(["marts", "fct_policy_rollout_outcomes"])
EXCEPTIONS_MART = dg.AssetKey(["marts", "fct_settlement_policy_exceptions"])
COLUMNS = (
    ("tenant_id", "string"), ("policy_id", "string"), ("policy_version", "int"), ("stage", "string"),
    ("currency", "string"), ("runs", "int"), ("auto_released", "int"), ("manual_review", "int"),
    ("refunded", "int"), ("disputed", "int"), ("released_share_bps", "int"),
)  # fmt: skip
TABLE_ROWS = 200  # rows shown in the UI (the count is complete)


@dg.asset(
    key=["policies", "rollout_outcomes"],
    group_name="policies",
    deps=[OUTCOMES_MART, EXCEPTIONS_MART],
    tags=stage_tags(Stage.publish),
    kinds={"duckdb", "postgres"},
    description=(
        "Canary against active, per tenant, policy version, stage and currency (marts.fct_policy_rollout_"
        "outcomes) as a table, and the settlements no registered policy version backs."
    ),
)
def policy_rollout_outcomes(warehouse: WarehouseResource) -> dg.MaterializeResult:
    names = ", ".join(name for name, _ in COLUMNS)
    with warehouse.connect(read_only=True) as db:
        rows = db.query(
            f"select {names} from marts.fct_policy_rollout_outcomes "
            "order by tenant_id, policy_id, policy_version, stage, currency"
        )
        (unbacked,) = db.query("select count(*) as n from marts.fct_settlement_policy_exceptions")
    schema = dg.TableSchema(columns=[dg.TableColumn(name, kind) for name, kind in COLUMNS])
    records = [dg.TableRecord({name: row[name] for name, _ in COLUMNS}) for row in rows[:TABLE_ROWS]]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(rows),
            "outcomes": dg.MetadataValue.table(records=records, schema=schema),
            "canary_runs": sum(row["runs"] for row in rows if row["stage"] == "canary"),
            "active_runs": sum(row["runs"] for row in rows if row["stage"] == "active"),
            "settlements_unbacked_by_registry": int(unbacked["n"]),
        }
    )
