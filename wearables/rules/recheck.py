"""A first unsatisfactory control reading (national follow-up rules: >= 140/90 mmHg; fasting
glucose >= 7.0 mmol/L) proposes a recheck within 2 weeks: a follow-up planned for the
resident's team, due ALERT_RECHECK_DAYS (14) days on, unless the resident already has a
follow-up due by then (whatever planned it: it will measure them anyway).

Readings that meet an urgent-referral criterion (>= 180/110, >= 16.7) are left to the
referral draft. Readings carry no meal context, so a glucose reading counts as fasting when
it was measured in the local early-morning hours ALERT_FASTING_HOURS (05:00-09:00). Two
unsatisfactory results in a row mean referral in the national rules; that is the doctor's
call at the recheck, not the platform's from two home readings minutes apart.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext

from app.extensions import db
from app.followups import services as followups
from app.followups.models import FollowUp, FollowUpSource, FollowUpStatus
from app.labels import label
from app.timeutil import local_today, to_local
from wearables.rules import messages
from wearables.rules.context import Context, NewReading
from wearables.rules.defaults import DEFAULTS, HIGH, RECHECK_FROM
from wearables.rules.guard import writing

URGENT_FROM = {
    metric: next(lim.value for lim in DEFAULTS[metric] if lim.side == HIGH)
    for metric in RECHECK_FROM
}


def unsatisfactory(row: NewReading) -> bool:
    start = RECHECK_FROM.get(row.metric)
    if start is None or row.value is None or not start <= row.value < URGENT_FROM[row.metric]:
        return False
    if row.metric == "blood_glucose":
        first, last = current_app.config["ALERT_FASTING_HOURS"]
        return first <= to_local(row.measured_at).hour < last
    return True


def evaluate(ctx: Context, by_metric: dict[str, list[NewReading]]) -> None:
    found = [
        row for metric in RECHECK_FROM for row in by_metric.get(metric, ()) if unsatisfactory(row)
    ]
    if not found:
        return
    due = local_today() + timedelta(days=current_app.config["ALERT_RECHECK_DAYS"])
    if _planned_within(ctx.resident_id, due) or ctx.team_id is None:
        return
    first = min(found, key=lambda row: row.measured_at)
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        reading = f"{label(first.metric, 'Metric')} {messages.number(first.value)}"
        purpose = gettext(messages.RECHECK_PURPOSE, reading=reading)
    writing()
    followups.plan(ctx.resident_id, ctx.team_id, due, purpose, FollowUpSource.ALERT_RECHECK)


def _planned_within(resident_id: int, due) -> bool:
    query = sa.select(FollowUp.id).where(
        FollowUp.resident_id == resident_id,
        FollowUp.status == FollowUpStatus.DUE,
        FollowUp.due_date <= due,  # an overdue one is still a contact to come
    )
    return db.session.scalar(query.limit(1)) is not None
