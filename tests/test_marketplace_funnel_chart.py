"""What the marketplace/funnel asset shows: the table per tenant and month, and the monthly conversion
the chart plots (the mart's rounding, empty previous steps without a bar)."""

from __future__ import annotations

from orchestration.defs.marketplace.assets import funnel_table_markdown, monthly_conversion
from orchestration.defs.onboarding.charts import conversion_svg

STEPS = ["rfq_posted", "bid_received", "accepted"]


def _row(tenant: str, month: str, step: str, reached: int, bps: int | None) -> dict:
    return {"tenant_id": tenant, "month": month, "step": step, "reached_rfqs": reached, "conversion_bps": bps,
            "bids_per_rfq_x100": 150, "median_seconds_to_first_bid": 5400, "median_seconds_to_accept": None,
            "median_price_to_budget_bps": 8125}  # fmt: skip


def test_the_table_has_a_line_per_tenant_and_month_newest_first() -> None:
    rows = [_row("t1", "2026-09", "rfq_posted", 4, None), _row("t1", "2026-09", "bid_received", 3, 7500),
            _row("t1", "2026-10", "rfq_posted", 2, None)]  # fmt: skip
    lines = funnel_table_markdown(rows, STEPS).splitlines()
    assert lines[2].startswith("| t1 | 2026-10 | 2 (-) | - | - | 1.50 | 1.5 | - | 81.2%")
    assert lines[3].startswith("| t1 | 2026-09 | 4 (-) | 3 (75.0%) | - |")
    assert funnel_table_markdown([], STEPS).startswith("No RFQs")


def test_monthly_conversion_rounds_half_up_and_leaves_empty_steps_without_a_value() -> None:
    monthly = [{"month": "2026-10", "step": "bid_received", "reached": 2, "previous": 3},
               {"month": "2026-10", "step": "accepted", "reached": 1, "previous": 8},
               {"month": "2026-10", "step": "released", "reached": 0, "previous": 0}]  # fmt: skip
    assert [row["conversion_bps"] for row in monthly_conversion(monthly)] == [6667, 1250, None]
    svg = conversion_svg(monthly_conversion(monthly), ["bid_received", "accepted", "released"], title="RFQs")
    assert svg.count("<rect") == 3 and ">RFQs</text>" in svg  # two bars and one legend swatch
