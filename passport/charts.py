"""SVG charts of a battery's health, one piece of code for the web pages and the PDF report.

Each function takes plain points and returns a self-contained `<svg>` element as text (no
scripts, no external references, text as SVG text so it stays selectable in a PDF):

    capacity_retention_svg([(date, retention_pct), ...])
    cycles_svg([(date, full_cycles), ...])
    cell_voltage_spread_svg([(date, spread_mv), ...])

Times may be dates or datetimes; fewer than two points give a chart that says there is not
enough data yet rather than a misleading line.

`health_chart_svgs` is the one choice of a battery's health charts, for its owner's page and
its PDF report alike.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 480, 200
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 52, 12, 26, 30
LINE_COLOUR = "#1f6f8b"
GRID_COLOUR = "#d9dee3"
TEXT_STYLE = 'font-family="DejaVu Sans, sans-serif" font-size="10" fill="#333"'

Point = tuple[dt.date | dt.datetime, float]
# The passport attributes the health charts draw (selectors.passport_value_series gives them).
HEALTH_SERIES_KEYS = ("remaining_capacity_ah", "full_cycles_count")


def _as_datetime(moment: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(moment, dt.datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return dt.datetime.combine(moment, dt.time(), tzinfo=dt.UTC)


def _nice_step(span: float, ticks: int = 4) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving about `ticks` intervals."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def line_chart_svg(
    points: Sequence[Point],
    *,
    title: str,
    unit: str,
    y_min: float | None = None,
    y_max: float | None = None,
) -> str:
    """A time-series line chart; the y axis spans [y_min, y_max] (from the data when None)."""
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">'
            f'<text x="{MARGIN_LEFT}" y="14" {TEXT_STYLE} font-weight="bold">{escape(title)}</text>')
    ordered = sorted((_as_datetime(moment), float(value)) for moment, value in points)
    if len(ordered) < 2:
        return (head + f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" {TEXT_STYLE}>'
                "Not enough measurements yet</text></svg>")
    values = [value for _, value in ordered]
    low = min(values) if y_min is None else min(y_min, min(values))
    high = max(values) if y_max is None else max(y_max, max(values))
    if high == low:
        high, low = high + 1, low - 1
    step = _nice_step(high - low)
    low = step * (low // step)
    high = step * -(-high // step)
    start, end = ordered[0][0], ordered[-1][0]
    span_s = (end - start).total_seconds() or 1.0
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

    def x_of(moment: dt.datetime) -> float:
        return MARGIN_LEFT + plot_w * (moment - start).total_seconds() / span_s

    def y_of(value: float) -> float:
        return MARGIN_TOP + plot_h * (1 - (value - low) / (high - low))

    parts = [head]
    tick = low
    while tick <= high + step / 2:
        y = y_of(tick)
        parts.append(f'<line x1="{MARGIN_LEFT}" y1="{y:.1f}" x2="{WIDTH - MARGIN_RIGHT}" y2="{y:.1f}" '
                     f'stroke="{GRID_COLOUR}" stroke-width="1"/>')
        parts.append(f'<text x="{MARGIN_LEFT - 4}" y="{y + 3:.1f}" text-anchor="end" {TEXT_STYLE}>'
                     f"{tick:g} {escape(unit)}</text>")
        tick += step
    baseline = HEIGHT - MARGIN_BOTTOM + 14
    parts.append(f'<text x="{MARGIN_LEFT}" y="{baseline}" {TEXT_STYLE}>{start:%Y-%m-%d}</text>')
    parts.append(f'<text x="{WIDTH - MARGIN_RIGHT}" y="{baseline}" text-anchor="end" {TEXT_STYLE}>'
                 f"{end:%Y-%m-%d}</text>")
    path = " ".join(f"{x_of(moment):.1f},{y_of(value):.1f}" for moment, value in ordered)
    parts.append(f'<polyline points="{path}" fill="none" stroke="{LINE_COLOUR}" stroke-width="2"/>')
    for moment, value in ordered[-1:]:
        parts.append(f'<circle cx="{x_of(moment):.1f}" cy="{y_of(value):.1f}" r="3" fill="{LINE_COLOUR}"/>')
        parts.append(f'<text x="{x_of(moment) - 6:.1f}" y="{y_of(value) - 6:.1f}" text-anchor="end" '
                     f"{TEXT_STYLE}>{value:g} {escape(unit)}</text>")
    parts.append("</svg>")
    return "".join(parts)


def capacity_retention_svg(points: Sequence[Point]) -> str:
    """Remaining capacity as % of the rated capacity over time."""
    return line_chart_svg(points, title="Capacity retention", unit="%", y_min=70, y_max=100)


def cycles_svg(points: Sequence[Point]) -> str:
    """Equivalent full cycles over time."""
    return line_chart_svg(points, title="Full cycles", unit="", y_min=0)


def cell_voltage_spread_svg(points: Sequence[Point]) -> str:
    """Spread between the highest and the lowest cell voltage (mV) over time: each point the
    day's largest (passport.health_sources)."""
    return line_chart_svg(points, title="Cell voltage spread (daily maximum)", unit="mV", y_min=0)


def health_chart_svgs(
    *, series: dict[str, list[tuple[dt.datetime, float]]], rated_capacity_ah: float | None,
    cell_spread: Sequence[Point],
) -> list[str]:
    """A battery's health charts over the time of their data: capacity retention (remaining /
    rated capacity, Annex VII Part A (1)), full cycles and the cell voltage spread. A chart needs
    two points; a single value is in the table beside it. `series` (HEALTH_SERIES_KEYS) and
    `cell_spread` must hold only what the reader may see."""
    drawn = []
    capacity = series.get("remaining_capacity_ah", [])
    if rated_capacity_ah and len(capacity) >= 2:
        drawn.append(capacity_retention_svg(
            [(moment, round(float(value) / rated_capacity_ah * 100, 2)) for moment, value in capacity]))
    cycles = series.get("full_cycles_count", [])
    if len(cycles) >= 2:
        drawn.append(cycles_svg(cycles))
    if len(cell_spread) >= 2:
        drawn.append(cell_voltage_spread_svg(cell_spread))
    return drawn
