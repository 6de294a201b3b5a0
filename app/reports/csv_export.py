"""The reports as CSV: UTF-8 with a byte-order mark (so a spreadsheet opens Chinese right),
one row per figure. Values are the raw numbers (a share as 0..1, minutes, counts; a time in
ISO 8601, Shanghai), so the file can be summed and compared; the PDF shows them formatted.

Columns: section, area, key, label, unit, value, numerator, denominator, previous,
last_year, target, colour, points. `section` and `key` are stable codes; the header, area
names, labels and colour words are in the report's language.
"""

from __future__ import annotations

import csv
import io

from flask_babel import gettext

from app.kpis.labels import colour_word
from app.reports.layouts import label
from app.reports.weekly import OLDEST
from app.timeutil import to_local

N_ = str  # msgids, translated where shown

BOM = "\ufeff"
HEADER = (
    N_("Section"),
    N_("Area"),
    N_("Key"),
    N_("Label"),
    N_("Unit"),
    N_("Value"),
    N_("Numerator"),
    N_("Denominator"),
    N_("Period before"),
    N_("A year before"),
    N_("Target"),
    N_("Assessment"),
    N_("Points"),
)


def _number(value) -> str:
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)


def _write(rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([gettext(name) for name in HEADER])
    writer.writerows(rows)
    return BOM + buffer.getvalue()


def _figure_row(section: str, area: str, item: dict, before=None, year_ago=None, points=None):
    return [
        section,
        area,
        item["key"],
        label(item["key"]),
        item["unit"],
        _number(item["value"]),
        _number(item["numerator"]),
        _number(item["denominator"]),
        _number(before),
        _number(year_ago),
        _number(item["target"]),
        colour_word(item) if item["colour"] else "",
        _number(points),
    ]


def monthly(content: dict) -> str:
    town = gettext("Whole town")
    before = {item["key"]: item["value"] for item in content["previous"]["figures"]}
    year_ago = {item["key"]: item["value"] for item in content["last_year"]["figures"]}
    points = {row["key"]: row["points"] for row in content["score"]["rows"]}
    rows = [
        _figure_row(
            "town",
            town,
            item,
            before[item["key"]],
            year_ago[item["key"]],
            points.get(item["key"]),
        )
        for item in content["figures"]
    ]
    score = content["score"]
    rows.append(
        ["score", town, "total", gettext("Total"), "points", _number(score["points"]),
         "", "", "", "", _number(score["out_of"]), "", _number(score["points"])]
    )  # fmt: skip
    for area in content["rows"]:
        rows += [_figure_row(area["kind"], area["name"], item) for item in area["figures"]]
    return _write(rows)


def weekly(content: dict) -> str:
    rows = []
    for part in content["sections"]:
        named = [*part["rows"], {"team": gettext("Whole town"), **part["town"]}]
        for row in named:
            area = row["team"] if row["team"] is not None else gettext("No contract team")
            for column in part["columns"]:
                value = row[column["key"]]
                if column["kind"] == OLDEST:
                    value = to_local(value).isoformat() if value is not None else ""
                    unit = "datetime"
                else:
                    unit = "count"
                rows.append(
                    [part["key"], area, column["key"], column["label"], unit, _number(value)]
                    + [""] * 7
                )
    return _write(rows)
