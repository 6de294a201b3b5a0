"""Planning follow-ups. Their schedules and forms arrive with the follow-up plans capability;
for now other features plan them (a referral's return) and the team sees them due."""

import sqlalchemy as sa

from app.accounts.models import User
from app.audit.services import record_event
from app.extensions import db
from app.followups.models import FollowUp, FollowUpMode, FollowUpSource, FollowUpStatus


def plan(
    resident_id: int,
    team_id: int,
    due_date,
    purpose: str,
    source: FollowUpSource,
    source_id: int | None = None,
    mode: FollowUpMode = FollowUpMode.CLINIC,
    actor: User | None = None,
) -> FollowUp:
    follow_up = FollowUp(
        resident_id=resident_id,
        team_id=team_id,
        due_date=due_date,
        purpose=purpose,
        source=source,
        source_id=source_id,
        mode=mode,
    )
    db.session.add(follow_up)
    db.session.flush()
    record_event(
        "follow_up",
        follow_up.id,
        "follow_up.planned",
        None,
        FollowUpStatus.DUE,
        actor=actor,
        data={"source": source.value, "source_id": source_id},
    )
    return follow_up


def due_for_teams(team_ids, until) -> list[FollowUp]:
    query = (
        sa.select(FollowUp)
        .where(
            FollowUp.team_id.in_(team_ids),
            FollowUp.status == FollowUpStatus.DUE,
            FollowUp.due_date <= until,
        )
        .order_by(FollowUp.due_date)
    )
    return list(db.session.scalars(query).all())


def for_source(source: FollowUpSource, source_id: int) -> list[FollowUp]:
    query = sa.select(FollowUp).where(FollowUp.source == source, FollowUp.source_id == source_id)
    return list(db.session.scalars(query.order_by(FollowUp.due_date)).all())


def complete(follow_up: FollowUp, actor: User | None, mode: FollowUpMode, done_at, visit_id=None):
    """The contact took place (by `mode`, which may differ from the one planned)."""
    before = follow_up.status
    follow_up.status, follow_up.mode, follow_up.done_at = FollowUpStatus.DONE, mode, done_at
    record_event(
        "follow_up",
        follow_up.id,
        "follow_up.done",
        before,
        FollowUpStatus.DONE,
        actor=actor,
        data={"mode": mode.value, "visit_id": visit_id},
    )
    return follow_up
