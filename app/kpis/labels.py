"""How the KPI pages write things: a KPI's name in the reader's language, a value in its unit
(a share as "85.2%", minutes as "12.5 分钟" / "12.5 min", counts as they are), the word that
goes with each colour (never colour alone), and the drill-down's notes and dates.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from flask_babel import format_date, gettext
from flask_babel import lazy_gettext as _l

from app.contracts import stats as signing
from app.followups.labels import STATUS_LABELS, value_label
from app.followups.models import Classification, FollowUpStatus
from app.kpis import registry, settings
from app.kpis.registry import COUNT, MINUTES, SHARE
from app.labels import LABELS, label
from app.timeutil import to_local

DASH = "–"

COLOUR_WORDS = {
    settings.GREEN: _l("Good"),  # 达标
    settings.YELLOW: _l("Near"),  # 接近
    settings.RED: _l("Below"),  # 未达标
}
NO_DATA = _l("No data")
NO_TARGET = _l("No target")

# The key groups under the signing rate, in the order the contracts' figures page shows them.
GROUP_LABELS = {
    signing.AGED_65: _l("Aged 65 and over"),
    signing.HYPERTENSION: _l("Hypertension"),
    signing.DIABETES: _l("Type 2 diabetes"),
    signing.LIVING_ALONE: _l("Living alone"),
    signing.DISABLED: _l("Disabled (wheelchair or bedridden)"),
}

# Notes whose enum lives in a feature package (app/ imports no feature): by "Enum.value".
_NOTE_LABELS = {
    "VisitType.video_consult": _l("Video consult"),
    "VisitType.online_revisit": _l("Online re-visit"),
    "VisitType.remote_follow_up": _l("Remote follow-up"),
}


def kpi_label(key: str):
    """The KPI's name, lazily translated (its msgid is the definition's label)."""
    kpi = registry.get(key)
    return _l(kpi.label) if kpi else key


def kpi_description(key: str) -> str:
    kpi = registry.get(key)
    return gettext(kpi.description) if kpi and kpi.description else ""


# --- numbers ----------------------------------------------------------------------------------


def _tenths(value: float, rounding=ROUND_HALF_UP) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal("0.1"), rounding=rounding)


def _trim(number: float) -> str:
    """A setting as typed: 45, 85.3, 12.5 (no trailing zeros)."""
    return f"{round(number, 4):g}"


def minutes_text(number) -> str:
    return gettext("%(minutes)s min", minutes=number)


def value_text(unit: str, value: float | None) -> str:
    """A value in its unit with one decimal (counts whole), or a dash without data."""
    if value is None:
        return DASH
    if unit == SHARE:
        return f"{_tenths(value * 100)}%"
    if unit == MINUTES:
        return minutes_text(_tenths(value))
    return f"{int(round(value))}"


def setting_text(unit: str, number: float | None) -> str:
    """A target or a yellow edge, as the settings page takes it."""
    if number is None:
        return DASH
    if unit == SHARE:
        return f"{_trim(number * 100)}%"
    if unit == MINUTES:
        return minutes_text(_trim(number))
    return _trim(number)


def figure_text(figure: dict) -> str:
    """A board figure's value. A share just short of its target is cut rather than rounded
    up, so a yellow 84.96% against 85% reads 84.9%, never 85.0% (the word and the number
    must agree)."""
    value, unit = figure["value"], figure["unit"]
    if value is None or unit != SHARE or figure.get("colour") is None:
        return value_text(unit, value)
    kpi = registry.get(figure["key"])
    setting = settings.Setting(figure["target"], figure["yellow"], figure.get("weight") or 0)
    for rounding in (ROUND_HALF_UP, ROUND_FLOOR, ROUND_CEILING):
        shown = _tenths(value * 100, rounding)
        if settings.colour(kpi, setting, float(shown) / 100) == figure["colour"]:
            return f"{shown}%"
    return value_text(unit, value)


def fraction_text(figure: dict) -> str:
    """What a share is made of: "412 / 520"; empty when the figure is not a share."""
    if figure["unit"] != SHARE or figure.get("denominator") is None:
        return ""
    return f"{figure['numerator']} / {figure['denominator']}"


def colour_word(figure: dict) -> str:
    """The word beside the colour: 达标 / 接近 / 未达标, else why there is no colour."""
    if figure.get("colour"):
        return str(COLOUR_WORDS[figure["colour"]])
    if figure.get("value") is None:
        return str(NO_DATA)
    return str(NO_TARGET)


def colour_class(figure: dict) -> str:
    return "rag-" + (figure.get("colour") or "none")


def points_text(points: float | None) -> str:
    return DASH if points is None else f"{points:.1f}"


def is_count(unit: str) -> bool:
    return unit == COUNT


# --- the drill-down ---------------------------------------------------------------------------


def note_text(note) -> str:
    """A drill-down row's note in the reader's language where it is a status or a
    classification; an alert's rule and anything else as stored."""
    if note is None:
        return ""
    if isinstance(note, FollowUpStatus):
        return str(STATUS_LABELS[note])
    if isinstance(note, Classification):
        return value_label("classification", note.value)
    if hasattr(note, "value"):
        found = _NOTE_LABELS.get(f"{type(note).__name__}.{note.value}")
        if found is not None:
            return str(found)
        if f"{type(note).__name__}.{note.value}" in LABELS or note.value in LABELS:
            return label(note)
        return str(note.value)
    return str(note)


def day_text(at) -> str:
    """The day a row happened, in Shanghai."""
    if at is None:
        return ""
    if isinstance(at, datetime):
        at = to_local(at).date()
    if isinstance(at, date):
        return format_date(at, "yyyy-MM-dd")
    return str(at)


# --- the charts' words ------------------------------------------------------------------------


def trend_text(key: str, points: list[dict]) -> str:
    """What a trend chart shows, for a screen reader: the KPI, then each month's value."""
    kpi = registry.get(key)
    months = "; ".join(
        f"{point['month']:%Y-%m} "
        + (
            str(NO_DATA)
            if point["values"].get(key) is None
            else value_text(kpi.unit, point["values"][key])
        )
        for point in points
    )
    return gettext("%(kpi)s by month: %(values)s", kpi=kpi_label(key), values=months)
