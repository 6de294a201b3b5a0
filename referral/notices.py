"""What people are told about referrals (in-platform notifications, in their language)."""

from app.accounts.models import User
from app.errors import N_
from app.extensions import db
from app.notifications.services import notify
from app.residents.models import CaregiverScope
from app.timeutil import to_local
from referral.models import Referral


def _resident_side(referral: Referral) -> list[User]:
    import sqlalchemy as sa

    accounts = db.session.scalars(
        sa.select(User).where(User.resident_id == referral.resident_id, User.active.is_(True))
    ).all()
    carers = [
        link.caregiver
        for link in referral.resident.active_caregiver_links
        if link.allows(CaregiverScope.CARE)
    ]
    return list(dict.fromkeys([*accounts, *carers]))


def tell_resident_of_appointment(referral: Referral) -> None:
    """The resident and their caregivers learn what was booked, where and when."""
    when = to_local(referral.slot.starts_at).strftime("%Y-%m-%d %H:%M")
    params = {
        "name": referral.resident.name,
        "hospital": referral.hospital.name,
        "department": referral.department.name,
        "time": when,
    }
    for user in _resident_side(referral):
        notify(
            user,
            "referral.booked",
            N_("%(name)s: appointment at %(hospital)s, %(department)s, on %(time)s."),
            params,
            f"/referrals/{referral.id}",
            f"referral:{referral.id}:booked:{referral.slot.id}",
        )


def tell_escalation(referral: Referral, hours: int) -> int:
    people = [referral.department.lead_user, referral.referring_doctor]
    params = {
        "name": referral.resident.name,
        "department": referral.department.name,
        "hours": hours,
    }
    sent = 0
    for user in dict.fromkeys(p for p in people if p is not None and p.active):
        sent += notify(
            user,
            "referral.escalated",
            N_(
                "The %(department)s has not accepted the referral of %(name)s within %(hours)s hours."  # noqa: E501
            ),
            params,
            f"/referrals/{referral.id}",
            f"referral:{referral.id}:escalated",
        )
    return sent


def tell_return_overdue(referral: Referral, days: int) -> int:
    params = {"name": referral.resident.name, "days": days}
    sent = 0
    for member in referral.team.members:
        sent += notify(
            member.user,
            "referral.return_overdue",
            N_("The return of %(name)s from hospital has waited more than %(days)s days."),
            params,
            f"/referrals/{referral.id}",
            f"referral:{referral.id}:return_overdue",
        )
    return sent
