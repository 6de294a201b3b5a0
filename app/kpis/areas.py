"""Where and when a KPI is counted: the area (the town, a neighbourhood committee, a team), the
period (two Shanghai dates, both included) and who may look at which areas.

Every KPI answers for a whole *breakdown* at once: the town, or every neighbourhood committee,
or every team, each one grouped query; the board and the reports then pick the rows they
show. Facts about a resident fall to an area by where the resident lives (committee) or by
the team of the contract in force on the period's last day; facts that carry a team
themselves (follow-ups, referrals, video visits) fall to that team.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from app.accounts.models import Organisation, OrganisationKind, Role, Team, User
from app.contracts.models import Contract
from app.db_types import StrEnum
from app.errors import N_, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.policy import neighbourhood_ids_served
from app.residents.models import Resident
from app.timeutil import LOCAL_TZ, add_months, local_today

TOWN_ID = 0  # the one row of the town breakdown
LONGEST_PERIOD_DAYS = 3 * 366


class AreaKind(StrEnum):
    TOWN = "town"
    NEIGHBOURHOOD = "neighbourhood"
    TEAM = "team"


def day_start(day: date) -> datetime:
    """The UTC instant 00:00 Asia/Shanghai begins on `day`."""
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ).astimezone(UTC)


@dataclass(frozen=True)
class Period:
    """[start, end], Shanghai dates, both included."""

    start: date
    end: date

    @property
    def begin(self) -> datetime:
        return day_start(self.start)

    @property
    def stop(self) -> datetime:
        """The instant after the period: 00:00 Shanghai of the day after `end`."""
        return day_start(self.end + timedelta(days=1))

    @property
    def as_of(self) -> date:
        """The day snapshot figures (signing, panels) are read on: the last day, or today
        while the period is still running."""
        return min(self.end, local_today())

    @property
    def as_of_instant(self) -> datetime:
        """The end of `as_of` for a past period; now while the period is running."""
        return min(self.stop, datetime.now(UTC))

    @classmethod
    def month(cls, first: date) -> Period:
        first = first.replace(day=1)
        return cls(first, add_months(first, 1) - timedelta(days=1))

    def previous_month(self) -> Period:
        return Period.month(add_months(self.start.replace(day=1), -1))

    def same_month_last_year(self) -> Period:
        return Period.month(add_months(self.start.replace(day=1), -12))

    def as_dict(self) -> dict:
        return {"start": self.start, "end": self.end}


def period_from(start: date | None, end: date | None) -> Period:
    """The period a request names; by default the current month up to today."""
    today = local_today()
    end = end or today
    start = start or end.replace(day=1)
    if start > end:
        raise InvalidInput(N_("the period starts after it ends"), "start")
    if (end - start).days >= LONGEST_PERIOD_DAYS:
        raise InvalidInput(N_("a period is at most three years long"), "start")
    return Period(start, end)


@dataclass(frozen=True)
class Breakdown:
    """All areas of one kind, or only `ids` of them."""

    kind: AreaKind
    ids: tuple[int, ...] | None = None

    def only(self, area_id: int) -> Breakdown:
        return Breakdown(self.kind, (area_id,))


@dataclass
class Ctx:
    """One computation: the breakdown, the period, and results computed once and shared by
    the KPIs that read the same query (the signing groups)."""

    breakdown: Breakdown
    period: Period
    memo: dict = field(default_factory=dict)

    def once(self, key, compute):
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]


# --- attaching an area to facts ---------------------------------------------------------------


def panel(on: date) -> sa.Subquery:
    """resident_id -> team_id of the contract in force on `on`."""
    return (
        sa.select(Contract.resident_id, sa.func.min(Contract.team_id).label("team_id"))
        .where(Contract.active_from <= on, Contract.active_until > on)
        .group_by(Contract.resident_id)
        .subquery("panel")
    )


def by_resident(query: sa.Select, resident_id, ctx: Ctx) -> tuple[sa.Select, sa.ColumnElement]:
    """Give a query over facts with a resident id the area column of `ctx.breakdown`, joined
    and filtered; returns the query and the column to group by."""
    kind, ids = ctx.breakdown.kind, ctx.breakdown.ids
    if kind == AreaKind.TOWN:
        return query, sa.literal(TOWN_ID).label("area_id")
    if kind == AreaKind.NEIGHBOURHOOD:
        query = query.join(Resident, Resident.id == resident_id)
        column = Resident.neighbourhood_id
    else:
        members = panel(ctx.period.as_of)
        query = query.join(members, members.c.resident_id == resident_id)
        column = members.c.team_id
    if ids is not None:
        query = query.where(column.in_(ids))
    return query, column.label("area_id")


def by_team(query: sa.Select, resident_id, team_id, ctx: Ctx) -> tuple[sa.Select, sa.ColumnElement]:
    """As by_resident, but facts that carry their own team fall to that team."""
    if ctx.breakdown.kind != AreaKind.TEAM:
        return by_resident(query, resident_id, ctx)
    if ctx.breakdown.ids is not None:
        query = query.where(team_id.in_(ctx.breakdown.ids))
    return query, team_id.label("area_id")


# --- the areas and who may look at them -------------------------------------------------------


@dataclass(frozen=True)
class Area:
    kind: AreaKind
    id: int
    name: str

    def as_dict(self) -> dict:
        return {"kind": self.kind.value, "id": self.id, "name": self.name}


@dataclass(frozen=True)
class Scope:
    """The areas a user may look at: the town (admins), and these committees and teams."""

    town: bool
    neighbourhood_ids: tuple[int, ...] | None  # None: all
    team_ids: tuple[int, ...] | None


def scope_for(user: User | None) -> Scope:
    """Admins (the town's health office) and the platform itself (user None: scheduled
    reports) see every area; doctors and nurses the committees their active teams serve and
    those teams; nobody else sees a KPI."""
    if user is None or user.role == Role.ADMIN:
        return Scope(True, None, None)
    if user.role in (Role.DOCTOR, Role.NURSE):
        teams = tuple(m.team_id for m in user.memberships if m.team.active)
        return Scope(False, tuple(neighbourhood_ids_served(user) or ()), teams)
    return Scope(False, (), ())


def areas(kind: AreaKind, ids: tuple[int, ...] | None = None) -> list[Area]:
    """The areas of a kind, by name, limited to `ids` when given."""
    if kind == AreaKind.TOWN:
        return [Area(kind, TOWN_ID, "")]
    if kind == AreaKind.NEIGHBOURHOOD:
        query = sa.select(Organisation.id, Organisation.name).where(
            Organisation.kind == OrganisationKind.NEIGHBOURHOOD_COMMITTEE
        )
        column = Organisation.id
    else:
        query = sa.select(Team.id, Team.name).where(Team.active.is_(True))
        column = Team.id
    if ids is not None:
        query = query.where(column.in_(ids))
    rows = db.session.execute(query.order_by(query.selected_columns[1], column))
    return [Area(kind, row.id, row.name) for row in rows]


def allowed_ids(scope: Scope, kind: AreaKind) -> tuple[int, ...] | None:
    if kind == AreaKind.NEIGHBOURHOOD:
        return scope.neighbourhood_ids
    if kind == AreaKind.TEAM:
        return scope.team_ids
    return None


def resolve_area(user: User | None, kind: AreaKind, area_id: int | None) -> Area:
    """The one area a request asks about, if `user` may look at it: 404 for one that does
    not exist, 403 for one outside their scope (areas' names are no secret)."""
    scope = scope_for(user)
    if kind == AreaKind.TOWN:
        if not scope.town:
            raise Forbidden(N_("only the town's administrators see the whole town"))
        return areas(kind)[0]
    if area_id is None:
        raise InvalidInput(N_("name the committee or team"), "area_id")
    found = areas(kind, (area_id,))
    if not found:
        raise NotFound(N_("no such area"))
    allowed = allowed_ids(scope, kind)
    if allowed is not None and area_id not in allowed:
        raise Forbidden(N_("this area is not one of yours"))
    return found[0]


def default_area(user: User) -> tuple[AreaKind, int | None]:
    """What the board opens on: the town for admins, else the user's first team."""
    scope = scope_for(user)
    if scope.town:
        return AreaKind.TOWN, None
    if scope.team_ids:
        return AreaKind.TEAM, scope.team_ids[0]
    raise Forbidden(N_("you are in no active team, so there is no board to show"))
