"""The trend charts: one KPI month by month, drawn with reportlab's graphics, so the board
shows them as inline SVG (no chart script, no CDN) and the PDF reports draw the very same
Drawing. Every word on a chart is ASCII (month numbers, the year, numbers), so no CJK font is
needed; what the chart says is written out for screen readers by `svg()`.

`trend_drawing` reads no Flask request state: the reports call it from a scheduled job.
"""

from __future__ import annotations

import math
import re

from markupsafe import Markup, escape
from reportlab.graphics import renderSVG
from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, String
from reportlab.lib import colors

from app.kpis.registry import COUNT, MINUTES, SHARE, Kpi
from app.kpis.settings import Setting

FONT, FONT_SIZE = "Helvetica", 7
LINE = colors.HexColor("#0b5cad")
TARGET = colors.HexColor("#1d6b2f")
GRID = colors.HexColor("#c8c8c8")
AXIS = colors.HexColor("#4a4a4a")
LEFT, RIGHT, TOP, BOTTOM = 30, 6, 8, 22


def _nice_top(largest: float, unit: str) -> float:
    """The top of the y axis: 1, 2, 2.5 or 5 times a power of ten, at or above `largest`."""
    if largest <= 0:
        return 2 if unit == COUNT else 1
    power = 10 ** math.floor(math.log10(largest))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= largest:
            top = step * power
            break
    if unit == COUNT:
        top = max(2, math.ceil(top / 2) * 2)  # whole numbers at the middle tick too
    return top


def _tick_text(number: float, unit: str) -> str:
    """A tick's label: "50%" for shares, "30m" for minutes, the number for counts."""
    text = f"{number:g}"
    return text + {SHARE: "%", MINUTES: "m"}.get(unit, "")


def _scaled(value: float | None, unit: str) -> float | None:
    if value is None:
        return None
    return value * 100 if unit == SHARE else float(value)


def trend_drawing(
    points: list[dict], kpi: Kpi, setting: Setting, width: int = 260, height: int = 120
) -> Drawing:
    """A line chart of one KPI's monthly values (points: the board's "trend" entries,
    {"month": date, "values": {key: value}}): a gap where a month has no value, the target
    as a dashed line, shares on 0-100%, other units from 0 to a round number above the data.
    """
    drawing = Drawing(width, height)
    values = [_scaled(point["values"].get(kpi.key), kpi.unit) for point in points]
    target = _scaled(setting.target, kpi.unit)
    if kpi.unit == SHARE:
        top = 100.0
    else:
        known = [v for v in values if v is not None] + ([target] if target is not None else [])
        top = _nice_top(max(known, default=0), kpi.unit)
    x0, x1, y0, y1 = LEFT, width - RIGHT, BOTTOM, height - TOP

    def y_of(value: float) -> float:
        return y0 + (y1 - y0) * min(max(value, 0), top) / top

    for tick in (0, top / 2, top):
        y = y_of(tick)
        drawing.add(Line(x0, y, x1, y, strokeColor=GRID, strokeWidth=0.5))
        drawing.add(
            String(
                x0 - 3,
                y - 2.5,
                _tick_text(tick, kpi.unit),
                fontName=FONT,
                fontSize=FONT_SIZE,
                fillColor=AXIS,
                textAnchor="end",
            )
        )
    drawing.add(Line(x0, y0, x0, y1, strokeColor=AXIS, strokeWidth=0.75))
    drawing.add(Line(x0, y0, x1, y0, strokeColor=AXIS, strokeWidth=0.75))

    if target is not None:
        drawing.add(
            Line(
                x0,
                y_of(target),
                x1,
                y_of(target),
                strokeColor=TARGET,
                strokeWidth=1,
                strokeDashArray=[4, 2],
            )
        )

    step = (x1 - x0) / max(len(points), 1)
    xs = [x0 + step * (index + 0.5) for index in range(len(points))]
    for index, point in enumerate(points):
        month = point["month"]
        drawing.add(
            String(
                xs[index],
                y0 - 9,
                f"{month:%m}",
                fontName=FONT,
                fontSize=FONT_SIZE,
                fillColor=AXIS,
                textAnchor="middle",
            )
        )
        # the year under the first month and under each January; not under a first month
        # whose next is January (the two years would overlap)
        january_next = index + 1 < len(points) and points[index + 1]["month"].month == 1
        if month.month == 1 or (index == 0 and not january_next):
            drawing.add(
                String(
                    xs[index],
                    y0 - 18,
                    f"{month:%Y}",
                    fontName=FONT,
                    fontSize=FONT_SIZE,
                    fillColor=AXIS,
                    textAnchor="middle",
                )
            )

    # The line breaks where a month has no value, so a gap is never drawn as a trend.
    run: list[float] = []
    for index, value in enumerate([*values, None]):
        if value is not None:
            run += [xs[index], y_of(value)]
            continue
        if len(run) >= 4:
            drawing.add(PolyLine(run, strokeColor=LINE, strokeWidth=1.5))
        run = []
    for x, value in zip(xs, values, strict=True):
        if value is not None:
            drawing.add(Circle(x, y_of(value), 2, fillColor=LINE, strokeColor=LINE))
    return drawing


_PROLOG = re.compile(r"\A.*?(?=<svg[\s>])", re.DOTALL)


def svg(drawing: Drawing, title: str) -> Markup:
    """The drawing as an inline <svg>: no XML prolog or doctype, role="img" and `title`
    (what the chart shows, in words) as its accessible name and <title>."""
    text = renderSVG.drawToString(
        drawing,
        useClip=True,  # no clipPath id: several charts share one page
        svgAttrs={"role": "img", "aria-label": str(title), "class": "kpi-chart"},
    )
    text = _PROLOG.sub("", text, count=1)
    text = text.replace("<title>...</title>", f"<title>{escape(title)}</title>", 1)
    text = text.replace("<desc>...</desc>", "", 1)
    # reportlab names its outer group "group"; ids must be unique on a page.
    text = text.replace(' id="group"', "", 1)
    # Safe: reportlab wrote every attribute and text node through minidom (escaped), and
    # the title is escaped above.
    return Markup(text)  # noqa: S704
