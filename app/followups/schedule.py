"""Carrying out the follow-up rules (rules.py): what a recorded chronic-disease follow-up leads
to, who is under a schedule, the yearly check of residents aged 65+, and missed follow-ups.

Drafting a referral belongs to referral/; it registers itself here (register_referral_drafter),
so this module, in app/, never imports a feature.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext

from app.accounts.models import User
from app.audit.services import record_event
from app.contracts.models import Contract
from app.errors import N_
from app.extensions import db
from app.followups import services
from app.followups.models import (
    Classification,
    FollowUp,
    FollowUpSource,
    FollowUpStatus,
)
from app.followups.rules import RULES, SCHEDULED_CONDITIONS, next_step
from app.residents.models import Resident, ResidentCondition
from app.timeutil import born_on_or_before, local_today, to_local

# (the follow-up that calls for it, who recorded it) -> the drafted referral's id, or None
ReferralDrafter = Callable[[FollowUp, User | None], int | None]
_drafters: list[ReferralDrafter] = []
# Stored in the default language when planned, as the other sources' purposes are.
PURPOSES = {
    "first": N_("Chronic-disease follow-up: the first contact"),
    "satisfactory": N_("Chronic-disease follow-up: the regular one (controlled)"),
    "unsatisfactory": N_("Chronic-disease follow-up: recheck within 2 weeks (not controlled)"),
    "side_effects": N_("Chronic-disease follow-up: recheck within 2 weeks (drug side effects)"),
    "unsatisfactory_twice": N_("Follow-up within 2 weeks of the referral (not controlled twice)"),
    "complications": N_("Follow-up within 2 weeks of the referral (complications)"),
    "missed": N_("Chronic-disease follow-up: the last one was missed"),
    "annual": N_("Yearly health check (aged 65 and over)"),
}
MISSED_REASON = N_("not done in time")
HANDED_OVER_REASON = N_("the resident is now signed with another team")


def purpose(key: str) -> str:
    return purpose_text(PURPOSES[key])


def purpose_text(message: str) -> str:
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return gettext(message)


def register_referral_drafter(drafter: ReferralDrafter) -> ReferralDrafter:
    _drafters.append(drafter)
    return drafter


def _previous_classification(follow_up: FollowUp) -> Classification | None:
    query = (
        sa.select(FollowUp.classification)
        .where(
            FollowUp.resident_id == follow_up.resident_id,
            FollowUp.condition == follow_up.condition,
            FollowUp.status == FollowUpStatus.DONE,
            FollowUp.id != follow_up.id,
            FollowUp.classification.is_not(None),
        )
        .order_by(FollowUp.done_at.desc(), FollowUp.id.desc())
        .limit(1)
    )
    return db.session.scalar(query)


def after(follow_up: FollowUp, actor: User | None) -> FollowUp | None:
    """Plan what a recorded chronic-disease follow-up leads to; None for other follow-ups."""
    if follow_up.condition is None or follow_up.classification is None:
        return None
    step = next_step(follow_up.classification, _previous_classification(follow_up))
    if step.refer:
        for drafter in _drafters:
            follow_up.referral_id = drafter(follow_up, actor)
    done_on = to_local(follow_up.done_at).date() if follow_up.done_at else local_today()
    follow_up.next_id = _plan_next(follow_up, done_on + timedelta(days=step.due_in_days), step.why)
    record_event(
        "follow_up",
        follow_up.id,
        "follow_up.next_planned",
        actor=actor,
        data={"rule": step.why, "next_id": follow_up.next_id, "referral_id": follow_up.referral_id},
    )
    return db.session.get(FollowUp, follow_up.next_id)


def _plan_next(follow_up: FollowUp, due: date, why: str) -> int:
    planned = services.plan(
        follow_up.resident_id,
        follow_up.team_id,
        due,
        purpose(why),
        FollowUpSource.CHRONIC_SCHEDULE,
        source_id=follow_up.id,
        mode=RULES["regular_mode"],
        condition=follow_up.condition,
    )
    return planned.id


def _teams_in_force(today: date) -> sa.Select:
    """(resident id, team id) of every contract in force today."""
    return sa.select(Contract.resident_id, Contract.team_id).where(
        Contract.active_from <= today, Contract.active_until > today
    )


def _hand_over(today: date) -> int:
    """Chronic follow-ups still due with a team the resident has left (a contract with
    another team is in force, none with this one) are cancelled, so the new team's schedule
    starts instead of waiting for the old one to be missed."""
    in_force = _teams_in_force(today).subquery()
    with_this_team = sa.exists().where(
        in_force.c.resident_id == FollowUp.resident_id, in_force.c.team_id == FollowUp.team_id
    )
    left = db.session.scalars(
        sa.select(FollowUp).where(
            FollowUp.status == FollowUpStatus.DUE,
            FollowUp.condition.is_not(None),
            FollowUp.resident_id.in_(sa.select(in_force.c.resident_id)),
            ~with_this_team,
        )
    ).all()
    for follow_up in left:
        services.close(follow_up, FollowUpStatus.CANCELLED, purpose_text(HANDED_OVER_REASON))
    return len(left)


def plan_schedules(today: date | None = None) -> int:
    """Every signed resident with hypertension or type-2 diabetes has a follow-up due for each
    condition with the team they are signed with: a first one within `first_within_days`
    where there is none (one still due with a team they left is cancelled first)."""
    today = today or local_today()
    _hand_over(today)
    signed = _teams_in_force(today).subquery()
    open_ones = sa.select(FollowUp.resident_id, FollowUp.condition).where(
        FollowUp.status == FollowUpStatus.DUE, FollowUp.condition.is_not(None)
    )
    query = (
        sa.select(ResidentCondition.resident_id, ResidentCondition.condition, signed.c.team_id)
        .join(signed, signed.c.resident_id == ResidentCondition.resident_id)
        .where(
            ResidentCondition.condition.in_(SCHEDULED_CONDITIONS),
            sa.tuple_(ResidentCondition.resident_id, ResidentCondition.condition).not_in(open_ones),
        )
    )
    rows = db.session.execute(query).all()
    due = today + timedelta(days=RULES["first_within_days"])
    for resident_id, condition, team_id in rows:
        services.plan(
            resident_id,
            team_id,
            due,
            purpose("first"),
            FollowUpSource.CHRONIC_SCHEDULE,
            mode=RULES["regular_mode"],
            condition=condition.value,
        )
    return len(rows)


def plan_annual_checks(today: date | None = None) -> int:
    """Signed residents aged 65+ get one yearly health check: planned once a calendar year."""
    today = today or local_today()
    signed = _teams_in_force(today).subquery()
    this_year = sa.select(FollowUp.resident_id).where(
        FollowUp.source == FollowUpSource.ANNUAL_CHECK,
        FollowUp.due_date >= date(today.year, 1, 1),
        FollowUp.status != FollowUpStatus.CANCELLED,
    )
    query = (
        sa.select(Resident.id, signed.c.team_id)
        .join(signed, signed.c.resident_id == Resident.id)
        .where(
            Resident.birth_date <= born_on_or_before(RULES["annual_check_age"], today),
            Resident.id.not_in(this_year),
        )
    )
    rows = db.session.execute(query).all()
    due = min(today + timedelta(days=RULES["annual_check_within_days"]), date(today.year, 12, 31))
    for resident_id, team_id in rows:
        services.plan(resident_id, team_id, due, purpose("annual"), FollowUpSource.ANNUAL_CHECK)
    return len(rows)


def mark_missed(today: date | None = None) -> int:
    """Due follow-ups `missed_after_days` past their date are missed; a chronic one's schedule
    goes on with a contact within `recheck_within_days`."""
    today = today or local_today()
    limit = today - timedelta(days=RULES["missed_after_days"])
    late = db.session.scalars(
        sa.select(FollowUp).where(FollowUp.status == FollowUpStatus.DUE, FollowUp.due_date < limit)
    ).all()
    # A resident whose contract with the team ended leaves its schedule: planning their next
    # one would only start an endless chain of missed follow-ups.
    residents = sorted({f.resident_id for f in late})
    in_force = _teams_in_force(today).where(Contract.resident_id.in_(residents))
    signed = {tuple(row) for row in db.session.execute(in_force)}
    for follow_up in late:
        services.close(follow_up, FollowUpStatus.MISSED, purpose_text(MISSED_REASON))
        if follow_up.condition is not None and (follow_up.resident_id, follow_up.team_id) in signed:
            due = today + timedelta(days=RULES["recheck_within_days"])
            follow_up.next_id = _plan_next(follow_up, due, "missed")
    return len(late)
