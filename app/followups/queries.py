"""Finding follow-ups for the API's list and the team's pages: the worklist's three buckets
(due within the week, overdue, missed lately) and the home visits of the week by
neighbourhood committee. Who sees what is services.visible's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import groupby

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.accounts.models import Organisation, User
from app.audit.models import Event
from app.extensions import db
from app.followups.models import FollowUp, FollowUpMode, FollowUpStatus
from app.followups.services import visible
from app.residents.models import Resident
from app.timeutil import local_today, utcnow

WEEK_DAYS = 7  # "this week": today and the six days after
MISSED_LOOKBACK_DAYS = 30


def search(user: User, args: dict, today: date | None = None) -> sa.Select:
    """The API's list, soonest due first; each filter narrows."""
    today = today or local_today()
    query = visible(user).options(selectinload(FollowUp.resident))
    exact = {
        "team_id": FollowUp.team_id,
        "resident_id": FollowUp.resident_id,
        "status": FollowUp.status,
        "mode": FollowUp.mode,
    }
    for name, column in exact.items():
        if args.get(name) is not None:
            query = query.where(column == args[name])
    if args.get("due_from") is not None:
        query = query.where(FollowUp.due_date >= args["due_from"])
    if args.get("due_to") is not None:
        query = query.where(FollowUp.due_date <= args["due_to"])
    if args.get("overdue") is True:
        query = query.where(FollowUp.status == FollowUpStatus.DUE, FollowUp.due_date < today)
    elif args.get("overdue") is False:
        query = query.where(
            sa.or_(FollowUp.status != FollowUpStatus.DUE, FollowUp.due_date >= today)
        )
    return query.order_by(FollowUp.due_date, FollowUp.id)


@dataclass
class Worklist:
    this_week: list[FollowUp] = field(default_factory=list)
    overdue: list[FollowUp] = field(default_factory=list)
    missed: list[FollowUp] = field(default_factory=list)

    def all(self) -> list[FollowUp]:
        return [*self.overdue, *self.this_week, *self.missed]


def _filtered(user: User, team_id: int | None, mode: FollowUpMode | None) -> sa.Select:
    query = visible(user).options(
        selectinload(FollowUp.resident).selectinload(Resident.neighbourhood)
    )
    if team_id is not None:
        query = query.where(FollowUp.team_id == team_id)
    if mode is not None:
        query = query.where(FollowUp.mode == mode)
    return query


def worklist(
    user: User, team_id: int | None = None, mode: FollowUpMode | None = None, today=None
) -> Worklist:
    """Due within the week (today on), overdue (due date passed, still due), and missed in
    the last 30 days (by when the follow-up was marked missed)."""
    today = today or local_today()
    base = _filtered(user, team_id, mode)
    due = base.where(
        FollowUp.status == FollowUpStatus.DUE,
        FollowUp.due_date < today + timedelta(days=WEEK_DAYS),
    ).order_by(FollowUp.due_date, FollowUp.id)
    missed_lately = sa.select(Event.entity_id).where(
        Event.entity_type == "follow_up",
        Event.name == "follow_up.missed",
        Event.at >= utcnow() - timedelta(days=MISSED_LOOKBACK_DAYS),
    )
    missed = base.where(
        FollowUp.status == FollowUpStatus.MISSED, FollowUp.id.in_(missed_lately)
    ).order_by(FollowUp.due_date.desc(), FollowUp.id)
    work = Worklist()
    for follow_up in db.session.scalars(due):
        (work.overdue if follow_up.due_date < today else work.this_week).append(follow_up)
    work.missed = list(db.session.scalars(missed))
    return work


@dataclass
class RouteStop:
    follow_up: FollowUp
    address: str | None


def home_routes(
    user: User, team_id: int | None = None, today=None
) -> list[tuple[Organisation, list[RouteStop]]]:
    """Home visits due within the week (overdue ones too: they still wait), grouped by the
    resident's neighbourhood committee (by name), each group by due date."""
    today = today or local_today()
    query = (
        _filtered(user, team_id, FollowUpMode.HOME)
        .join(Resident, Resident.id == FollowUp.resident_id)
        .join(Organisation, Organisation.id == Resident.neighbourhood_id)
        .options(selectinload(FollowUp.resident).selectinload(Resident.household))
        .where(
            FollowUp.status == FollowUpStatus.DUE,
            FollowUp.due_date < today + timedelta(days=WEEK_DAYS),
        )
        .order_by(Organisation.name, Organisation.id, FollowUp.due_date, FollowUp.id)
    )
    follow_ups = db.session.scalars(query).all()
    groups = groupby(follow_ups, key=lambda f: f.resident.neighbourhood)
    return [(place, [RouteStop(f, address_of(f.resident)) for f in rows]) for place, rows in groups]


def address_of(resident: Resident) -> str | None:
    """The register's address of the resident, else their household's; None when neither."""
    own = (resident.address or "").strip()
    if own:
        return own
    household = resident.household
    return household.address if household is not None and household.address else None
