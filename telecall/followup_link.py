"""A completed remote follow-up counts toward the resident's follow-up schedule: it fulfils
the earliest follow-up of the team that is due (any mode: it was done by video), or, when
none is planned, it is recorded as a follow-up done by video."""

from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import User
from app.extensions import db
from app.followups import services as followups
from app.followups.models import FollowUp, FollowUpMode, FollowUpSource, FollowUpStatus
from app.timeutil import to_local
from telecall.models import Visit


def count_toward_schedule(visit: Visit, actor: User | None) -> FollowUp:
    due = db.session.scalars(
        sa.select(FollowUp)
        .where(
            FollowUp.resident_id == visit.resident_id,
            FollowUp.team_id == visit.team_id,
            FollowUp.status == FollowUpStatus.DUE,
        )
        .order_by(FollowUp.due_date)
    ).first()
    if due is None:
        due = followups.plan(
            visit.resident_id,
            visit.team_id,
            to_local(visit.starts_at).date(),
            "remote follow-up by video",
            FollowUpSource.MANUAL,
            mode=FollowUpMode.VIDEO,
            actor=actor,
        )
    followups.complete(due, actor, FollowUpMode.VIDEO, visit.ended_at, visit_id=visit.id)
    visit.follow_up_id = due.id
    return due
