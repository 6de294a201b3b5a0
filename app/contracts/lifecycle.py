"""Scheduled work on contracts: mark them expiring and expired, and remind people in time."""

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.accounts.models import Role, User
from app.contracts.models import IN_FORCE, OPEN, Contract, ContractStatus
from app.contracts.services import END_DATE_REACHED, RENEWAL_WINDOW, _move
from app.errors import N_
from app.extensions import db
from app.notifications.services import notify
from app.residents.models import CaregiverScope
from app.timeutil import local_today


def mark_expiring_and_expired() -> dict:
    """Active contracts within the warning window become expiring; ended ones expire."""
    today = local_today()
    window = timedelta(days=current_app.config["CONTRACT_EXPIRING_DAYS"])
    ended = db.session.scalars(
        sa.select(Contract).where(Contract.status.in_(IN_FORCE), Contract.end_date <= today)
    ).all()
    for contract in ended:
        contract.active_until = min(contract.active_until or contract.end_date, contract.end_date)
        _move(contract, "expire", None, END_DATE_REACHED)
    closing = db.session.scalars(
        sa.select(Contract).where(
            Contract.status == ContractStatus.ACTIVE, Contract.end_date <= today + window
        )
    ).all()
    for contract in closing:
        _move(contract, "mark_expiring", None, RENEWAL_WINDOW)
    return {"expired": len(ended), "expiring": len(closing)}


def _people_to_remind(contract: Contract) -> list[User]:
    resident_accounts = db.session.scalars(
        sa.select(User).where(User.resident_id == contract.resident_id, User.active.is_(True))
    ).all()
    proxies = [
        link.caregiver
        for link in contract.resident.active_caregiver_links
        if link.allows(CaregiverScope.PROXY)
    ]
    team = [m.user for m in contract.team.members if m.user.active]
    return list(dict.fromkeys([*resident_accounts, *proxies, *team]))


def remind_before_end() -> int:
    """Remind the resident, their proxy caregivers and the team N days before the end
    (CONTRACT_REMINDER_DAYS), unless a renewal is already under way."""
    today = local_today()
    sent = 0
    for days in current_app.config["CONTRACT_REMINDER_DAYS"]:
        due = db.session.scalars(
            sa.select(Contract).where(
                Contract.status.in_(IN_FORCE), Contract.end_date == today + timedelta(days=days)
            )
        ).all()
        for contract in due:
            renewing = sa.select(Contract.id).where(
                Contract.renews_id == contract.id, Contract.status.in_(OPEN)
            )
            if db.session.scalar(renewing) is not None:
                continue
            for user in _people_to_remind(contract):
                sent += notify(
                    user,
                    "contract.ending",
                    N_(
                        "The family-doctor contract of %(name)s ends on %(date)s: renew it in time."
                    ),
                    {"name": contract.resident.name, "date": contract.end_date.isoformat()},
                    _link_for(user, contract),
                    f"contract:{contract.id}:ends:{days}",
                )
    db.session.flush()
    return sent


def _link_for(user: User, contract: Contract) -> str:
    if user.role in (Role.RESIDENT, Role.CAREGIVER):
        return f"/contracts/resident/{contract.resident_id}"
    return f"/contracts/{contract.id}"
