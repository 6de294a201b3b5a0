"""The board: every KPI for an area over a period, with colours, the rows beneath it (the
committees and teams under the town), the score sheet and the monthly trend. The API, the
page and the reports all read `board()`, so they show the same numbers.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from app.accounts.models import User
from app.extensions import db
from app.kpis import registry, settings
from app.kpis.areas import (
    Area,
    AreaKind,
    Breakdown,
    Ctx,
    Period,
    allowed_ids,
    areas,
    resolve_area,
    scope_for,
)
from app.kpis.models import KpiSnapshot
from app.kpis.registry import COUNT, Measure
from app.timeutil import add_months, local_today, utcnow

TREND_MONTHS = 12
EMPTY = Measure(None)


def compute(breakdown: Breakdown, period: Period) -> dict[int, dict[str, Measure]]:
    """{area_id: {kpi key: Measure}} for every area of the breakdown that has data."""
    ctx = Ctx(breakdown, period)
    listed = [area.id for area in areas(breakdown.kind, breakdown.ids)]
    by_area: dict[int, dict[str, Measure]] = {}
    for kpi in registry.all_kpis():
        found = kpi.measure(ctx)
        if kpi.unit == COUNT:  # nothing happened is a count of 0, not "no data"
            found = {area_id: Measure(0) for area_id in listed} | found
        for area_id, measure in found.items():
            by_area.setdefault(area_id, {})[kpi.key] = measure
    return by_area


def values_for(area: Area, period: Period) -> dict[str, Measure]:
    found = compute(
        Breakdown(area.kind, None if area.kind == AreaKind.TOWN else (area.id,)), period
    )
    return found.get(area.id, {})


def figures(values: dict[str, Measure], current: dict[str, settings.Setting]) -> list[dict]:
    """One entry per KPI: its value, what it is made of, its setting and its colour."""
    rows = []
    for kpi in registry.all_kpis():
        measure = values.get(kpi.key, EMPTY)
        setting = current[kpi.key]
        rows.append(
            {
                "key": kpi.key,
                "unit": kpi.unit,
                "better": kpi.better,
                **measure.as_dict(),
                **setting.as_dict(),
                "colour": settings.colour(kpi, setting, measure.value),
            }
        )
    return rows


def _rows(user: User | None, area: Area, period: Period, current) -> list[dict]:
    """Under the town: each committee and each team the user may see, with its figures."""
    if area.kind != AreaKind.TOWN:
        return []
    scope = scope_for(user)
    rows = []
    for kind in (AreaKind.NEIGHBOURHOOD, AreaKind.TEAM):
        ids = allowed_ids(scope, kind)
        found = compute(Breakdown(kind, ids), period)
        for sub in areas(kind, ids):
            rows.append(sub.as_dict() | {"figures": figures(found.get(sub.id, {}), current)})
    return rows


# --- the monthly trend -------------------------------------------------------------------------


def months_up_to(last: date, count: int = TREND_MONTHS) -> list[date]:
    first = last.replace(day=1)
    return [add_months(first, -offset) for offset in range(count - 1, -1, -1)]


def _snapshots(area: Area, months: list[date]) -> dict[date, dict[str, Measure]]:
    query = sa.select(KpiSnapshot).where(
        KpiSnapshot.area_kind == area.kind.value,
        KpiSnapshot.area_id == area.id,
        KpiSnapshot.month.in_(months),
    )
    found: dict[date, dict[str, Measure]] = {}
    for snap in db.session.scalars(query):
        found.setdefault(snap.month, {})[snap.key] = Measure(
            snap.value, snap.numerator, snap.denominator
        )
    return found


def trend(area: Area, last: date, count: int = TREND_MONTHS) -> list[dict]:
    """The KPIs month by month up to `last`'s month: closed months from the snapshots (the
    nightly job keeps them), any month without one and the running month computed now."""
    months = months_up_to(last, count)
    stored = _snapshots(area, months)
    this_month = local_today().replace(day=1)
    points = []
    for month in months:
        if month > this_month:
            break
        values = stored.get(month) if month < this_month else None
        if values is None:
            values = values_for(area, Period.month(month))
        points.append(
            {
                "month": month,
                "values": {key: measure.value for key, measure in values.items()},
            }
        )
    return points


def board(
    user: User | None, kind: AreaKind, area_id: int | None, period: Period, rows: bool = True
) -> dict:
    """Everything the board shows for one area that `user` may look at (None: the platform,
    for scheduled reports, sees everything)."""
    area = resolve_area(user, kind, area_id)
    current = settings.current()
    values = values_for(area, period)
    return {
        "area": area.as_dict(),
        "period": period.as_dict(),
        "generated_at": utcnow(),
        "figures": figures(values, current),
        "score": settings.score_sheet(values, current),
        "rows": _rows(user, area, period, current) if rows else [],
        "trend": trend(area, period.end),
    }


# --- the nightly snapshots ---------------------------------------------------------------------


def snapshot_month(month: date) -> int:
    """Compute and store every area's KPIs for one closed month (replacing what was stored),
    written as one multi-row INSERT rather than a statement a row."""
    period = Period.month(month)
    db.session.execute(sa.delete(KpiSnapshot).where(KpiSnapshot.month == period.start))
    rows = []
    computed_at = utcnow()
    for kind in AreaKind:
        found = compute(Breakdown(kind), period)
        listed = {area.id for area in areas(kind)} | set(found)
        for area_id in sorted(listed):
            values = found.get(area_id, {})
            for kpi in registry.all_kpis():
                measure = values.get(kpi.key, EMPTY)
                rows.append(
                    {
                        "month": period.start,
                        "area_kind": kind.value,
                        "area_id": area_id,
                        "key": kpi.key,
                        "value": measure.value,
                        "numerator": measure.numerator,
                        "denominator": measure.denominator,
                        "computed_at": computed_at,
                    }
                )
    if rows:
        db.session.execute(sa.insert(KpiSnapshot), rows)
    return len(rows)


def snapshot_closed_months(months: int = 2 * TREND_MONTHS) -> int:
    """The job: recompute last month (late entries still change it) and fill any closed
    month of the last two years that has no snapshot yet."""
    this_month = local_today().replace(day=1)
    wanted = months_up_to(add_months(this_month, -1), months)
    have = set(db.session.scalars(sa.select(KpiSnapshot.month).distinct()))
    todo = [month for month in wanted if month not in have]
    last = wanted[-1]
    if last not in todo:
        todo.append(last)
    stored = 0
    for month in todo:
        stored += snapshot_month(month)
        db.session.commit()
    return stored
