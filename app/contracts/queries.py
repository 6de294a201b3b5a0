"""Finding contracts: what a user may see, filtered; a contract's history; the worklist."""

from datetime import timedelta

import sqlalchemy as sa

from app.accounts.models import Role, TeamMember, User
from app.audit.models import Event
from app.contracts.models import IN_FORCE, OPEN, Contract
from app.extensions import db
from app.policy import (
    neighbourhood_ids_served,
    register_resident_source,
    require_admin_reason,
    visible_resident_ids,
)
from app.residents.models import Resident
from app.timeutil import born_on_or_before, local_today


def _my_team_ids(user: User) -> sa.Select:
    return sa.select(TeamMember.team_id).where(TeamMember.user_id == user.id)


@register_resident_source
def residents_under_my_teams(user: User):
    """Doctors and nurses see residents who signed (or are signing) with their teams."""
    if user.role not in (Role.DOCTOR, Role.NURSE):
        return None
    return sa.select(Contract.resident_id).where(
        Contract.team_id.in_(_my_team_ids(user)), Contract.status.in_((*IN_FORCE, *OPEN))
    )


def search(user: User, args: dict, reason: str | None = None) -> sa.Select:
    require_admin_reason(user, reason)
    query = sa.select(Contract)
    visible = visible_resident_ids(user)
    if visible is not None:
        query = query.where(Contract.resident_id.in_(visible))
    for field in ("status", "team_id", "resident_id", "package"):
        if args.get(field) is not None:
            query = query.where(getattr(Contract, field) == args[field])
    if args.get("neighbourhood_id") is not None:
        query = query.join(Resident).where(Resident.neighbourhood_id == args["neighbourhood_id"])
    if args.get("ends_within_days") is not None:
        last = local_today() + timedelta(days=args["ends_within_days"])
        query = query.where(Contract.status.in_(IN_FORCE), Contract.end_date <= last)
    return query.order_by(Contract.end_date, Contract.id)


def history(contract: Contract) -> list[Event]:
    query = (
        sa.select(Event)
        .where(Event.entity_type == "contract", Event.entity_id == contract.id)
        .order_by(Event.at, Event.id)
    )
    return list(db.session.scalars(query).all())


def worklist(user: User, expiring_days: int = 30) -> dict:
    """For a doctor or nurse: requests to review, drafts waiting for consent, contracts
    ending soon, and elderly residents of their neighbourhoods with no contract."""
    teams = _my_team_ids(user)
    open_contracts = db.session.scalars(
        sa.select(Contract)
        .where(Contract.team_id.in_(teams), Contract.status.in_(OPEN))
        .order_by(Contract.created_at)
    ).all()
    ending = db.session.scalars(
        sa.select(Contract)
        .where(
            Contract.team_id.in_(teams),
            Contract.status.in_(IN_FORCE),
            Contract.end_date <= local_today() + timedelta(days=expiring_days),
        )
        .order_by(Contract.end_date)
    ).all()
    return {
        "open": list(open_contracts),
        "ending": list(ending),
        "unsigned_elderly": unsigned_elderly(user),
    }


def unsigned_elderly(user: User, limit: int = 200) -> list[Resident]:
    served = neighbourhood_ids_served(user) or []
    signed = sa.select(Contract.resident_id).where(Contract.status.in_((*IN_FORCE, *OPEN)))
    query = (
        sa.select(Resident)
        .where(
            Resident.neighbourhood_id.in_(served),
            Resident.birth_date <= born_on_or_before(65),
            Resident.id.not_in(signed),
        )
        .order_by(Resident.neighbourhood_id, Resident.birth_date)
        .limit(limit)
    )
    return list(db.session.scalars(query).all())
