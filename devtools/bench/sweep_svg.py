"""The size sweep's plot, written as SVG by hand (matplotlib is not in the lock): seconds against payout
instructions on log-log axes, one line per measured series (the full `settld run`, the incremental one of a new day, the floor query, the
copy of the inputs, their sum as the targets' yardstick), and the demo-size target as a dashed line."""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 900, 420, 70, 190, 30, 50
SERIES = (
    ("settld_run", "settld run (full)", "#c92a2a"),
    ("incremental_run", "settld run (one new day)", "#e8590c"),
    ("yardstick", "copy + floor (yardstick)", "#1864ab"),
    ("floor", "floor query", "#2b8a3e"),
    ("copy_inputs", "copy of the inputs", "#e67700"),
)


def _decades(low: float, high: float) -> list[float]:
    return [10.0**k for k in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)]


def sweep_svg(points: list[dict], *, title: str, demo_target_seconds: float) -> str:
    """`points`: one dict per size with `instructions` and a seconds value per series name."""
    if not points:
        raise ValueError("the sweep measured no size")
    xs = _decades(min(p["instructions"] for p in points), max(p["instructions"] for p in points))
    # A sweep written before a series existed (the incremental run) plots without it.
    values = [p[name] for p in points for name, _, _ in SERIES if name in p] + [demo_target_seconds]
    ys = _decades(min(values), max(values))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(v: float) -> float:
        return LEFT + plot_w * (math.log10(v) - math.log10(xs[0])) / (
            math.log10(xs[-1]) - math.log10(xs[0]) or 1
        )

    def y(v: float) -> float:
        return TOP + plot_h * (
            1 - (math.log10(v) - math.log10(ys[0])) / (math.log10(ys[-1]) - math.log10(ys[0]) or 1)
        )

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<text x="{LEFT}" y="18" font-size="14">{escape(title)}</text>',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#868e96"/>',
    ]
    for v in xs:
        parts.append(
            f'<line x1="{x(v):.1f}" y1="{TOP}" x2="{x(v):.1f}" y2="{TOP + plot_h}" stroke="#e9ecef"/>'
        )
        parts.append(f'<text x="{x(v):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">{v:,.0f}</text>')
    for v in ys:
        parts.append(
            f'<line x1="{LEFT}" y1="{y(v):.1f}" x2="{LEFT + plot_w}" y2="{y(v):.1f}" stroke="#e9ecef"/>'
        )
        parts.append(f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:g} s</text>')
    parts.append(
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 10}" text-anchor="middle">payout instructions</text>'
    )
    target = y(demo_target_seconds)
    parts.append(
        f'<line x1="{LEFT}" y1="{target:.1f}" x2="{LEFT + plot_w}" y2="{target:.1f}" stroke="#495057" stroke-dasharray="6 4"/>'
    )
    ordered = sorted(points, key=lambda p: p["instructions"])
    drawn = [series for series in SERIES if any(series[0] in p for p in points)]
    for row, (name, label, colour) in enumerate(drawn):
        measured = [p for p in ordered if name in p]
        line = " ".join(f"{x(p['instructions']):.1f},{y(p[name]):.1f}" for p in measured)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts += [
            f'<circle cx="{x(p["instructions"]):.1f}" cy="{y(p[name]):.1f}" r="3" fill="{colour}"/>'
            for p in measured
        ]
        legend_y = TOP + 14 + 18 * row
        parts.append(
            f'<line x1="{WIDTH - RIGHT + 12}" y1="{legend_y - 4}" x2="{WIDTH - RIGHT + 32}" y2="{legend_y - 4}" stroke="{colour}" stroke-width="2"/>'
        )
        parts.append(f'<text x="{WIDTH - RIGHT + 38}" y="{legend_y}">{escape(label)}</text>')
    legend_y = TOP + 14 + 18 * len(drawn)
    parts.append(
        f'<line x1="{WIDTH - RIGHT + 12}" y1="{legend_y - 4}" x2="{WIDTH - RIGHT + 32}" y2="{legend_y - 4}" stroke="#495057" stroke-dasharray="6 4"/>'
    )
    parts.append(f'<text x="{WIDTH - RIGHT + 38}" y="{legend_y}">demo-size target</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
