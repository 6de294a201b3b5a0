"""A completed remote follow-up counts toward the resident's follow-up schedule: it fulfils
the team's due follow-up for the condition on the visit's form (else the earliest due one
without a condition; a visit without a form never fulfils a chronic one), or, when none is
planned, it is recorded as a follow-up done by video. The form goes with
it, so its classification plans the next contact by the follow-up rules."""

from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import User
from app.errors import N_
from app.extensions import db
from app.followups import services as followups
from app.followups.models import FollowUp, FollowUpMode, FollowUpSource, FollowUpStatus
from app.followups.schedule import purpose_text
from app.timeutil import to_local
from telecall.models import Visit

PURPOSE = N_("Remote follow-up by video")  # stored translated, as the schedule's purposes


def _due(visit: Visit, condition: str | None) -> FollowUp | None:
    query = (
        sa.select(FollowUp)
        .where(
            FollowUp.resident_id == visit.resident_id,
            FollowUp.team_id == visit.team_id,
            FollowUp.status == FollowUpStatus.DUE,
        )
        .order_by(FollowUp.due_date, FollowUp.id)
    )
    found = list(db.session.scalars(query))
    # A due follow-up for another condition stays due: the form says nothing of it. Without
    # a form, a chronic one stays due too: only its form's classification plans the next.
    found = [f for f in found if f.condition in (condition, None)]
    same = [f for f in found if condition and f.condition == condition]
    return (same or found or [None])[0]


def count_toward_schedule(visit: Visit, actor: User | None) -> FollowUp:
    form = visit.form
    condition = form.get("condition") if form else None
    due = _due(visit, condition)
    if due is None:
        due = followups.plan(
            visit.resident_id,
            visit.team_id,
            to_local(visit.starts_at).date(),
            purpose_text(PURPOSE),
            FollowUpSource.MANUAL,
            mode=FollowUpMode.VIDEO,
            actor=actor,
            condition=condition,
        )
    if form and due.condition is None and due.source == FollowUpSource.MANUAL:
        due.condition = condition  # a hand-planned contact that turned out to be chronic care
    followups.complete(due, actor, FollowUpMode.VIDEO, visit.ended_at, visit_id=visit.id, form=form)
    visit.follow_up_id = due.id
    return due
