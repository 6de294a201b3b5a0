"""Line charts as inline SVG, drawn on the server: no JavaScript, nothing from a CDN.

A chart is an <svg role="img"> whose <title> names it and whose <desc> gives the numbers in
words; the page shows the same numbers as text and in a table, so neither colour nor the
shape of a line is ever the only carrier. Lines differ by dash pattern as well as colour.
Week and month charts draw averages, each with a light bar from the lowest to the highest
reading behind it; the table lists those three numbers.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from markupsafe import Markup, escape

MAX_POINTS = 300
WIDTH, HEIGHT = 640, 260
# TOP leaves room above the highest tick label for the unit.
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 32, 40
# Colour and dash pattern per line (dark enough for 3:1 against white).
STYLES = (("#1f5fa8", ""), ("#a4111b", "6 4"))

Point = tuple[datetime, float]
Bar = tuple[datetime, float, float]  # when, lowest, highest
# One period's figures: its start, how many readings, lowest, highest, mean.
Figures = tuple[datetime, int, float, float, float]
BAR_OPACITY = 0.3


@dataclass(frozen=True)
class Line:
    label: str
    points: Sequence[Point]
    bars: Sequence[Bar] = ()


def _slices(times: Sequence[datetime], max_points: int) -> list[list[int]]:
    """Indexes of `times` (sorted) grouped into equal slices of their span."""
    start, end = times[0], times[-1]
    span = (end - start) / max_points
    buckets: dict[int, list[int]] = {}
    for position, when in enumerate(times):
        index = min(int((when - start) / span), max_points - 1) if span else 0
        buckets.setdefault(index, []).append(position)
    return [buckets[index] for index in sorted(buckets)]


def _mean_time(times: Sequence[datetime]) -> datetime:
    return times[0] + sum((t - times[0] for t in times), timedelta()) / len(times)


def downsample(points: Sequence[Point], max_points: int = MAX_POINTS) -> list[Point]:
    """At most `max_points` points: the mean time and value of equal slices of the time span."""
    if len(points) <= max_points:
        return list(points)
    result = []
    for group in _slices([t for t, _ in points], max_points):
        times, values = [points[i][0] for i in group], [points[i][1] for i in group]
        result.append((_mean_time(times), sum(values) / len(values)))
    return result


def downsample_figures(
    figures: Sequence[Figures], max_points: int = MAX_POINTS
) -> tuple[list[Point], list[Bar]]:
    """The averages and lowest-to-highest bars of periods (hours), at most `max_points`: equal
    slices of the time span merged, their mean weighted by the number of readings."""
    groups = (
        [[i] for i in range(len(figures))]
        if len(figures) <= max_points
        else _slices([f[0] for f in figures], max_points)
    )
    points, bars = [], []
    for group in groups:
        members = [figures[i] for i in group]
        when = _mean_time([f[0] for f in members])
        count = sum(f[1] for f in members)
        points.append((when, sum(f[4] * f[1] for f in members) / count))
        bars.append((when, min(f[2] for f in members), max(f[3] for f in members)))
    return points, bars


def number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"


def line_chart(
    lines: Sequence[Line],
    start: datetime,
    end: datetime,
    title: str,
    desc: str,
    time_label: Callable[[datetime], str],
    unit: str = "",
    x_ticks: int = 5,
    y_ticks: int = 4,
    bar_label: str = "",
) -> Markup:
    """An SVG line chart of `lines` over [start, end]; `time_label` writes a tick's time.

    Lines with bars get them drawn behind, and `bar_label` names them in the legend."""
    values = [v for line in lines for _, v in line.points]
    values += [v for line in lines for _, lowest, highest in line.bars for v in (lowest, highest)]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if high == low:
        low, high = low - 1, high + 1
    pad = (high - low) * 0.1
    low, high = low - pad, high + pad
    with_bars = bar_label and any(line.bars for line in lines)
    # the legend goes under the time axis
    legend_h = 24 if len(lines) > 1 or with_bars else 0
    height = HEIGHT + legend_h
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = (end - start).total_seconds() or 1.0

    def x(when: datetime) -> float:
        return LEFT + plot_w * min(max((when - start).total_seconds() / span, 0.0), 1.0)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - (value - low) / (high - low))

    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="100%"'
        f' preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f"<desc>{escape(desc)}</desc>",
        '<g aria-hidden="true" font-size="12" fill="#333">',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#555"/>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}"'
        ' stroke="#555"/>',
    ]
    for i in range(y_ticks + 1):
        value = low + (high - low) * i / y_ticks
        ty = y(value)
        parts.append(
            f'<line x1="{LEFT}" y1="{ty:.1f}" x2="{LEFT + plot_w}" y2="{ty:.1f}" stroke="#ddd"/>'
            f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end">{number(value)}</text>'
        )
    for i in range(x_ticks + 1):
        when = start + (end - start) * i / x_ticks
        tx = x(when)
        anchor = "start" if i == 0 else "end" if i == x_ticks else "middle"
        parts.append(
            f'<line x1="{tx:.1f}" y1="{TOP + plot_h}" x2="{tx:.1f}" y2="{TOP + plot_h + 5}"'
            f' stroke="#555"/><text x="{tx:.1f}" y="{TOP + plot_h + 20}"'
            f' text-anchor="{anchor}">{escape(time_label(when))}</text>'
        )
    if unit:
        parts.append(f'<text x="4" y="{TOP - 16}">{escape(unit)}</text>')
    for index, line in enumerate(lines):  # bars first, so that the lines are drawn over them
        if line.bars:
            path = "".join(f"M{x(t):.1f},{y(hi):.1f}V{y(lo):.1f}" for t, lo, hi in line.bars)
            parts.append(_bar_path(path, STYLES[index % len(STYLES)][0]))
    for index, line in enumerate(lines):
        colour, dash = STYLES[index % len(STYLES)]
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        coords = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in line.points)
        if len(line.points) == 1:  # a lone reading: a dot, or a square for the second line
            cx, cy = (float(c) for c in coords.split(","))
            parts.append(
                f'<circle cx="{cx}" cy="{cy}" r="4" fill="{colour}"/>'
                if index % 2 == 0
                else f'<rect x="{cx - 4}" y="{cy - 4}" width="8" height="8" fill="{colour}"/>'
            )
        elif coords:
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{colour}"'
                f' stroke-width="2"{dashes}/>'
            )
    if legend_h:  # a legend: the line's pattern next to its name, then the bar's
        ly = HEIGHT + 8
        for index, line in enumerate(lines if len(lines) > 1 else ()):
            colour, dash = STYLES[index % len(STYLES)]
            dashes = f' stroke-dasharray="{dash}"' if dash else ""
            lx = LEFT + index * 180
            parts.append(
                f'<line x1="{lx}" y1="{ly}" x2="{lx + 30}" y2="{ly}"'
                f' stroke="{colour}" stroke-width="2"{dashes}/>'
                f'<text x="{lx + 36}" y="{ly + 4}">{escape(line.label)}</text>'
            )
        if with_bars:
            lx = LEFT + (len(lines) if len(lines) > 1 else 0) * 180
            for index in range(len(lines)):  # a bar in each line's colour
                colour = STYLES[index % len(STYLES)][0]
                parts.append(_bar_path(f"M{lx + 8 + 8 * index},{ly - 8}V{ly + 8}", colour))
            parts.append(f'<text x="{lx + 36}" y="{ly + 4}">{escape(bar_label)}</text>')
    parts.append("</g></svg>")
    return Markup("".join(parts))  # noqa: S704  (every text in it is escaped above)


def _bar_path(path: str, colour: str) -> str:
    return (
        f'<path d="{path}" fill="none" stroke="{colour}"'
        f' stroke-opacity="{BAR_OPACITY}" stroke-width="4"/>'
    )
