"""Follow-ups: planning them (every source: a referral's return, an alert's recheck, the
chronic-disease schedule, the yearly check of residents aged 65+, a doctor by hand), recording
what a contact found, and what it leads to by the rules in rules.py (schedule.py carries those
out; jobs.py plans the schedules and marks missed ones)."""

import sqlalchemy as sa

from app.accounts.models import User
from app.audit.services import record_event
from app.errors import N_, Conflict, InvalidInput
from app.extensions import db
from app.followups.models import (
    Classification,
    FollowUp,
    FollowUpMode,
    FollowUpSource,
    FollowUpStatus,
)


def plan(
    resident_id: int,
    team_id: int,
    due_date,
    purpose: str,
    source: FollowUpSource,
    source_id: int | None = None,
    mode: FollowUpMode = FollowUpMode.CLINIC,
    actor: User | None = None,
    condition: str | None = None,
) -> FollowUp:
    follow_up = FollowUp(
        resident_id=resident_id,
        team_id=team_id,
        due_date=due_date,
        purpose=purpose,
        source=source,
        source_id=source_id,
        mode=mode,
        condition=condition,
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


def complete(
    follow_up: FollowUp,
    actor: User | None,
    mode: FollowUpMode,
    done_at,
    visit_id=None,
    form: dict | None = None,
):
    """The contact took place (by `mode`, which may differ from the one planned); with the
    form, its classification decides what comes next (schedule.after)."""
    from app.followups import schedule

    if follow_up.status != FollowUpStatus.DUE:
        raise Conflict(N_("only a due follow-up can be recorded"), current=follow_up.status.value)
    if form is not None and follow_up.condition not in (None, form.get("condition")):
        # Its classification would steer this condition's schedule by another's findings.
        raise InvalidInput(N_("the form is for another condition"), field="condition")
    before = follow_up.status
    follow_up.status, follow_up.mode, follow_up.done_at = FollowUpStatus.DONE, mode, done_at
    follow_up.done_by_id = actor.id if actor else None
    if form is not None:
        follow_up.form = {
            k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in form.items()
        }
        follow_up.classification = Classification(form["classification"])
    record_event(
        "follow_up",
        follow_up.id,
        "follow_up.done",
        before,
        FollowUpStatus.DONE,
        actor=actor,
        data={
            "mode": mode.value,
            "visit_id": visit_id,
            "classification": form and form["classification"],
        },
    )
    schedule.after(follow_up, actor)
    return follow_up


def close(follow_up: FollowUp, status: FollowUpStatus, reason: str, actor: User | None = None):
    """Cancelled by the team (a reason is needed) or missed (the job)."""
    if follow_up.status != FollowUpStatus.DUE:
        raise Conflict(N_("only a due follow-up can be closed"), current=follow_up.status.value)
    if not (reason and reason.strip()):
        raise InvalidInput(N_("give a reason"), field="reason")
    follow_up.status, follow_up.closed_reason = status, reason.strip()[:500]
    record_event(
        "follow_up",
        follow_up.id,
        f"follow_up.{status.value}",
        FollowUpStatus.DUE,
        status,
        reason=reason.strip(),
        actor=actor,
    )
    return follow_up


# --- who sees and who acts (the API and the pages ask here) ---------------------------------


def visible(user: User) -> sa.Select:
    """Follow-ups `user` may see: a doctor's or nurse's teams', a resident's own, a
    caregiver's linked residents', every one for an administrator; none for a specialist."""
    from app.accounts.models import Role
    from app.policy import visible_resident_ids

    query = sa.select(FollowUp)
    if user.role == Role.ADMIN:
        return query
    if user.role in (Role.DOCTOR, Role.NURSE):
        return query.where(FollowUp.team_id.in_(user.team_ids or [-1]))
    if user.role in (Role.RESIDENT, Role.CAREGIVER):
        return query.where(FollowUp.resident_id.in_(visible_resident_ids(user)))
    return query.where(sa.false())


def may_act(user: User, follow_up: FollowUp) -> bool:
    """Planning, recording and cancelling are the team's (its doctors and nurses)."""
    from app.accounts.models import Role

    return user.role in (Role.DOCTOR, Role.NURSE) and follow_up.team_id in user.team_ids


def get_follow_up(
    user: User, follow_up_id: int, reason: str | None = None, action: str = "view"
) -> FollowUp:
    """The follow-up if `user` may see it (else NotFound, so existence is not revealed);
    an administrator gives a reason; the read is audited."""
    from app.audit.services import record_access
    from app.errors import NotFound
    from app.policy import require_admin_reason

    require_admin_reason(user, reason)
    follow_up = db.session.scalar(visible(user).where(FollowUp.id == follow_up_id))
    if follow_up is None:
        raise NotFound(N_("follow-up not found"))
    record_access(action, follow_up.resident_id, "follow_up", follow_up.id, reason=reason)
    return follow_up


def record_result(
    follow_up: FollowUp, actor: User, mode: FollowUpMode, done_at, form: dict | None
) -> FollowUp:
    """A contact recorded by hand (API or page): a chronic follow-up needs the form, about
    its own condition; the time is not in the future. Then `complete`."""
    from datetime import timedelta

    from app.timeutil import utcnow

    if done_at is None:
        done_at = utcnow()
    if done_at > utcnow() + timedelta(minutes=5):  # a little clock skew is not an error
        raise InvalidInput(N_("must not be in the future"), field="done_at")
    if follow_up.condition is not None and not form:
        raise InvalidInput(N_("a chronic-disease follow-up needs the form"), field="form")
    if form and follow_up.condition and form["condition"] != follow_up.condition:
        raise InvalidInput(N_("the form is about another condition"), field="form")
    if form and follow_up.condition is None and follow_up.source == FollowUpSource.MANUAL:
        follow_up.condition = form["condition"]  # a hand-planned contact that is chronic care
    return complete(follow_up, actor, mode, done_at, form=form)


def teams_serving(user: User, resident) -> list[int]:
    """The ids of `user`'s active teams that serve the resident's neighbourhood committee."""
    return [
        m.team_id
        for m in user.memberships
        if m.team.active and any(n.id == resident.neighbourhood_id for n in m.team.neighbourhoods)
    ]


def plan_by_hand(
    actor: User,
    resident,
    due_date,
    mode: FollowUpMode,
    purpose: str,
    team_id: int | None = None,
    condition: str | None = None,
) -> FollowUp:
    """A doctor or nurse plans a contact of a resident of their team (source `manual`)."""
    from app.errors import Forbidden
    from app.timeutil import local_today

    serving = teams_serving(actor, resident)
    if team_id is None and serving:
        team_id = serving[0]
    if team_id is None or team_id not in actor.team_ids:
        raise Forbidden(N_("plan follow-ups for your own team"), field="team_id")
    if due_date < local_today():
        raise InvalidInput(N_("must be today or later"), field="due_date")
    if not (purpose and purpose.strip()):
        raise InvalidInput(N_("say what the follow-up is for"), field="purpose")
    return plan(
        resident.id,
        team_id,
        due_date,
        purpose.strip()[:500],
        FollowUpSource.MANUAL,
        mode=mode,
        actor=actor,
        condition=condition,
    )
