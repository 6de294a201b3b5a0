"""The signing-rate figures of family-doctor contracts (definitions: docs/CONTRACTS.md).

A resident is *registered* on a day D when their record was created on or before D (in
Asia/Shanghai), and *signed* on D when one of their contracts was in force that day
(active_from <= D < active_until), so the figures for any past day come from the contracts'
active days, not from today's status. Each breakdown is one grouped query with conditional
counts; rates and colours are worked out here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from app.accounts.models import Organisation, OrganisationKind, Role, Team, User
from app.accounts.models import team_neighbourhoods as served
from app.contracts.models import Contract, ContractStatus
from app.extensions import db
from app.policy import neighbourhood_ids_served
from app.residents.models import ChronicCondition, Mobility, Resident, ResidentCondition
from app.timeutil import LOCAL_TZ, add_months, born_on_or_before

# The key groups, in the order pages show them.
ALL = "all"
AGED_65 = "aged_65_plus"
HYPERTENSION = "hypertension"
DIABETES = "type2_diabetes"
LIVING_ALONE = "living_alone"
DISABLED = "disabled"
GROUPS = (ALL, AGED_65, HYPERTENSION, DIABETES, LIVING_ALONE, DISABLED)
DISABLED_MOBILITY = (Mobility.WHEELCHAIR, Mobility.BEDRIDDEN)
BREAKDOWNS = ("neighbourhood", "team")
GREEN, YELLOW, RED = "green", "yellow", "red"


def colour(rate: float | None) -> str | None:
    """green at or above SIGNING_RATE_GREEN, yellow at or above SIGNING_RATE_YELLOW, else red;
    None (no data) when there is no rate."""
    if rate is None:
        return None
    if rate >= current_app.config["SIGNING_RATE_GREEN"]:
        return GREEN
    if rate >= current_app.config["SIGNING_RATE_YELLOW"]:
        return YELLOW
    return RED


def thresholds() -> dict[str, float]:
    return {
        "green": current_app.config["SIGNING_RATE_GREEN"],
        "yellow": current_app.config["SIGNING_RATE_YELLOW"],
    }


@dataclass(frozen=True)
class Figure:
    """Signed among registered residents of one group; no rate when none is registered."""

    registered: int
    signed: int

    @property
    def rate(self) -> float | None:
        return self.signed / self.registered if self.registered else None

    @property
    def colour(self) -> str | None:
        return colour(self.rate)


@dataclass
class Row:
    """One neighbourhood committee or one team, with its figures by group."""

    id: int
    name: str
    groups: dict[str, Figure]
    kind: str = "neighbourhood"
    panel: int | None = None  # teams: residents under contract with the team that day
    capacity: int | None = None  # teams: Team.capacity (None: no limit)

    def as_dict(self) -> dict:
        row = {"id": self.id, "name": self.name, "groups": self.groups}
        if self.kind == "team":
            row |= {"panel": self.panel, "capacity": self.capacity}
        return row


@dataclass(frozen=True)
class Renewal:
    """Contracts that ended (end_date) in [start, end] by renewal or expiry."""

    start: date
    end: date
    renewed: int
    expired: int

    @property
    def rate(self) -> float | None:
        total = self.renewed + self.expired
        return self.renewed / total if total else None


@dataclass(frozen=True)
class Scope:
    """What a user may count: None means everything (admin)."""

    neighbourhood_ids: list[int] | None = None
    team_ids: list[int] | None = None


# --- building blocks (the KPI board, app/kpis/measures.py, counts with them too) ------------


def registered_before(on: date) -> datetime:
    """The UTC instant the day after `on` begins in Asia/Shanghai: records created before it
    were registered on `on`."""
    return datetime.combine(on + timedelta(days=1), time(0), tzinfo=LOCAL_TZ).astimezone(UTC)


def signed_on(on: date) -> sa.Subquery:
    return (
        sa.select(Contract.resident_id)
        .where(Contract.active_from <= on, Contract.active_until > on)
        .distinct()
        .subquery("signed")
    )


def group_counts(on: date, signed: sa.Subquery, hypertension, diabetes) -> list:
    """registered and signed, per group, as conditional counts over the joined residents."""
    conditions = {
        ALL: Resident.id.is_not(None),
        AGED_65: Resident.birth_date <= born_on_or_before(65, on),
        HYPERTENSION: hypertension.resident_id.is_not(None),
        DIABETES: diabetes.resident_id.is_not(None),
        LIVING_ALONE: Resident.living_alone.is_(True),
        DISABLED: Resident.mobility.in_(DISABLED_MOBILITY),
    }
    is_signed = signed.c.resident_id.is_not(None)
    columns = []
    for group in GROUPS:
        condition = conditions[group]
        columns.append(sa.func.count(sa.case((condition, 1))).label(f"{group}_registered"))
        both = sa.and_(condition, is_signed)
        columns.append(sa.func.count(sa.case((both, 1))).label(f"{group}_signed"))
    return columns


def with_resident_facts(query: sa.Select, signed: sa.Subquery, hypertension, diabetes):
    """Outer-join what the groups need onto a query that already has Resident in it."""
    return (
        query.outerjoin(
            hypertension,
            sa.and_(
                hypertension.resident_id == Resident.id,
                hypertension.condition == ChronicCondition.HYPERTENSION,
            ),
        )
        .outerjoin(
            diabetes,
            sa.and_(
                diabetes.resident_id == Resident.id,
                diabetes.condition == ChronicCondition.TYPE2_DIABETES,
            ),
        )
        .outerjoin(signed, signed.c.resident_id == Resident.id)
    )


def figures_by_group(row) -> dict[str, Figure]:
    values = row._mapping
    return {
        group: Figure(values[f"{group}_registered"], values[f"{group}_signed"]) for group in GROUPS
    }


# --- the figures -----------------------------------------------------------------------------


def signing_overall(on: date, neighbourhood_ids: list[int] | None = None) -> dict[str, Figure]:
    """Figures by group over every resident (or those of `neighbourhood_ids`)."""
    signed, hyp, dia = signed_on(on), aliased(ResidentCondition), aliased(ResidentCondition)
    query = sa.select(*group_counts(on, signed, hyp, dia)).select_from(Resident)
    query = with_resident_facts(query, signed, hyp, dia).where(
        Resident.created_at < registered_before(on)
    )
    if neighbourhood_ids is not None:
        query = query.where(Resident.neighbourhood_id.in_(neighbourhood_ids))
    return figures_by_group(db.session.execute(query).one())


def signing_by_neighbourhood(on: date, neighbourhood_ids: list[int] | None = None) -> list[Row]:
    """One row per neighbourhood committee (all of them, or `neighbourhood_ids`), including
    those with no resident registered yet (no data)."""
    signed, hyp, dia = signed_on(on), aliased(ResidentCondition), aliased(ResidentCondition)
    resident_here = sa.and_(
        Resident.neighbourhood_id == Organisation.id,
        Resident.created_at < registered_before(on),
    )
    query = (
        sa.select(Organisation.id, Organisation.name, *group_counts(on, signed, hyp, dia))
        .select_from(Organisation)
        .outerjoin(Resident, resident_here)
    )
    query = with_resident_facts(query, signed, hyp, dia).where(
        Organisation.kind == OrganisationKind.NEIGHBOURHOOD_COMMITTEE
    )
    if neighbourhood_ids is not None:
        query = query.where(Organisation.id.in_(neighbourhood_ids))
    query = query.group_by(Organisation.id, Organisation.name).order_by(
        Organisation.name, Organisation.id
    )
    return [Row(r.id, r.name, figures_by_group(r)) for r in db.session.execute(query)]


def signing_by_team(on: date, team_ids: list[int] | None = None) -> list[Row]:
    """One row per team (all of them, or `team_ids`): residents of the neighbourhoods the
    team serves, signed with any team; plus the team's panel that day and its capacity."""
    signed, hyp, dia = signed_on(on), aliased(ResidentCondition), aliased(ResidentCondition)
    panel = (
        sa.select(sa.func.count(sa.distinct(Contract.resident_id)))
        .where(
            Contract.team_id == Team.id,
            Contract.active_from <= on,
            Contract.active_until > on,
        )
        .correlate(Team)
        .scalar_subquery()
    )
    resident_here = sa.and_(
        Resident.neighbourhood_id == served.c.neighbourhood_id,
        Resident.created_at < registered_before(on),
    )
    query = (
        sa.select(
            Team.id,
            Team.name,
            Team.capacity,
            panel.label("panel"),
            *group_counts(on, signed, hyp, dia),
        )
        .select_from(Team)
        .outerjoin(served, served.c.team_id == Team.id)
        .outerjoin(Resident, resident_here)
    )
    query = with_resident_facts(query, signed, hyp, dia)
    if team_ids is not None:
        query = query.where(Team.id.in_(team_ids))
    query = query.group_by(Team.id, Team.name, Team.capacity).order_by(Team.name, Team.id)
    return [
        Row(r.id, r.name, figures_by_group(r), kind="team", panel=r.panel, capacity=r.capacity)
        for r in db.session.execute(query)
    ]


def renewal(start: date, end: date, neighbourhood_ids: list[int] | None = None) -> Renewal:
    """Among contracts whose end date falls in [start, end] and that ended by renewal or by
    expiry, how many were renewed (of residents of `neighbourhood_ids`, or everyone)."""
    status = Contract.status
    query = sa.select(
        sa.func.count(sa.case((status == ContractStatus.RENEWED, 1))).label("renewed"),
        sa.func.count(sa.case((status == ContractStatus.EXPIRED, 1))).label("expired"),
    ).where(
        Contract.end_date >= start,
        Contract.end_date <= end,
        status.in_((ContractStatus.RENEWED, ContractStatus.EXPIRED)),
    )
    if neighbourhood_ids is not None:
        residents_here = sa.select(Resident.id).where(
            Resident.neighbourhood_id.in_(neighbourhood_ids)
        )
        query = query.where(Contract.resident_id.in_(residents_here))
    row = db.session.execute(query).one()
    return Renewal(start, end, row.renewed, row.expired)


def default_renewal_period(on: date) -> tuple[date, date]:
    """The 12 months up to and including `on`."""
    return add_months(on, -12) + timedelta(days=1), on


# --- who sees what, and the whole report -----------------------------------------------------


def scope_for(user: User) -> Scope:
    """Admins count everything; doctors and nurses the neighbourhoods their (active) teams
    serve and their own teams. Anyone else counts nothing (the routes refuse them first)."""
    if user.role == Role.ADMIN:
        return Scope()
    if user.role in (Role.DOCTOR, Role.NURSE):
        return Scope(neighbourhood_ids_served(user) or [], list(user.team_ids))
    return Scope([], [])


def report(
    user: User,
    on: date,
    by: str = "neighbourhood",
    renewal_from: date | None = None,
    renewal_to: date | None = None,
) -> dict:
    """Everything the API and the page show, limited to what `user` may count."""
    scope = scope_for(user)
    default_from, default_to = default_renewal_period(renewal_to or on)
    start, end = renewal_from or default_from, renewal_to or default_to
    if by == "team":
        rows = signing_by_team(on, scope.team_ids)
    else:
        rows = signing_by_neighbourhood(on, scope.neighbourhood_ids)
    return {
        "on": on,
        "by": by,
        "overall": signing_overall(on, scope.neighbourhood_ids),
        "rows": [row.as_dict() for row in rows],
        "renewal": renewal(start, end, scope.neighbourhood_ids),
        "thresholds": thresholds(),
    }
