"""Wearable adherence for the town's board: of the devices bound to a resident, the share
that reported (a reading arrived) in the 24 hours before the period's end, or before now
while the period runs. Registered with app/kpis at import.

Bindings have no history, so the devices counted are those bound now; the readings are found
through their arrival index, so a day's window reads only that day's readings."""

from datetime import timedelta

import sqlalchemy as sa

from app.kpis.areas import Ctx, by_resident
from app.kpis.measures import grouped
from app.kpis.registry import HIGHER, SHARE, Kpi, Measure, register
from wearables.models import Device, DeviceStatus, Reading

N_ = str  # msgids, translated where shown
WINDOW = timedelta(hours=24)


def _bound(ctx: Ctx, *columns):
    stop = ctx.period.as_of_instant
    reported = (
        sa.select(Reading.device_id)
        .where(Reading.received_at >= stop - WINDOW, Reading.received_at < stop)
        .distinct()
        .subquery("reported")
    )
    query = (
        sa.select(*columns)
        .select_from(Device)
        .outerjoin(reported, reported.c.device_id == Device.id)
        .where(Device.status == DeviceStatus.ACTIVE, Device.resident_id.is_not(None))
    )
    return by_resident(query, Device.resident_id, ctx), reported


def _adherence(ctx: Ctx) -> dict[int, Measure]:
    (query, area), reported = _bound(ctx)
    query = query.add_columns(
        area,
        sa.func.count(reported.c.device_id).label("met"),
        sa.func.count(Device.id).label("of"),
    )
    return {key: Measure.share(r.met, r.of) for key, r in grouped(query, area, ctx).items()}


def _members(ctx: Ctx) -> sa.Select:
    (query, _area), reported = _bound(ctx)
    return query.add_columns(
        Device.resident_id.label("resident_id"),
        reported.c.device_id.is_not(None).label("met"),
        Device.last_seen_at.label("at"),
        Device.kind.label("note"),
    )


register(
    Kpi(
        "wearable_adherence", N_("Wearable adherence"), SHARE, HIGHER, 0.8, 0.6, 50, 80,
        _adherence, _members,
        N_("Bound devices that reported in the 24 hours before the period's end."),
    )
)  # fmt: skip
