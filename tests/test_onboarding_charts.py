"""What the onboarding/funnel asset shows in the UI: the cohort table and the conversion chart."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET

from orchestration.defs.onboarding.charts import cohort_table_markdown, conversion_svg, image_markdown

STEPS = ["signup", "first_run_started", "first_settlement_completed"]


def rows(cohort: str, tenants: int, reached: list[int], conversions: list[int | None]) -> list[dict]:
    return [
        {"cohort_grain": "month", "cohort": cohort, "step": step, "cohort_tenants": tenants, "reached_tenants": r,
         "conversion_bps": c, "is_shareable": tenants >= 3, "median_seconds_to_first_settlement": 129600,
         "p90_seconds_to_first_settlement": None}
        for step, r, c in zip(STEPS, reached, conversions, strict=True)
    ]  # fmt: skip


COHORTS = rows("2026-11", 4, [4, 3, 4], [10000, 7500, 13333]) + rows(
    "2026-12", 1, [1, 0, 1], [10000, 0, None]
)


def test_the_table_shows_each_month_newest_first_and_marks_small_cohorts() -> None:
    table = cohort_table_markdown([*COHORTS, {**COHORTS[0], "cohort_grain": "week"}], STEPS).splitlines()
    assert table[2].startswith("| 2026-12 (fewer than 3: ops only) | 1 | 1 (100.0%) | 0 (0.0%) | 1 (-) |")
    assert table[3] == "| 2026-11 | 4 | 4 (100.0%) | 3 (75.0%) | 4 (133.3%) | 1.5 d | - |"
    assert len(table) == 4  # months only
    assert cohort_table_markdown([], STEPS).startswith("No tenants")


def test_the_chart_is_an_svg_image_with_a_bar_per_known_conversion() -> None:
    markdown = image_markdown(conversion_svg(COHORTS, STEPS), "Conversion")
    assert markdown.startswith("![Conversion](data:image/svg+xml;base64,") and markdown.endswith(")")
    svg = ET.fromstring(base64.b64decode(markdown.split(",", 1)[1][:-1]))
    bars = [
        rect for rect in svg.iter("{http://www.w3.org/2000/svg}rect") if rect.find("{*}title") is not None
    ]
    assert len(bars) == 5  # six steps of two cohorts, one conversion unknown (null: no bar)
    assert conversion_svg(COHORTS, STEPS) == conversion_svg(
        list(reversed(COHORTS)), STEPS
    )  # same rows, same bytes
