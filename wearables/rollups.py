"""Hourly roll-ups of readings, and how long readings and roll-ups are kept.

`refresh` (every 10 minutes) recomputes the hours that received readings since its last run;
`purge` (nightly) deletes raw readings READINGS_RETENTION_DAYS after they were received and
roll-ups whose hour is older than ROLLUPS_RETENTION_DAYS. Hours are UTC hours of the time a
reading was measured. Week and month charts read `hours_of`: the roll-ups, completed from
the raw readings the last refresh has not seen yet.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.audit.services import record_event
from app.db_types import UTCDateTime
from app.extensions import db
from app.timeutil import utcnow
from wearables.models import Reading, ReadingRollup

HOUR = timedelta(hours=1)
# A reading is stamped `received_at` when its request starts but is seen only once that
# request commits; each refresh looks back this far before the last one so a slow commit
# is not missed. Recomputing an hour is idempotent: looking back further costs only time.
SAFETY_MARGIN = timedelta(minutes=10)
# SQLAlchemy's storage format for datetimes on SQLite (naive UTC text): an hour the database
# writes in this format compares with, and reads back like, one SQLAlchemy wrote.
SQLITE_HOUR = "%Y-%m-%d %H:00:00.000000"
FIGURES = ("count", "minimum", "maximum", "mean", "refreshed_at")


@dataclass(frozen=True)
class Hour:
    hour: datetime
    count: int
    minimum: float | None
    maximum: float | None
    mean: float | None


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _hour_of(column, dialect: str):
    """The start of the UTC hour a stored time falls in, computed by the database."""
    if dialect == "postgresql":
        # date_trunc on a timestamptz truncates in the session's time zone; truncate the UTC
        # wall time instead and turn it back into a timestamptz.
        utc = sa.literal_column("'UTC'")
        wall = column.op("AT TIME ZONE")(utc)
        return sa.func.date_trunc("hour", wall).op("AT TIME ZONE")(utc)
    return sa.func.strftime(SQLITE_HOUR, column)


def _hour_after(hour, dialect: str):
    if dialect == "postgresql":
        return hour.op("+")(sa.literal_column("interval '1 hour'"))
    return sa.func.strftime(SQLITE_HOUR, hour, "+1 hour")


def _floor(when: datetime) -> datetime:
    return when.replace(minute=0, second=0, microsecond=0)


def watermark() -> datetime | None:
    """Readings received from this time on may not be in the roll-ups yet (None: none are)."""
    last = db.session.scalar(sa.select(sa.func.max(ReadingRollup.refreshed_at)))
    return None if last is None else last - SAFETY_MARGIN


def refresh(now: datetime | None = None) -> int:
    """Scheduled: recompute every (resident, metric, hour) that received a reading since the
    last refresh (everything the first time), from all its raw readings. Returns how many
    hours were written."""
    now = now or utcnow()
    dialect = _dialect()
    since = watermark()
    figures = _every_hour(dialect) if since is None else _hours_touched(since, now, dialect)
    figures = figures.add_columns(sa.literal(now, UTCDateTime()))
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(ReadingRollup).from_select(
        ["resident_id", "metric", "hour", *FIGURES], figures
    )
    statement = statement.on_conflict_do_update(
        index_elements=["resident_id", "metric", "hour"],
        set_={name: statement.excluded[name] for name in FIGURES},
    )
    # an INSERT's rowcount is kept only when asked for (psycopg otherwise reports -1)
    return db.session.execute(statement.execution_options(preserve_rowcount=True)).rowcount


def _aggregates() -> tuple:
    return (
        sa.func.count().label("count"),  # events (fall, sos) count, with no min/max/mean
        sa.func.min(Reading.value).label("minimum"),
        sa.func.max(Reading.value).label("maximum"),
        sa.func.avg(Reading.value).label("mean"),
    )


def _every_hour(dialect: str) -> sa.Select:
    """The first refresh: one pass over all readings (4.3 million in about 4 s on
    PostgreSQL; joined to the list of their hours, as later refreshes are, it took 4 min)."""
    hour = _hour_of(Reading.measured_at, dialect)
    return (
        sa.select(Reading.resident_id, Reading.metric, hour, *_aggregates())
        .where(sa.true())  # SQLite parses INSERT … SELECT … ON CONFLICT only after a WHERE
        .group_by(Reading.resident_id, Reading.metric, hour)
    )


def _hours_touched(since: datetime, now: datetime, dialect: str) -> sa.Select:
    """The hours that received a reading in [since, now), each from all its readings."""
    hour = _hour_of(Reading.measured_at, dialect)
    touched = (
        sa.select(Reading.resident_id, Reading.metric, hour.label("hour"))
        .distinct()
        # Bounded on both sides so that SQLite, which has no statistics, picks the
        # received_at index (measured: 7 ms instead of 240 ms among 864,000 readings). A
        # reading received after `now` is the next refresh's: its watermark is `now` less
        # the margin.
        .where(Reading.received_at >= since, Reading.received_at < now)
        .subquery("touched")
    )
    # a range on measured_at, not equality of hours, so that the (resident, metric, time)
    # index finds each hour's readings
    in_hour = sa.and_(
        Reading.resident_id == touched.c.resident_id,
        Reading.metric == touched.c.metric,
        Reading.measured_at >= touched.c.hour,
        Reading.measured_at < _hour_after(touched.c.hour, dialect),
    )
    if dialect == "postgresql":
        # LATERAL, one index range per touched hour: as a plain join PostgreSQL cannot
        # estimate the computed range and merges the whole index (measured: 1.5 s instead
        # of about 20 ms for 200 hours among 4.3 million readings).
        figures = sa.select(*_aggregates()).where(in_hour).lateral("figures")
        return sa.select(
            touched.c.resident_id, touched.c.metric, touched.c.hour, *figures.c
        ).select_from(touched.join(figures, sa.true()))
    return (
        sa.select(Reading.resident_id, Reading.metric, hour, *_aggregates())
        .join(touched, in_hour)
        .where(sa.true())  # see _every_hour
        .group_by(Reading.resident_id, Reading.metric, hour)
    )


def purge(now: datetime | None = None) -> dict:
    """Scheduled: delete raw readings received more than READINGS_RETENTION_DAYS ago and
    roll-ups of hours more than ROLLUPS_RETENTION_DAYS ago. Returns the counts.

    One statement per table: run nightly, each deletes about a day's worth."""
    now = now or utcnow()
    config = current_app.config
    readings_before = now - timedelta(days=config["READINGS_RETENTION_DAYS"])
    hours_before = now - timedelta(days=config["ROLLUPS_RETENTION_DAYS"])
    # A reading goes only once the roll-ups have seen it: should refreshing stop, raw
    # readings outstay their retention rather than vanish from the charts unrolled.
    rolled_up = watermark()
    readings = 0
    if rolled_up is not None:
        cutoff = min(readings_before, rolled_up)
        deleted = db.session.execute(sa.delete(Reading).where(Reading.received_at < cutoff))
        readings = deleted.rowcount or 0
    deleted = db.session.execute(sa.delete(ReadingRollup).where(ReadingRollup.hour < hours_before))
    counts = {"readings": readings, "rollups": deleted.rowcount or 0}
    if readings or counts["rollups"]:
        record_event(
            "retention",
            0,
            "wearables.purged",
            data=counts
            | {
                "readings_received_before": readings_before.isoformat(),
                "rollup_hours_before": hours_before.isoformat(),
            },
        )
    return counts


def hourly(resident_id: int, metric: str, since: datetime, until: datetime) -> list[ReadingRollup]:
    """The stored roll-ups of the hours that start in [since, until), oldest first, as of
    the last refresh."""
    query = (
        sa.select(ReadingRollup)
        .where(
            ReadingRollup.resident_id == resident_id,
            ReadingRollup.metric == metric,
            ReadingRollup.hour >= since,
            ReadingRollup.hour < until,
        )
        .order_by(ReadingRollup.hour)
    )
    return list(db.session.scalars(query).all())


def hours_of(
    resident_id: int, metrics: Sequence[str], start: datetime, end: datetime
) -> dict[str, list[Hour]]:
    """Each metric hour by hour over [start, end), oldest first, with every reading in it.

    Roll-ups stand in for the whole hours the last refresh has seen; raw readings give the
    rest: the hours cut by `start` or `end` (their roll-up would count readings outside the
    range) and every hour that received a reading since the last refresh, late ones for old
    hours too. That is a few hours of raw rows and no write on a page view. Refreshing here
    instead would write on every view, and move the job's watermark past readings of other
    residents that are not rolled up yet.
    """
    first = start if _floor(start) == start else _floor(start) + HOUR
    last = _floor(end)  # the whole hours are [first, last)
    since = watermark()
    if since is None or first >= last:
        raw = {metric: [(start, end)] for metric in metrics}
        stored = []
    else:
        news = _hours_with_news(resident_id, metrics, start, end, since)
        raw = {
            m: _spans([(start, first), (last, end), *((h, h + HOUR) for h in news[m])], start, end)
            for m in metrics
        }
        stored = [
            h for h in _stored(resident_id, metrics, first, last) if h[1].hour not in news[h[0]]
        ]
    found: dict[str, dict[datetime, Hour]] = defaultdict(dict)
    for metric, figures in [*stored, *_from_raw(resident_id, raw)]:
        found[metric][figures.hour] = figures
    return {m: [found[m][h] for h in sorted(found[m])] for m in metrics}


def _hours_with_news(resident_id, metrics, start, end, since) -> dict[str, set[datetime]]:
    query = sa.select(Reading.metric, Reading.measured_at).where(
        Reading.resident_id == resident_id,
        Reading.metric.in_(metrics),
        Reading.received_at >= since,
        Reading.measured_at >= start,
        Reading.measured_at < end,
    )
    news: dict[str, set[datetime]] = {m: set() for m in metrics}
    for metric, measured_at in db.session.execute(query):
        news[metric].add(_floor(measured_at))
    return news


def _spans(spans: Iterable[tuple[datetime, datetime]], start, end) -> list[tuple]:
    """The spans cut to [start, end), without empty ones, overlapping ones joined."""
    joined: list[list[datetime]] = []
    for low, high in sorted((max(a, start), min(b, end)) for a, b in spans):
        if low >= high:
            continue
        if joined and low <= joined[-1][1]:
            joined[-1][1] = max(joined[-1][1], high)
        else:
            joined.append([low, high])
    return [tuple(span) for span in joined]


def _stored(resident_id, metrics, first, last) -> list[tuple[str, Hour]]:
    # columns, not ORM objects: a refresh in the same session would leave those stale
    query = sa.select(
        ReadingRollup.metric,
        ReadingRollup.hour,
        ReadingRollup.count,
        ReadingRollup.minimum,
        ReadingRollup.maximum,
        ReadingRollup.mean,
    ).where(
        ReadingRollup.resident_id == resident_id,
        ReadingRollup.metric.in_(metrics),
        ReadingRollup.hour >= first,
        ReadingRollup.hour < last,
    )
    return [(row[0], Hour(*row[1:])) for row in db.session.execute(query)]


def _from_raw(resident_id, spans: dict[str, list[tuple]]) -> list[tuple[str, Hour]]:
    """The hourly figures of the raw readings in each metric's spans."""
    conditions = [
        sa.and_(Reading.metric == metric, Reading.measured_at >= low, Reading.measured_at < high)
        for metric, metric_spans in spans.items()
        for low, high in metric_spans
    ]
    if not conditions:
        return []
    query = sa.select(Reading.metric, Reading.measured_at, Reading.value).where(
        Reading.resident_id == resident_id, sa.or_(*conditions)
    )
    groups: dict[tuple[str, datetime], list] = defaultdict(list)
    for metric, measured_at, value in db.session.execute(query):
        groups[(metric, _floor(measured_at))].append(value)
    result = []
    for (metric, hour), values in groups.items():
        numbers = [v for v in values if v is not None]
        mean = sum(numbers) / len(numbers) if numbers else None
        low, high = (min(numbers), max(numbers)) if numbers else (None, None)
        result.append((metric, Hour(hour, len(values), low, high, mean)))
    return result
