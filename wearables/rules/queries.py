"""The reads the rules make inside every ingest request, built once with bound parameters.

Building a SQLAlchemy statement costs more than running it on an index (measured: about
0.55 ms to build and run the window aggregate each time, 0.08 ms to run a prebuilt one), and
the rules run on every request, so each statement here is built at import and only run.
On PostgreSQL the round trip is most of what is left (about 0.5 ms a query on the test
machine), so what a watch's push needs comes back in as few queries as possible.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.alerts.models import ConsciousnessAssessment, MonitoringProfile, ThresholdOverride
from app.extensions import db
from app.residents.models import Resident, ResidentCondition
from wearables import news2
from wearables.models import Reading, ReadingRollup
from wearables.rules.defaults import DIABETES

_r = Reading.__table__.c
_when = _r.measured_at.type
RESIDENT = sa.bindparam("resident_id")
SINCE = sa.bindparam("since", type_=_when)
UNTIL = sa.bindparam("until", type_=_when)

_latest_level = (
    sa.select(ConsciousnessAssessment.level)
    .where(ConsciousnessAssessment.resident_id == RESIDENT)
    .order_by(ConsciousnessAssessment.assessed_at.desc(), ConsciousnessAssessment.id.desc())
    .limit(1)
    .scalar_subquery()
)
_diabetic = (
    sa.select(ResidentCondition.resident_id)
    .where(ResidentCondition.resident_id == RESIDENT, ResidentCondition.condition == DIABETES)
    .exists()
)
_has_overrides = (
    sa.select(ThresholdOverride.id).where(ThresholdOverride.resident_id == RESIDENT).exists()
)
FACTS = (
    sa.select(
        MonitoringProfile.hypercapnic,
        MonitoringProfile.on_oxygen,
        _diabetic,
        _latest_level,
        _has_overrides,
    )
    .select_from(Resident)
    .outerjoin(MonitoringProfile, MonitoringProfile.resident_id == Resident.id)
    .where(Resident.id == RESIDENT)
)

OVERRIDES = sa.select(ThresholdOverride).where(ThresholdOverride.resident_id == RESIDENT)

WINDOW = sa.select(
    sa.func.count(_r.id), sa.func.min(_r.value), sa.func.max(_r.value), sa.func.min(_r.measured_at)
).where(
    _r.resident_id == RESIDENT,
    _r.metric == sa.bindparam("metric"),
    _r.measured_at >= SINCE,
    _r.measured_at <= UNTIL,
)

_u = ReadingRollup.__table__.c
HOURLY_MEANS = sa.select(_u.hour, _u.mean).where(
    _u.resident_id == RESIDENT,
    _u.metric == sa.bindparam("metric"),
    _u.hour >= SINCE,
    _u.hour < UNTIL,
    _u.mean.is_not(None),
)


def _latest(metric: str, column: str):
    """The latest reading's `column` of one vital in [since, until]: an index probe. Under
    a short alias, so that the whole statement stays under psycopg's 4096-character limit
    for caching a statement's parsed form (above it, it is parsed again on every run)."""
    r = Reading.__table__.alias("r")
    return (
        sa.select(r.c[column])
        .where(
            r.c.resident_id == RESIDENT,
            r.c.metric == sa.literal_column(f"'{metric}'"),  # our own constant names
            r.c.measured_at >= SINCE,
            r.c.measured_at <= UNTIL,
        )
        .order_by(r.c.measured_at.desc())
        .limit(sa.literal_column("1"))
        .scalar_subquery()
    )


# The facts with the latest value and time of each NEWS2 vital: one round trip for what a
# watch's push needs (a round trip, not the index probes, is what a query costs here).
VITALS = tuple(news2.METRIC_PARAMETERS)
FACTS_AND_VITALS = FACTS.add_columns(
    *(_latest(metric, column) for metric in VITALS for column in ("value", "measured_at"))
)


def facts_row(resident_id: int) -> tuple:
    return tuple(db.session.execute(FACTS, {"resident_id": resident_id}).one())


def facts_and_vitals(resident_id: int, since, until) -> tuple[tuple, list[tuple]]:
    """(the facts row, [(metric, value, measured_at) of the latest of each vital])."""
    params = {"resident_id": resident_id, "since": since, "until": until}
    row = tuple(db.session.execute(FACTS_AND_VITALS, params).one())
    facts, latest = row[:5], row[5:]
    vitals = [
        (metric, latest[2 * i], latest[2 * i + 1])
        for i, metric in enumerate(VITALS)
        if latest[2 * i] is not None
    ]
    return facts, vitals


def overrides(resident_id: int) -> list[ThresholdOverride]:
    return list(db.session.scalars(OVERRIDES, {"resident_id": resident_id}))


def window(resident_id: int, metric: str, since, until):
    """(count, lowest, highest, first time) of a metric's readings in [since, until]."""
    params = {"resident_id": resident_id, "metric": metric, "since": since, "until": until}
    return db.session.execute(WINDOW, params).one()


def hourly_means(resident_id: int, metric: str, since, until) -> list[tuple]:
    """(hour, mean) of the roll-ups of the hours starting in [since, until)."""
    params = {"resident_id": resident_id, "metric": metric, "since": since, "until": until}
    return [tuple(row) for row in db.session.execute(HOURLY_MEANS, params)]
