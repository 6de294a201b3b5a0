"""A resident's vitals page (last day, week or month) and the CSV export of its readings.

Whoever app.policy lets see the resident sees their vitals: the resident, linked caregivers,
their team's doctors and nurses, and administrators with a reason (`?reason=`, kept in the
audit log). An unknown `range` answers 400: a wrong address is said so, never quietly
replaced by another period. The day is drawn from raw readings, a week or a month from the
hourly roll-ups (wearables/rollups.py); the CSV export always has the raw readings.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from app.accounts.models import Role
from app.contracts.page_routes import ask_reason
from app.extensions import db
from app.labels import label
from app.policy import roles_required
from app.residents.routes import given_reason, visible_resident
from app.timeutil import to_local, utcnow
from wearables import charts, rollups
from wearables.ingest import readings_of
from wearables.metrics import METRICS
from wearables.models import Device, Reading

bp = Blueprint("wearables", __name__, url_prefix="/vitals", template_folder="templates")

any_role = roles_required(*Role)

RANGES = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=30)}
RANGE_LABELS = {"day": _l("Last 24 hours"), "week": _l("Last 7 days"), "month": _l("Last 30 days")}
DEFAULT_RANGE = "week"
# UCUM units as people write them.
UNIT_SHOWN = {"mm[Hg]": "mmHg", "Cel": "°C", "/d": "/d", "/min": "/min"}
BLOOD_PRESSURE = ("systolic_bp", "diastolic_bp")
CSV_COLUMNS = (
    "measured_at",
    "metric",
    "value",
    "unit",
    "original_value",
    "original_unit",
    "device_serial",
)


def unit_shown(unit: str | None) -> str:
    return UNIT_SHOWN.get(unit, unit) if unit else ""


def chosen_range() -> tuple[str, datetime, datetime]:
    """The range asked for (400 when unknown) and its start and end, in UTC."""
    name = request.args.get("range") or DEFAULT_RANGE
    if name not in RANGES:
        abort(400, description=_("Unknown range: choose day, week or month."))
    end = utcnow()
    return name, end - RANGES[name], end


@dataclass
class Summary:
    metric: str
    label: str
    unit: str
    latest: Reading
    count: int
    low: float
    high: float
    mean: float
    points: list  # (time, value) drawn and tabled: readings, or averages on week and month
    bars: list = field(default_factory=list)  # (time, lowest, highest) beside the averages

    @property
    def rows(self) -> list[tuple]:
        """The table: time and value, and on week and month the lowest and the highest."""
        if not self.bars:
            return [(when, value, None, None) for when, value in self.points]
        return [(w, v, lo, hi) for (w, v), (_, lo, hi) in zip(self.points, self.bars, strict=True)]

    def sentence(self) -> str:
        return _(
            "%(label)s: %(count)s readings, lowest %(low)s, highest %(high)s, average "
            "%(mean)s %(unit)s; latest %(latest)s %(unit)s at %(time)s.",
            label=self.label,
            count=self.count,
            low=charts.number(self.low),
            high=charts.number(self.high),
            mean=charts.number(self.mean),
            unit=self.unit,
            latest=charts.number(self.latest.value),
            time=local_text(self.latest.measured_at),
        )


@dataclass
class Panel:
    title: str
    summaries: list[Summary]
    chart: Markup

    @property
    def with_bars(self) -> bool:
        return any(s.bars for s in self.summaries)


def bars_explained() -> str:
    return _(
        "Each point is the average of an hour or more of readings; the bar behind it reaches "
        "from the lowest to the highest of them."
    )


def local_text(when: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return to_local(when).strftime(fmt)


def summary_of_readings(resident_id: int, metric: str, start, end) -> Summary | None:
    """The last day: every reading."""
    readings = [r for r in readings_of(resident_id, metric, start, end) if r.value is not None]
    if not readings:
        return None
    values = [r.value for r in readings]
    points = charts.downsample([(r.measured_at, r.value) for r in readings])
    latest = readings[-1]
    return Summary(
        metric,
        label(metric, "Metric"),
        unit_shown(latest.unit),
        latest,
        len(values),
        min(values),
        max(values),
        sum(values) / len(values),
        points,
    )


def summary_of_hours(
    resident_id: int, metric: str, hours: list[rollups.Hour], start, end
) -> Summary | None:
    """A week or a month: hourly figures (wearables.rollups.hours_of), whose count, lowest,
    highest and count-weighted average are those of every reading of the range."""
    hours = [h for h in hours if h.mean is not None]
    latest = latest_reading(resident_id, metric, start, end) if hours else None
    if latest is None:
        return None
    count = sum(h.count for h in hours)
    figures = [(h.hour, h.count, h.minimum, h.maximum, h.mean) for h in hours]
    points, bars = charts.downsample_figures(figures)
    return Summary(
        metric,
        label(metric, "Metric"),
        unit_shown(latest.unit),
        latest,
        count,
        min(h.minimum for h in hours),
        max(h.maximum for h in hours),
        # a value metric's count is its number of values (only events have none)
        sum(h.mean * h.count for h in hours) / count,
        points,
        bars,
    )


def latest_reading(resident_id: int, metric: str, start, end) -> Reading | None:
    return db.session.scalars(
        sa.select(Reading)
        .where(
            Reading.resident_id == resident_id,
            Reading.metric == metric,
            Reading.measured_at >= start,
            Reading.measured_at < end,
            Reading.value.is_not(None),
        )
        .order_by(Reading.measured_at.desc())
        .limit(1)
    ).first()


def summaries_of(resident_id: int, range_name: str, start, end) -> dict[str, Summary]:
    """The day reads raw readings; a week or a month the hourly roll-ups (with what they
    have not seen yet), so a month of minute-by-minute heart rate is not 43,200 rows."""
    names = [m.name for m in METRICS.values() if not m.is_event]
    if range_name == "day":
        found = {n: summary_of_readings(resident_id, n, start, end) for n in names}
    else:
        hours = rollups.hours_of(resident_id, names, start, end)
        found = {n: summary_of_hours(resident_id, n, hours[n], start, end) for n in names}
    return {name: summary for name, summary in found.items() if summary is not None}


def panels_of(resident_id: int, range_name: str, start: datetime, end: datetime) -> list[Panel]:
    tick_format = "%H:%M" if range_name == "day" else "%m-%d"
    found = summaries_of(resident_id, range_name, start, end)
    panels = []
    for metric in METRICS.values():
        if metric.is_event or metric.name == BLOOD_PRESSURE[1]:
            continue
        names = BLOOD_PRESSURE if metric.name == BLOOD_PRESSURE[0] else (metric.name,)
        summaries = [found[n] for n in names if n in found]
        if not summaries:
            continue
        title = _("Blood pressure") if len(names) > 1 else summaries[0].label
        with_bars = any(s.bars for s in summaries)
        desc = " ".join(
            [
                _(
                    "From %(start)s to %(end)s.",
                    start=local_text(start),
                    end=local_text(end),
                ),
                *(s.sentence() for s in summaries),
                *([bars_explained()] if with_bars else []),
            ]
        )
        chart = charts.line_chart(
            [charts.Line(s.label, s.points, s.bars) for s in summaries],
            start,
            end,
            title,
            desc,
            lambda when: local_text(when, tick_format),
            unit=summaries[0].unit,
            bar_label=_("Lowest to highest") if with_bars else "",
        )
        panels.append(Panel(title, summaries, chart))
    return panels


@bp.get("/<int:resident_id>")
@any_role
def vitals(resident_id):
    range_name, start, end = chosen_range()
    reason = given_reason(request.args)
    resident = visible_resident(resident_id, "view", reason)
    if resident is None:
        return ask_reason()
    events = sorted(
        (
            r
            for m in METRICS.values()
            if m.is_event
            for r in readings_of(resident.id, m.name, start, end)
        ),
        key=lambda r: r.measured_at,
        reverse=True,
    )
    return render_template(
        "wearables/vitals.html",
        resident=resident,
        reason=reason,
        range_name=range_name,
        ranges=RANGE_LABELS,
        start=start,
        end=end,
        panels=panels_of(resident.id, range_name, start, end),
        events=events,
        number=charts.number,
    )


@bp.get("/<int:resident_id>/export.csv")
@any_role
def export(resident_id):
    """The readings of the range as CSV, UTF-8 with a BOM so that Excel reads the Chinese."""
    range_name, start, end = chosen_range()
    reason = given_reason(request.args)
    resident = visible_resident(resident_id, "export", reason)
    if resident is None:
        return ask_reason()
    rows = db.session.execute(
        sa.select(Reading, Device.serial)
        .join(Device, Device.id == Reading.device_id)
        .where(
            Reading.resident_id == resident.id,
            Reading.measured_at >= start,
            Reading.measured_at < end,
        )
        .order_by(Reading.measured_at, Reading.metric, Reading.id)
    ).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for reading, serial in rows:
        writer.writerow(
            [
                to_local(reading.measured_at).isoformat(),
                reading.metric,
                "" if reading.value is None else reading.value,
                reading.unit or "",
                "" if reading.original_value is None else reading.original_value,
                reading.original_unit or "",
                serial,
            ]
        )
    filename = f"vitals-{resident.id}-{range_name}-{local_text(end, '%Y%m%d')}.csv"
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
