"""Who is told at each step of an alert's escalation ladder, and on which channels.

The ladder of a resident: each caregiver linked with care or proxy scope, in their order
(one step each; a view-only link cannot act, so waiting on it would only lose minutes),
then the family-doctor team (its doctors and nurses together), then the on-call contact.
A resident with no such caregiver starts at the team.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.accounts.models import Role, Team, TeamMember, User, team_neighbourhoods
from app.alerts.models import Channel, Severity
from app.extensions import db
from app.residents.models import CaregiverLink, CaregiverScope, LinkStatus, Resident
from app.timeutil import local_today, to_local


@dataclass(frozen=True)
class Recipient:
    key: str  # "user:<id>" or "on-call"
    user: User | None = None
    email: str | None = None
    phone: str | None = None

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None


def _caregivers(resident: Resident) -> list[User]:
    query = (
        sa.select(User)
        .join(CaregiverLink, CaregiverLink.caregiver_id == User.id)
        .where(
            CaregiverLink.resident_id == resident.id,
            CaregiverLink.status == LinkStatus.ACTIVE,
            CaregiverLink.scope.in_([CaregiverScope.CARE, CaregiverScope.PROXY]),
            CaregiverLink.ends_on >= local_today(),
            User.active.is_(True),
        )
        .order_by(CaregiverLink.priority, CaregiverLink.id)
    )
    return list(db.session.scalars(query).unique())


def team_staff(resident_id: int) -> list[User]:
    """The doctors and nurses of the active teams serving the resident's neighbourhood."""
    neighbourhood = sa.select(Resident.neighbourhood_id).where(Resident.id == resident_id)
    query = (
        sa.select(User)
        .join(TeamMember, TeamMember.user_id == User.id)
        .join(Team, Team.id == TeamMember.team_id)
        .join(team_neighbourhoods, team_neighbourhoods.c.team_id == Team.id)
        .where(
            team_neighbourhoods.c.neighbourhood_id.in_(neighbourhood.scalar_subquery()),
            Team.active.is_(True),
            User.active.is_(True),
            User.role.in_([Role.DOCTOR, Role.NURSE]),
        )
        .order_by(User.id)
    )
    return list(db.session.scalars(query).unique())


def _on_call() -> list[Recipient]:
    email = current_app.config.get("ALERT_ON_CALL_EMAIL")
    phone = current_app.config.get("ALERT_ON_CALL_PHONE")
    return [Recipient("on-call", email=email, phone=phone)] if email or phone else []


def steps(resident: Resident) -> list[list[Recipient]]:
    """The ladder, step 1 first."""
    ladder = [[Recipient(f"user:{u.id}", u, u.email, u.phone)] for u in _caregivers(resident)]
    team = [Recipient(f"user:{u.id}", u, u.email, u.phone) for u in team_staff(resident.id)]
    if team:
        ladder.append(team)
    on_call = _on_call()
    if on_call:
        ladder.append(on_call)
    return ladder


def channels_for(recipient: Recipient) -> list[tuple[Channel, str | None]]:
    """(channel, address) for one recipient: the platform always for a user; e-mail when
    SMTP is configured and they have an address; the webhook (SMS/WeChat) for a phone."""
    config = current_app.config
    result: list[tuple[Channel, str | None]] = []
    if recipient.user is not None:
        result.append((Channel.LIVE, None))
    if config.get("MAIL_SERVER") and recipient.email:
        result.append((Channel.EMAIL, recipient.email))
    if config.get("ALERT_WEBHOOK_URL") and recipient.phone:
        result.append((Channel.WEBHOOK, recipient.phone))
    return result


def step_wait(severity: Severity) -> timedelta:
    return timedelta(minutes=current_app.config["ALERT_STEP_MINUTES"][severity.value])


def in_quiet_hours(when: datetime) -> bool:
    start, end = current_app.config["ALERT_QUIET_HOURS"]
    hour = to_local(when).hour
    return hour >= start or hour < end if start > end else start <= hour < end


def quiet_hours_end(when: datetime) -> datetime:
    """The first moment after `when` outside the quiet hours."""
    moment = when
    while in_quiet_hours(moment):
        moment = (moment + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    return moment
