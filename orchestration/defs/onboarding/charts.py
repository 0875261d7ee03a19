"""What the onboarding assets show in the Dagster UI: the cohort table (Markdown) and the conversion by
step (an SVG bar chart drawn here, embedded as a data: URI in Markdown, which the UI renders as an
image). No plotting library: the chart is a few rectangles, and its bytes depend only on the rows."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from html import escape
from typing import Any

BAR_COLOURS = ("#4f46e5", "#0891b2", "#16a34a", "#ca8a04", "#dc2626", "#7c3aed")
MAX_COHORTS_PLOTTED = len(BAR_COLOURS)


def percent(bps: int | None) -> str:
    return "-" if bps is None else f"{bps / 100:.1f}%"


def cohort_table_markdown(rows: Sequence[dict[str, Any]], steps: Sequence[str]) -> str:
    """One line per month cohort: tenants, then per step the tenants who reached it and the conversion
    from the step before; median and p90 days to the first settlement. Small cohorts are marked (ops
    see them here; nothing shows them to tenants)."""
    monthly = [row for row in rows if row["cohort_grain"] == "month"]
    if not monthly:
        return "No tenants have signed up through the operator API yet."
    header = ["cohort", "tenants", *steps, "median to 1st settlement", "p90"]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for cohort in sorted({row["cohort"] for row in monthly}, reverse=True):
        by_step = {row["step"]: row for row in monthly if row["cohort"] == cohort}
        first = next(iter(by_step.values()))
        label = cohort if first["is_shareable"] else f"{cohort} (fewer than 3: ops only)"
        cells = [f"{by_step[s]['reached_tenants']} ({percent(by_step[s]['conversion_bps'])})" if s in by_step
                 else "-" for s in steps]  # fmt: skip
        lines.append(
            f"| {label} | {first['cohort_tenants']} | "
            + " | ".join(cells)
            + f" | {days(first['median_seconds_to_first_settlement'])} | "
            f"{days(first['p90_seconds_to_first_settlement'])} |"
        )
    return "\n".join(lines)


def days(seconds: int | None) -> str:
    return "-" if seconds is None else f"{seconds / 86400:.1f} d"


def conversion_svg(rows: Sequence[dict[str, Any]], steps: Sequence[str],
                   title: str = "Conversion from the step before, by signup month") -> str:  # fmt: skip
    """Grouped bars: for each step, the conversion of each of the newest month cohorts (null: no bar)."""
    monthly = [row for row in rows if row["cohort_grain"] == "month"]
    cohorts = sorted({row["cohort"] for row in monthly}, reverse=True)[:MAX_COHORTS_PLOTTED][::-1]
    value = {(row["cohort"], row["step"]): row["conversion_bps"] for row in monthly}
    width, height, left, bottom, top = 720, 300, 50, 60, 30
    group = (width - left - 10) / max(len(steps), 1)
    bar = group * 0.8 / max(len(cohorts), 1)
    scale_max = max([10000, *(v for v in value.values() if v is not None)])
    plot_height = height - bottom - top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        'font-size="11">',
        f'<text x="{left}" y="16" font-size="13">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_height}" x2="{width - 10}" y2="{top + plot_height}" stroke="#888"/>',
    ]
    for tick in range(0, scale_max + 1, 2500):
        y = top + plot_height - plot_height * tick / scale_max
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick // 100}%</text>')
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#eee"/>')
    for s_index, step in enumerate(steps):
        x0 = left + s_index * group + group * 0.1
        for c_index, cohort in enumerate(cohorts):
            bps = value.get((cohort, step))
            if bps is None:
                continue
            bar_height = plot_height * max(bps, 0) / scale_max
            parts.append(
                f'<rect x="{x0 + c_index * bar:.1f}" y="{top + plot_height - bar_height:.1f}" '
                f'width="{bar * 0.9:.1f}" height="{bar_height:.1f}" fill="{BAR_COLOURS[c_index]}">'
                f"<title>{escape(cohort)} {escape(step)}: {percent(bps)}</title></rect>"
            )
        words = step.split("_")
        lines = (" ".join(words[: (len(words) + 1) // 2]), " ".join(words[(len(words) + 1) // 2 :]))
        x = x0 + group * 0.4
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_height + 16}" text-anchor="middle">{escape(lines[0])}'
            f'<tspan x="{x:.1f}" dy="13">{escape(lines[1])}</tspan></text>'
        )
    for c_index, cohort in enumerate(cohorts):
        x = left + c_index * 90
        parts.append(
            f'<rect x="{x}" y="{height - 20}" width="10" height="10" fill="{BAR_COLOURS[c_index]}"/>'
        )
        parts.append(f'<text x="{x + 14}" y="{height - 11}">{escape(cohort)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def image_markdown(svg: str, alt: str) -> str:
    encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f"![{alt}](data:image/svg+xml;base64,{encoded})"
