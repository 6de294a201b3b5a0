"""Finding alerts: what a user may see (app.policy decides whose), in queue order, and the
few facts the pages show beside them (the team's phone)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.accounts.models import Organisation, Team, User, team_neighbourhoods
from app.alerts.models import ACTIVE_STATUSES, SEVERITY_RANK, Alert, AlertStatus
from app.extensions import db
from app.policy import visible_resident_ids
from app.residents.models import Resident

# The queue's order: the worst first, then the one waiting longest.
SEVERITY_ORDER = sa.case(
    *((Alert.severity == severity, rank) for severity, rank in SEVERITY_RANK.items()),
    else_=len(SEVERITY_RANK),
)
NEEDS_SOMEONE = (AlertStatus.OPEN, AlertStatus.ESCALATED)


def visible(user: User) -> sa.Select:
    """Alerts of the residents `user` may see (every alert for an administrator)."""
    query = sa.select(Alert).options(selectinload(Alert.resident))
    ids = visible_resident_ids(user)
    return query if ids is None else query.where(Alert.resident_id.in_(ids))


def in_queue_order(query: sa.Select) -> sa.Select:
    return query.order_by(SEVERITY_ORDER, Alert.opened_at, Alert.id)


def search(user: User, args: dict) -> sa.Select:
    """The API's list: filters by status (or active only), severity and resident."""
    query = visible(user)
    if args.get("status") is not None:
        query = query.where(Alert.status == args["status"])
    if args.get("active"):
        query = query.where(Alert.status.in_(ACTIVE_STATUSES))
    if args.get("severity") is not None:
        query = query.where(Alert.severity == args["severity"])
    if args.get("resident_id") is not None:
        query = query.where(Alert.resident_id == args["resident_id"])
    return in_queue_order(query)


def queue(user: User, limit: int = 200) -> tuple[list[Alert], list[Alert]]:
    """The active alerts: (nobody has taken them yet, someone has), each worst first."""
    query = in_queue_order(visible(user).where(Alert.status.in_(ACTIVE_STATUSES)))
    alerts = db.session.scalars(query.limit(limit)).all()
    waiting = [a for a in alerts if a.status in NEEDS_SOMEONE]
    return waiting, [a for a in alerts if a.status not in NEEDS_SOMEONE]


def recently_resolved(user: User, limit: int = 5) -> list[Alert]:
    query = visible(user).where(Alert.status == AlertStatus.RESOLVED)
    return list(db.session.scalars(query.order_by(Alert.resolved_at.desc()).limit(limit)))


def waiting_count(user: User) -> int:
    """How many visible alerts nobody has taken yet (the header's number)."""
    ids = visible_resident_ids(user)
    query = sa.select(sa.func.count(Alert.id)).where(Alert.status.in_(NEEDS_SOMEONE))
    if ids is not None:
        query = query.where(Alert.resident_id.in_(ids))
    return db.session.scalar(query) or 0


def team_phone(resident: Resident) -> str | None:
    """The phone of the health centre whose team serves the resident's neighbourhood."""
    query = (
        sa.select(Organisation.phone)
        .join(Team, Team.centre_id == Organisation.id)
        .join(team_neighbourhoods, team_neighbourhoods.c.team_id == Team.id)
        .where(
            team_neighbourhoods.c.neighbourhood_id == resident.neighbourhood_id,
            Team.active.is_(True),
            Organisation.phone.is_not(None),
        )
        .order_by(Team.id)
        .limit(1)
    )
    return db.session.scalar(query)
