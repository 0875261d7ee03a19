"""The throughput drill's latency plot, written as SVG by hand (matplotlib is not in the lock): p50, p95 and
p99 of all requests over time (locust's per-second history, percentiles over its 10-second window), the
p99 threshold as a dashed line and the incident window shaded."""

from __future__ import annotations

import csv
from pathlib import Path
from xml.sax.saxutils import escape

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 900, 360, 60, 20, 30, 40
SERIES = (("50%", "p50", "#2b8a3e"), ("95%", "p95", "#e67700"), ("99%", "p99", "#c92a2a"))


def history_points(history_csv: Path) -> list[dict[str, float]]:
    """The aggregated rows of locust's `<prefix>_stats_history.csv`: {t, p50, p95, p99, rps}."""
    points = []
    with history_csv.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] != "Aggregated" or row["50%"] in ("N/A", ""):
                continue
            points.append({"t": float(row["Timestamp"]), "p50": float(row["50%"]), "p95": float(row["95%"]),
                           "p99": float(row["99%"]), "rps": float(row["Requests/s"])})  # fmt: skip
    return points


def latency_svg(points: list[dict[str, float]], *, threshold_ms: float, title: str,
                incident: tuple[float, float] | None = None) -> str:  # fmt: skip
    """The SVG text; `points` t in unix seconds, `incident` (start, end) in the same clock."""
    if not points:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="80"><text x="10" y="40">' \
               f"{escape(title)}: no samples</text></svg>\n"  # fmt: skip
    start = points[0]["t"]
    span = max(points[-1]["t"] - start, 1.0)
    top_ms = max(threshold_ms * 1.5, *(point["p99"] for point in points))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + (t - start) / span * plot_w

    def y(ms: float) -> float:
        return TOP + plot_h - min(ms, top_ms) / top_ms * plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" '
             f'font-size="11"><rect width="100%" height="100%" fill="white"/>',
             f'<text x="{LEFT}" y="18" font-size="13">{escape(title)}</text>']  # fmt: skip
    if incident:
        x0, x1 = x(max(incident[0], start)), x(min(incident[1], start + span))
        parts.append(f'<rect x="{x0:.1f}" y="{TOP}" width="{max(x1 - x0, 1):.1f}" height="{plot_h}" fill="#ffe3e3"/>'
                     f'<text x="{x0 + 3:.1f}" y="{TOP + 12}">Postgres stopped</text>')  # fmt: skip
    for step in range(5):
        ms = top_ms * step / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(ms):.1f}" y2="{y(ms):.1f}" stroke="#eee"/>'
                     f'<text x="{LEFT - 6}" y="{y(ms) + 4:.1f}" text-anchor="end">{ms:.0f} ms</text>')  # fmt: skip
    for step in range(6):
        t = start + span * step / 5
        parts.append(
            f'<text x="{x(t):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{t - start:.0f} s</text>'
        )
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(threshold_ms):.1f}" y2="{y(threshold_ms):.1f}" '
                 f'stroke="#555" stroke-dasharray="6 4"/><text x="{WIDTH - RIGHT}" y="{y(threshold_ms) - 4:.1f}" '
                 f'text-anchor="end">p99 threshold {threshold_ms:g} ms</text>')  # fmt: skip
    for index, (_, key, colour) in enumerate(SERIES):
        path = " ".join(f"{x(point['t']):.1f},{y(point[key]):.1f}" for point in points)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{path}"/>'
                     f'<text x="{LEFT + 10 + index * 60}" y="{HEIGHT - 8}" fill="{colour}">{key}</text>')  # fmt: skip
    parts.append("</svg>\n")
    return "\n".join(parts)
