"""Storing readings: the rules every format and transport shares (HTTP now; MQTT uses the
same function). Units are normalised and the original kept; a value outside what a body
can show, a unit that does not fit, a time too far ahead or too old is refused with its
reason; accepted readings of one request go in together, and a repeat is a duplicate."""

from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.errors import N_
from app.extensions import db
from app.timeutil import utcnow
from wearables import rules
from wearables.metrics import METRICS, Candidate, Rejection
from wearables.models import Device, Reading, ReadingSource


@dataclass
class IngestResult:
    accepted: int = 0
    duplicate: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "accepted": self.accepted,
            "duplicate": self.duplicate,
            "rejected": [{"index": r.index, "reason": r.reason} for r in self.rejected],
        }


def judge(candidate: Candidate, now) -> dict | Rejection:
    """The row to store for a candidate, or why it is refused."""
    metric = METRICS[candidate.metric]
    if candidate.measured_at > now + timedelta(minutes=5):
        return Rejection(candidate.index, N_("measured_at is more than 5 minutes in the future"))
    window = timedelta(days=current_app.config["INGEST_MAX_AGE_DAYS"])
    if candidate.measured_at < now - window:
        return Rejection(candidate.index, N_("measured_at is older than the accepted window"))
    row = {"metric": metric.name, "measured_at": candidate.measured_at}
    if metric.is_event:
        return row | {"value": None, "unit": None, "original_value": None, "original_unit": None}
    if not metric.accepts(candidate.unit):
        return Rejection(candidate.index, N_("unit does not fit the metric"))
    convert = metric.conversions.get(candidate.unit, float)
    value = round(convert(candidate.value), 4)
    if not metric.low <= value <= metric.high:
        return Rejection(candidate.index, N_("value outside the physiologically possible range"))
    return row | {
        "value": value,
        "unit": metric.unit,
        "original_value": candidate.value,
        "original_unit": candidate.unit,
    }


def _insert_ignoring_duplicates(rows: list[dict]) -> list:
    """Insert, skipping rows whose (device, metric, time) exists: the database decides, so a
    retry racing the original cannot store twice. Returns the new rows as (id, metric,
    value, measured_at): what the alert rules judge."""
    if not rows:
        return []
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # The table with the rows as executemany parameters, not .values(rows) on the entity:
    # SQLAlchemy then compiles one cached statement and sends the rows in multi-row batches
    # (insertmanyvalues), instead of building and compiling a statement with a bind
    # parameter per value on every request (two thirds of a request's time; bench/ingest.py).
    table = Reading.__table__
    statement = (
        insert(table)
        .on_conflict_do_nothing(index_elements=["device_id", "metric", "measured_at"])
        .returning(table.c.id, table.c.metric, table.c.value, table.c.measured_at)
    )
    return db.session.execute(statement, rows).all()


def store(
    device: Device,
    candidates: list[Candidate],
    rejections: list[Rejection],
    source: ReadingSource,
    battery: int | None = None,
) -> IngestResult:
    now = utcnow()
    result = IngestResult(rejected=list(rejections))
    rows, seen = [], set()
    for candidate in candidates:
        judged = judge(candidate, now)
        if isinstance(judged, Rejection):
            result.rejected.append(judged)
            continue
        key = (judged["metric"], judged["measured_at"])
        if key in seen:  # the same reading twice in one request
            result.duplicate += 1
            continue
        seen.add(key)
        rows.append(
            judged
            | {
                "device_id": device.id,
                "resident_id": device.resident_id,
                "source": source,
                "received_at": now,
            }
        )
    new = _insert_ignoring_duplicates(rows)
    result.accepted = len(new)
    result.duplicate += len(rows) - len(new)
    result.rejected.sort(key=lambda r: r.index)
    previous_seen, previous_battery = device.last_seen_at, device.battery_level
    # "Last seen" to the second: a burst of messages from one device then writes the
    # device row once a second, not once a message.
    if device.last_seen_at is None or now - device.last_seen_at >= timedelta(seconds=1):
        device.last_seen_at = now
    if battery is not None:
        device.battery_level = battery
    # In this transaction: an alert commits with the readings that raised it, or not at all.
    rules.evaluate(device, new, now, previous_seen, previous_battery)
    return result


def readings_of(resident_id: int, metric: str, since, until) -> list[Reading]:
    query = (
        sa.select(Reading)
        .where(
            Reading.resident_id == resident_id,
            Reading.metric == metric,
            Reading.measured_at >= since,
            Reading.measured_at < until,
        )
        .order_by(Reading.measured_at)
    )
    return list(db.session.scalars(query).all())
