"""What the two reports' PDFs show, section by section (the page furniture is pdf.py's).

Each function takes the report's content as weekly.check / monthly.review give it (dates
and times still Python objects) and returns a `story(kit)` for pdf.render.
"""

from __future__ import annotations

from itertools import count

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer, Table, TableStyle

from app.contracts import stats as signing
from app.kpis import registry
from app.kpis.areas import Period
from app.kpis.labels import (
    DASH,
    GROUP_LABELS,
    figure_text,
    fraction_text,
    kpi_label,
    points_text,
    setting_text,
    value_text,
)
from app.kpis.registry import MINUTES, SHARE
from app.kpis.settings import Setting
from app.reports.monthly import is_calendar_month
from app.reports.pdf import WIDTH, Kit, section
from app.reports.weekly import OLDEST
from app.templating import localtime

# The key groups under the signing rate, everyone first (as the contracts' figures page).
GROUPS = {signing.ALL: _l("All residents"), **GROUP_LABELS}
AREA_COLUMNS = 7  # KPI columns per committee/team table, so an A4 page holds them
CHARTS_PER_ROW = 2  # at three a row, a chart's month and year labels run into each other
CHART_HEIGHT = 112


def label(key: str) -> str:
    return str(kpi_label(key))


def _basis(item: dict) -> str:
    """What a value is made of: "4 / 7" for a share, how many alerts for minutes."""
    if item["denominator"] is None:
        return DASH
    if item["unit"] == SHARE:
        return fraction_text(item)
    if item["unit"] == MINUTES:
        return f"n = {item['denominator']}"
    return DASH


def _period(period: dict) -> str:
    return gettext(
        "%(start)s to %(end)s", start=period["start"].isoformat(), end=period["end"].isoformat()
    )


# --- the monthly review ------------------------------------------------------------------------


def _key_figures(kit: Kit, number: int, content: dict) -> list:
    before = {item["key"]: item for item in content["previous"]["figures"]}
    year_ago = {item["key"]: item for item in content["last_year"]["figures"]}
    month = is_calendar_month(Period(content["period"]["start"], content["period"]["end"]))
    rows = [
        [
            kit.p(text, "head")
            for text in (
                gettext("Indicator"),
                gettext("This period"),
                gettext("Basis"),
                gettext("Month before") if month else gettext("Period before"),
                gettext("Same month last year") if month else gettext("A year before"),
                gettext("Target"),
                gettext("Assessment"),
            )
        ]
    ]
    fills = []
    for index, item in enumerate(content["figures"], 1):
        unit = item["unit"]
        cell, fill = kit.colour_cell(item)
        if fill is not None:
            fills.append((6, index, fill))
        rows.append(
            [
                kit.p(label(item["key"])),
                kit.p(figure_text(item), "number"),
                kit.p(_basis(item), "number"),
                kit.p(figure_text(before[item["key"]]), "number"),
                kit.p(figure_text(year_ago[item["key"]]), "number"),
                kit.p(setting_text(unit, item["target"]), "number"),
                cell,
            ]
        )
    widths = [48 * mm, 22 * mm, 20 * mm, 22 * mm, 22 * mm, 22 * mm]
    table = kit.grid(rows, [*widths, WIDTH - sum(widths)], fills)
    note = gettext(
        "Compared with %(before)s and %(year)s. Colours against the town's targets: good "
        "(target met), near (between the target and the yellow line) or below.",
        before=_period(content["previous"]["period"]),
        year=_period(content["last_year"]["period"]),
    )
    return section(kit, number, gettext("Key figures"), table, kit.p(note, "note"))


def _signing_groups(kit: Kit, number: int, content: dict) -> list:
    signing = next((item for item in content["figures"] if item["key"] == "signing_rate"), None)
    groups = (signing or {}).get("detail", {}).get("groups")
    if not groups:
        return []
    rows = [
        [
            kit.p(text, "head")
            for text in (
                gettext("Group"),
                gettext("Registered"),
                gettext("Signed"),
                gettext("Signing rate"),
            )
        ]
    ]
    for key, group in groups.items():
        rows.append(
            [
                kit.p(str(GROUPS.get(key, key))),
                kit.p(str(group["registered"]), "number"),
                kit.p(str(group["signed"]), "number"),
                kit.p(value_text(SHARE, group["rate"]), "number"),
            ]
        )
    widths = [70 * mm, 36 * mm, 36 * mm]
    table = kit.grid(rows, [*widths, WIDTH - sum(widths)])
    return section(kit, number, gettext("Signing by key group"), table, keep=True)


def _score_sheet(kit: Kit, number: int, content: dict) -> list:
    score = content["score"]
    units = {item["key"]: item["unit"] for item in content["figures"]}
    rows = [
        [
            kit.p(text, "head")
            for text in (
                gettext("Indicator"),
                gettext("Weight (points)"),
                gettext("Target"),
                gettext("This period"),
                gettext("Points"),
            )
        ]
    ]
    for item in score["rows"]:
        unit = units.get(item["key"])
        rows.append(
            [
                kit.p(label(item["key"])),
                kit.p(str(item["weight"]), "number"),
                kit.p(setting_text(unit, item["target"]), "number"),
                kit.p(value_text(unit, item["value"]), "number"),
                kit.p(points_text(item["points"]), "number"),
            ]
        )
    rows.append(
        [
            kit.p(gettext("Total")),
            kit.p(str(score["out_of"]), "number"),
            kit.p(""),
            kit.p(""),
            kit.p(points_text(score["points"]), "number"),
        ]
    )
    widths = [66 * mm, 26 * mm, 30 * mm, 30 * mm]
    table = kit.grid(rows, [*widths, WIDTH - sum(widths)], total_row=True)
    total = gettext(
        "Score: %(points)s points out of %(out_of)s.",
        points=points_text(score["points"]),
        out_of=score["out_of"],
    )
    return section(
        kit, number, gettext("Score sheet"), table, Spacer(1, 4), kit.p(total, "body"), keep=True
    )


def _areas(kit: Kit, number: int, title: str, heading: str, rows: list[dict]) -> list:
    """One row per committee or team, the KPIs across (in tables of AREA_COLUMNS)."""
    if not rows:
        return section(kit, number, title, kit.p(gettext("None."), "body"))
    keys = [item["key"] for item in rows[0]["figures"]]
    tables = []
    name_width = 32 * mm
    for first in range(0, len(keys), AREA_COLUMNS):
        chunk = keys[first : first + AREA_COLUMNS]
        table_rows = [[kit.p(heading, "head")] + [kit.p(label(key), "head") for key in chunk]]
        fills = []
        for index, row in enumerate(rows, 1):
            by_key = {item["key"]: item for item in row["figures"]}
            cells = [kit.p(row["name"])]
            for column, key in enumerate(chunk, 1):
                item = by_key[key]
                cell, fill = kit.colour_cell(item, figure_text(item))
                cells.append(cell)
                if fill is not None:
                    fills.append((column, index, fill))
            table_rows.append(cells)
        width = (WIDTH - name_width) / AREA_COLUMNS
        table = kit.grid(table_rows, [name_width] + [width] * len(chunk), fills)
        tables.append(KeepTogether([table, Spacer(1, 6)]))  # splits only if over a page
    return section(kit, number, title, *tables)


def _trends(kit: Kit, number: int, content: dict) -> list:
    from app.kpis.charts import trend_drawing  # drawn with reportlab graphics

    width = WIDTH / CHARTS_PER_ROW
    cells = []
    for item in content["figures"]:
        kpi = registry.get(item["key"])
        if kpi is None:
            continue
        setting = Setting(item["target"], item["yellow"], item["weight"])
        drawing = trend_drawing(
            content["trend"], kpi, setting, width=width - 8, height=CHART_HEIGHT
        )
        cells.append([kit.p(label(item["key"]), "head"), drawing])
    grid = [cells[i : i + CHARTS_PER_ROW] for i in range(0, len(cells), CHARTS_PER_ROW)]
    if grid and len(grid[-1]) < CHARTS_PER_ROW:
        grid[-1] += [""] * (CHARTS_PER_ROW - len(grid[-1]))
    table = Table(grid, colWidths=[width] * CHARTS_PER_ROW)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    note = gettext("Month by month over the last 12 months; the dashed line is the target.")
    return section(
        kit, number, gettext("Trends over the last 12 months"), table, kit.p(note, "note")
    )


def monthly_story(content: dict):
    def story(kit: Kit) -> list:
        numbers = count(1)
        parts = _key_figures(kit, next(numbers), content)
        parts += _signing_groups(kit, next(numbers), content)
        parts += _score_sheet(kit, next(numbers), content)
        by_kind = {"neighbourhood": [], "team": []}
        for row in content["rows"]:
            by_kind.setdefault(row["kind"], []).append(row)
        parts += _areas(
            kit,
            next(numbers),
            gettext("Neighbourhood committees"),
            gettext("Committee"),
            by_kind["neighbourhood"],
        )
        parts += _areas(
            kit, next(numbers), gettext("Family-doctor teams"), gettext("Team"), by_kind["team"]
        )
        parts += _trends(kit, next(numbers), content)
        return parts

    return story


# --- the weekly check ------------------------------------------------------------------------


def _value(value, kind: str) -> str:
    if kind == OLDEST:
        return localtime(value) if value is not None else DASH
    return str(value)


def weekly_story(content: dict):
    def story(kit: Kit) -> list:
        parts = []
        for number, part in enumerate(content["sections"], 1):
            columns = part["columns"]
            rows = [[kit.p(gettext("Team"), "head")]]
            rows[0] += [kit.p(column["label"], "head") for column in columns]
            named = [*part["rows"], {"team": gettext("Whole town"), **part["town"]}]
            for row in named:
                name = row["team"] if row["team"] is not None else gettext("No contract team")
                cells = [kit.p(name)]
                cells += [kit.p(_value(row[c["key"]], c["kind"]), "number") for c in columns]
                rows.append(cells)
            name_width = 60 * mm
            width = (WIDTH - name_width) / len(columns)
            table = kit.grid(rows, [name_width] + [width] * len(columns), total_row=True)
            parts += section(kit, number, part["title"], table, kit.p(part["note"], "note"))
        return parts

    return story
