"""Booking, rescheduling and cancelling video visits.

A resident books with their own family-doctor team (the team of the contract in force), or a
caregiver with care scope books for them, or a doctor or nurse of the team books for them.
The SlotClaim unique key settles a race for the same time: the loser gets a 409.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Role, TeamMember, User
from app.audit.services import record_event
from app.contracts.services import current_contract
from app.errors import N_, Conflict, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.policy import can_see_resident, is_team_member
from app.residents.models import CaregiverScope, Resident
from app.timeutil import local_today, utcnow
from telecall import notices
from telecall.availability import CLINICIAN_ROLES, free_starts, is_free, length_of, steps
from telecall.models import (
    OPEN_STATUSES,
    ParticipantRole,
    SlotClaim,
    Visit,
    VisitParticipant,
    VisitStatus,
    VisitType,
)
from telecall.tokens import new_nonce


def own_team_id(resident: Resident) -> int:
    contract = current_contract(resident.id)
    if contract is None:
        raise InvalidInput(
            N_("video visits are for residents signed with a family-doctor team"),
            field="resident_id",
        )
    return contract.team_id


def may_book_for(user: User, resident: Resident) -> bool:
    if user.role in (Role.RESIDENT, Role.CAREGIVER):
        return can_see_resident(user, resident.id, CaregiverScope.CARE)
    if user.role in CLINICIAN_ROLES:
        return can_see_resident(user, resident.id)
    return False


def clinicians_of(team_id: int) -> list[User]:
    query = (
        sa.select(User)
        .join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.team_id == team_id, User.role.in_(CLINICIAN_ROLES), User.active)
        .order_by(User.display_name)
    )
    return list(db.session.scalars(query))


def _doctor_of_team(doctor_id: int, team_id: int) -> User:
    doctor = db.session.get(User, doctor_id)
    if doctor is None or doctor.role not in CLINICIAN_ROLES or not is_team_member(doctor, team_id):
        raise InvalidInput(N_("this doctor is not in the resident's team"), field="doctor_id")
    return doctor


def _claim(visit: Visit) -> None:
    """Hold the visit's grid steps; a savepoint keeps the outer transaction usable if another
    booking got there first."""
    rows = [
        SlotClaim(doctor_id=visit.doctor_id, slot_start=step, visit_id=visit.id)
        for step in steps(visit.starts_at, visit.ends_at - visit.starts_at)
    ]
    try:
        with db.session.begin_nested():
            db.session.add_all(rows)
    except IntegrityError:
        raise Conflict(
            N_("this time has just been taken: choose another"), field="starts_at"
        ) from None


def _release(visit: Visit) -> None:
    db.session.execute(sa.delete(SlotClaim).where(SlotClaim.visit_id == visit.id))


def _require_free(visit_type: VisitType, doctor: User, team_id: int, starts_at: datetime) -> None:
    horizon = timedelta(days=current_app.config["VISIT_BOOKING_DAYS"])
    if starts_at > utcnow() + horizon:
        raise InvalidInput(
            N_("visits can be booked at most %(days)s days ahead"),
            field="starts_at",
            params={"days": horizon.days},
        )
    if not is_free(doctor.id, team_id, visit_type, starts_at):
        raise Conflict(N_("this time is not free: choose another"), field="starts_at")


def _add_participant(visit: Visit, role: ParticipantRole, name: str, user: User | None, by=None):
    participant = VisitParticipant(
        visit=visit,
        role=role,
        user_id=user.id if user else None,
        display_name=name,
        token_nonce=new_nonce(),
        invited_by_id=by.id if by else None,
    )
    db.session.add(participant)
    return participant


def resident_account(resident_id: int) -> User | None:
    return db.session.scalars(sa.select(User).where(User.resident_id == resident_id)).first()


def book(actor: User, resident: Resident, data: dict) -> Visit:
    if not may_book_for(actor, resident):
        raise NotFound(N_("resident not found"))
    team_id = own_team_id(resident)
    doctor = _doctor_of_team(data["doctor_id"], team_id)
    visit_type, starts_at = data["visit_type"], data["starts_at"]
    _require_free(visit_type, doctor, team_id, starts_at)
    visit = Visit(
        resident_id=resident.id,
        team_id=team_id,
        doctor_id=doctor.id,
        visit_type=visit_type,
        starts_at=starts_at,
        ends_at=starts_at + length_of(visit_type),
        reason=data.get("reason") or "",
        booked_by_id=actor.id,
    )
    db.session.add(visit)
    db.session.flush()
    _claim(visit)
    _add_participant(visit, ParticipantRole.RESIDENT, resident.name, resident_account(resident.id))
    _add_participant(visit, ParticipantRole.DOCTOR, doctor.display_name, doctor)
    db.session.flush()
    record_event("visit", visit.id, "visit.booked", None, VisitStatus.BOOKED, actor=actor)
    notices.booked(visit)
    return visit


def may_change(user: User, visit: Visit) -> bool:
    if user.role in CLINICIAN_ROLES:
        return is_team_member(user, visit.team_id)
    if user.role in (Role.RESIDENT, Role.CAREGIVER):
        return can_see_resident(user, visit.resident_id, CaregiverScope.CARE)
    return False


def _require_changeable(user: User, visit: Visit) -> None:
    if not may_change(user, visit):
        raise Forbidden(N_("you may not change this visit"))
    if visit.status != VisitStatus.BOOKED:
        raise Conflict(N_("only a booked visit can be changed"), current=visit.status.value)
    if visit.starts_at <= utcnow():
        raise Conflict(N_("this visit has already begun"), current=visit.status.value)


def reschedule(
    actor: User, visit: Visit, starts_at: datetime, doctor_id: int | None = None
) -> Visit:
    _require_changeable(actor, visit)
    doctor = _doctor_of_team(doctor_id or visit.doctor_id, visit.team_id)
    before = visit.starts_at
    _release(visit)
    db.session.flush()
    _require_free(visit.visit_type, doctor, visit.team_id, starts_at)
    visit.doctor_id, visit.starts_at = doctor.id, starts_at
    visit.ends_at = starts_at + length_of(visit.visit_type)
    visit.reminded_day_before_at = visit.reminded_soon_at = None
    _sync_doctor_participant(visit, doctor)
    db.session.flush()
    _claim(visit)
    record_event(
        "visit",
        visit.id,
        "visit.rescheduled",
        VisitStatus.BOOKED,
        VisitStatus.BOOKED,
        actor=actor,
        data={"from": before.isoformat(), "to": starts_at.isoformat()},
    )
    notices.rescheduled(visit)
    return visit


def _sync_doctor_participant(visit: Visit, doctor: User) -> None:
    for participant in visit.participants:
        if participant.role == ParticipantRole.DOCTOR and participant.user_id != doctor.id:
            participant.user_id, participant.display_name = doctor.id, doctor.display_name
            participant.token_nonce = new_nonce()  # the old doctor's link stops working


def cancel(actor: User, visit: Visit, reason: str | None) -> Visit:
    _require_changeable(actor, visit)
    if not (reason and reason.strip()):
        raise InvalidInput(N_("give a reason for cancelling"), field="reason")
    _release(visit)
    visit.status, visit.cancel_reason = VisitStatus.CANCELLED, reason.strip()
    record_event(
        "visit",
        visit.id,
        "visit.cancelled",
        VisitStatus.BOOKED,
        VisitStatus.CANCELLED,
        reason=reason.strip(),
        actor=actor,
    )
    notices.cancelled(visit, actor)
    return visit


def mark_no_show(visit: Visit) -> None:
    """The visit's time is over and the resident never came (a job calls this)."""
    _release(visit)
    before, visit.status = visit.status, VisitStatus.NO_SHOW
    record_event("visit", visit.id, "visit.no_show", before, VisitStatus.NO_SHOW)


def mark_missed_by_team(visit: Visit) -> None:
    """The resident came to the room but nobody of the team joined before the links closed:
    recorded against the team, and the resident's side is asked to book again."""
    _release(visit)
    visit.status = VisitStatus.MISSED_BY_TEAM
    record_event("visit", visit.id, "visit.missed_by_team", VisitStatus.BOOKED, visit.status)
    notices.missed_by_team(visit)


def overdue_unattended(now: datetime) -> list[Visit]:
    """Open visits whose join window has closed while the resident never joined."""
    grace = timedelta(minutes=current_app.config["VISIT_JOIN_GRACE_MINUTES"])
    joined = sa.select(VisitParticipant.visit_id).where(
        VisitParticipant.role == ParticipantRole.RESIDENT,
        VisitParticipant.first_joined_at.is_not(None),
    )
    query = sa.select(Visit).where(
        Visit.status.in_(OPEN_STATUSES), Visit.ends_at < now - grace, Visit.id.not_in(joined)
    )
    return list(db.session.scalars(query))


def free_slots(resident: Resident, args: dict) -> list[dict]:
    """Free starts with each clinician of the resident's team (or one of them); with
    `visit_id` (the resident's visit being moved), its own time counts as free, so it can
    move by a few minutes into time it holds now."""
    team_id = own_team_id(resident)
    moving = args.get("visit_id")
    if moving is not None:
        visit = db.session.get(Visit, moving)
        if visit is None or visit.resident_id != resident.id:
            raise InvalidInput(N_("no such visit of this resident"), field="visit_id")
    doctors = clinicians_of(team_id)
    if args.get("doctor_id"):
        doctors = [d for d in doctors if d.id == args["doctor_id"]]
    first = args.get("first") or local_today()
    last = min(
        first + timedelta(days=args.get("days", 7) - 1),
        local_today() + timedelta(days=current_app.config["VISIT_BOOKING_DAYS"]),
    )
    length = length_of(args["visit_type"])
    out = []
    for doctor in doctors:
        starts = free_starts(doctor.id, team_id, args["visit_type"], first, last, moving=moving)
        for start in starts:
            out.append(
                {
                    "doctor_id": doctor.id,
                    "doctor_name": doctor.display_name,
                    "starts_at": start,
                    "ends_at": start + length,
                }
            )
    return sorted(out, key=lambda s: (s["starts_at"], s["doctor_name"]))
