"""The marketplace funnel in the UI, in the publish stage of the daily run (after the dbt build): the
per tenant and month table of marts.fct_marketplace_funnel, a conversion-by-step chart of all tenants by
month (the onboarding chart's drawing, orchestration/defs/onboarding/charts.py), and the agreement
mismatches found. The reconciliation of agreements with settlements reaches the triage queue through the
publish asset of operator_api (orchestration/defs/operator_api/assets.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dagster as dg

from orchestration.defs.onboarding.charts import conversion_svg, image_markdown, percent
from orchestration.resources import WarehouseResource
from orchestration.stages import Stage, stage_tags

FUNNEL_MART = dg.AssetKey(["marts", "fct_marketplace_funnel"])
LISTINGS_MART = dg.AssetKey(["marts", "fct_listing_performance"])
MISMATCHES_MART = dg.AssetKey(["marts", "fct_marketplace_agreement_mismatches"])
MONTHLY_SQL = (
    "select month, step, step_order, sum(reached_rfqs) as reached, sum(previous_reached_rfqs) as previous "
    "from marts.fct_marketplace_funnel group by month, step, step_order order by month, step_order"
)


def funnel_table_markdown(rows: Sequence[dict[str, Any]], steps: Sequence[str]) -> str:
    """One line per tenant and month: per step the RFQs that reached it (conversion), bids per RFQ, the
    median hours to the first bid and to the accept, and the median accepted price against the budget."""
    if not rows:
        return "No RFQs have been posted through the marketplace yet."
    header = [
        "tenant",
        "month",
        *steps,
        "bids/RFQ",
        "median h to 1st bid",
        "median h to accept",
        "price/budget",
    ]
    lines = ["| " + " | ".join(header) + " |", "|---|---|" + "---:|" * (len(header) - 2)]
    for key in sorted(
        {(row["tenant_id"], row["month"]) for row in rows}, key=lambda k: (k[1], k[0]), reverse=True
    ):
        by_step = {row["step"]: row for row in rows if (row["tenant_id"], row["month"]) == key}
        first = next(iter(by_step.values()))
        cells = [f"{by_step[s]['reached_rfqs']} ({percent(by_step[s]['conversion_bps'])})" if s in by_step
                 else "-" for s in steps]  # fmt: skip
        extra = [f"{first['bids_per_rfq_x100'] / 100:.2f}", hours(first["median_seconds_to_first_bid"]),
                 hours(first["median_seconds_to_accept"]), percent(first["median_price_to_budget_bps"])]  # fmt: skip
        lines.append(f"| {key[0]} | {key[1]} | " + " | ".join([*cells, *extra]) + " |")
    return "\n".join(lines)


def hours(seconds: int | None) -> str:
    return "-" if seconds is None else f"{seconds / 3600:.1f}"


def monthly_conversion(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """All tenants' RFQs of a month per step, converted with the mart's rule (basis points, half up)."""
    return [
        {"cohort_grain": "month", "cohort": row["month"], "step": row["step"],
         "conversion_bps": (int(row["reached"]) * 20000 + int(row["previous"])) // (2 * int(row["previous"]))
         if row["previous"] else None}
        for row in rows
    ]  # fmt: skip


@dg.asset(
    key=["marketplace", "funnel"],
    group_name="marketplace",
    deps=[FUNNEL_MART, LISTINGS_MART, MISMATCHES_MART],
    tags=stage_tags(Stage.publish),
    kinds={"duckdb", "postgres"},
    description=(
        "The marketplace funnel for ops: per tenant and month, RFQs posted -> with a bid -> accepted -> "
        "settlement locked -> released (and disputed), conversion, bids per RFQ, medians and price against "
        "budget (marts.fct_marketplace_funnel), a conversion-by-step chart, and the agreement mismatches."
    ),
)
def marketplace_funnel(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect(read_only=True) as db:
        steps = [
            row["step"]
            for row in db.query("select step from reference.marketplace_funnel_steps order by step_order")
        ]
        rows = db.query("select * from marts.fct_marketplace_funnel order by tenant_id, month, step_order")
        monthly = db.query(MONTHLY_SQL)
        mismatches = db.query(
            "select mismatch_type, count(*) as n from marts.fct_marketplace_agreement_mismatches "
            "group by mismatch_type order by mismatch_type"
        )
        listings = db.query("select count(*) as n from marts.fct_listing_performance")[0]["n"]
    chart = conversion_svg(
        monthly_conversion(monthly), steps, title="RFQ conversion from the step before, by month"
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(rows),
            "listing_revisions": int(listings),
            "agreement_mismatches": {row["mismatch_type"]: int(row["n"]) for row in mismatches},
            "funnel": dg.MetadataValue.md(funnel_table_markdown(rows, steps)),
            "conversion_by_step": dg.MetadataValue.md(
                image_markdown(chart, "RFQ conversion by step, by month")
            ),
        }
    )
