"""What people are told about their video visits, inside the platform (the header's
notifications). Reminders carry each person's own join link; e-mail copies go out from
the reminder job (telecall/jobs.py)."""

from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import User
from app.errors import N_
from app.extensions import db
from app.notifications.services import notify
from app.residents.models import SCOPE_ORDER, CaregiverLink, CaregiverScope, LinkStatus
from app.timeutil import local_today, to_local
from telecall.models import ParticipantRole, Visit, VisitParticipant
from telecall.tokens import join_path


def when(visit: Visit) -> str:
    return to_local(visit.starts_at).strftime("%Y-%m-%d %H:%M")


def caregivers(resident_id: int) -> list[User]:
    """Caregivers who may book and join for the resident (care scope or more)."""
    allowed = [s.value for s in SCOPE_ORDER[SCOPE_ORDER.index(CaregiverScope.CARE) :]]
    query = (
        sa.select(User)
        .join(CaregiverLink, CaregiverLink.caregiver_id == User.id)
        .where(
            CaregiverLink.resident_id == resident_id,
            CaregiverLink.status == LinkStatus.ACTIVE,
            CaregiverLink.ends_on >= local_today(),
            CaregiverLink.scope.in_(allowed),
            User.active,
        )
    )
    return list(db.session.scalars(query))


def resident_side(visit: Visit) -> list[User]:
    """The resident's own account (if any) and their caregivers."""
    from telecall.booking import resident_account

    account = resident_account(visit.resident_id)
    return ([account] if account else []) + caregivers(visit.resident_id)


def participant(visit: Visit, role: ParticipantRole) -> VisitParticipant | None:
    return next((p for p in visit.participants if p.role == role and p.removed_at is None), None)


def _params(visit: Visit) -> dict:
    return {
        "doctor": visit.doctor.display_name,
        "when": when(visit),
        "resident": visit.resident.name,
    }


def booked(visit: Visit) -> None:
    for user in resident_side(visit):
        notify(
            user,
            "visit.booked",
            N_("Video visit with %(doctor)s booked for %(when)s"),
            _params(visit),
            "/visits/mine",
            f"visit:{visit.id}:booked",
        )
    if visit.booked_by_id != visit.doctor_id:
        notify(
            visit.doctor,
            "visit.booked",
            N_("%(resident)s booked a video visit with you for %(when)s"),
            _params(visit),
            f"/visits/{visit.id}",
            f"visit:{visit.id}:booked",
        )


def rescheduled(visit: Visit) -> None:
    stamp = visit.starts_at.strftime("%Y%m%d%H%M")
    for user in [*resident_side(visit), visit.doctor]:
        link = f"/visits/{visit.id}" if user.id == visit.doctor_id else "/visits/mine"
        notify(
            user,
            "visit.rescheduled",
            N_("The video visit of %(resident)s with %(doctor)s moved to %(when)s"),
            _params(visit),
            link,
            f"visit:{visit.id}:moved:{stamp}",
        )


def cancelled(visit: Visit, actor: User) -> None:
    for user in [*resident_side(visit), visit.doctor]:
        if user.id == actor.id:
            continue
        notify(
            user,
            "visit.cancelled",
            N_("The video visit of %(resident)s with %(doctor)s at %(when)s was cancelled"),
            _params(visit),
            "/visits/mine" if user.id != visit.doctor_id else f"/visits/{visit.id}",
            f"visit:{visit.id}:cancelled",
        )


def missed_by_team(visit: Visit) -> None:
    """The resident waited in vain: say sorry to their side, and tell the doctor and the
    team's lead, who answer for it."""
    lead = visit.team.lead
    staff = [visit.doctor] + ([lead] if lead and lead.id != visit.doctor_id else [])
    for user in resident_side(visit):
        notify(
            user,
            "visit.missed_by_team",
            N_("Sorry: the doctor could not join the video visit at %(when)s. Please book again."),
            _params(visit),
            "/visits/mine",
            f"visit:{visit.id}:missed_by_team",
        )
    for user in staff:
        notify(
            user,
            "visit.missed_by_team",
            N_("%(resident)s waited for the video visit at %(when)s but nobody of the team joined"),
            _params(visit),
            f"/visits/{visit.id}",
            f"visit:{visit.id}:missed_by_team",
        )


def reminder(visit: Visit, which: str) -> list[tuple[User, str]]:
    """Remind the resident's side, each with the resident's join link (a caregiver often
    holds the phone for the resident). Returns (user, link) pairs for the e-mail copies."""
    seat = participant(visit, ParticipantRole.RESIDENT)
    link = join_path(seat) if seat else "/visits/mine"
    message = (
        N_("Reminder: video visit with %(doctor)s tomorrow at %(when)s")
        if which == "day_before"
        else N_("Your video visit with %(doctor)s starts at %(when)s: tap to join")
    )
    told = []
    for user in resident_side(visit):
        if notify(
            user,
            f"visit.reminder.{which}",
            message,
            _params(visit),
            link,
            f"visit:{visit.id}:{which}:{visit.starts_at:%Y%m%d%H%M}",
        ):
            told.append((user, link))
    return told


def invited(visit: Visit, invitee: VisitParticipant, user: User) -> None:
    notify(
        user,
        "visit.invited",
        N_("You are invited to the video visit of %(resident)s with %(doctor)s at %(when)s"),
        _params(visit),
        join_path(invitee),
        f"visit:{visit.id}:invited:{invitee.id}:{invitee.token_nonce}",
    )
