"""The referral figures over a period (definitions: docs/REFERRALS.md, "Figures").

A period [from, to] is two Shanghai dates, both inclusive: it covers the instants from 00:00
Asia/Shanghai on `from` up to (not including) 00:00 on the day after `to`. Four small queries
fetch the facts of the referrals in the user's scope (sent in the period, accepted in the
period, returned in the period, open now); counts, medians and percentiles are worked out
here in Python over those rows, once for the whole and once per row of the breakdown, so the
same code answers on SQLite and PostgreSQL. That is fine at the scale of one town.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.accounts.models import HOSPITAL_KINDS, Organisation, OrganisationKind, Role, Team, User
from app.extensions import db
from app.stats import median, percentile
from app.timeutil import LOCAL_TZ, local_today
from referral.models import Referral, ReferralReturn, ReferralStatus, Urgency
from referral.queries import OPEN_LOOP

S = ReferralStatus
BREAKDOWNS = ("hospital", "department", "team")
PERIOD_DAYS = 30  # the default period: the 30 days up to and including `to` (today)
TOP_REASONS = 10
URGENCIES = tuple(u.value for u in Urgency)
HOUR, DAY = 3600, 86400


# --- the period --------------------------------------------------------------------------------


def day_start(day: date) -> datetime:
    """The UTC instant 00:00 Asia/Shanghai begins on `day`."""
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ).astimezone(UTC)


def period(start: date | None, end: date | None, today: date | None = None) -> tuple[date, date]:
    """[from, to] with the defaults filled in: `to` is today; `from` is 29 days before `to`
    (so the period is 30 days long, both ends included)."""
    end = end or today or local_today()
    return start or end - timedelta(days=PERIOD_DAYS - 1), end


def instants(start: date, end: date) -> tuple[datetime, datetime]:
    """The half-open UTC interval [begin, stop) covering the Shanghai days start..end."""
    return day_start(start), day_start(end + timedelta(days=1))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


# --- the figures of one group of referrals -----------------------------------------------------


@dataclass(frozen=True)
class Acceptance:
    """Referrals accepted in the period: how many, and hours from sent to accepted."""

    count: int
    median_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True)
class Rejections:
    """Referrals sent in the period that were rejected, and their reasons (top 10)."""

    count: int
    reasons: list[dict]


@dataclass(frozen=True)
class Loop:
    """Referrals returned in the period: how many are closed, and days from sent to closed."""

    returned: int
    closed: int
    closed_share: float | None
    median_days_to_close: float | None


@dataclass(frozen=True)
class Figures:
    up: int
    down: int
    up_by_urgency: dict[str, int]
    acceptance: Acceptance
    rejections: Rejections
    loop: Loop
    open_loops: int


def _reason(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


@dataclass
class Tally:
    """The facts of one group of referrals, gathered row by row."""

    up: int = 0
    urgency: Counter = field(default_factory=Counter)
    rejected: Counter = field(default_factory=Counter)  # by reason (None: none given)
    accept_hours: list[float] = field(default_factory=list)
    returned: int = 0
    close_days: list[float] = field(default_factory=list)
    open_loops: int = 0

    def figures(self) -> Figures:
        # most frequent first; ties by reason, "none given" last
        reasons = sorted(
            self.rejected.items(), key=lambda item: (-item[1], item[0] is None, item[0] or "")
        )
        return Figures(
            up=self.up,
            down=self.returned,
            up_by_urgency={u: self.urgency[u] for u in URGENCIES},
            acceptance=Acceptance(
                len(self.accept_hours),
                _rounded(median(self.accept_hours)),
                _rounded(percentile(self.accept_hours, 0.9)),
            ),
            rejections=Rejections(
                sum(self.rejected.values()),
                [{"reason": r, "count": n} for r, n in reasons[:TOP_REASONS]],
            ),
            loop=Loop(
                self.returned,
                len(self.close_days),
                len(self.close_days) / self.returned if self.returned else None,
                _rounded(median(self.close_days)),
            ),
            open_loops=self.open_loops,
        )


# --- who counts what ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which referrals a user may count: None means no limit on that side (admin)."""

    team_ids: list[int] | None = None
    department_ids: list[int] | None = None


def scope_for(user: User) -> Scope:
    """Admins count every referral; doctors and nurses those of their active teams;
    specialists those of their department. Anyone else nothing (the routes refuse them)."""
    if user.role == Role.ADMIN:
        return Scope()
    if user.role in (Role.DOCTOR, Role.NURSE):
        return Scope(team_ids=list(user.team_ids))
    if user.role == Role.SPECIALIST:
        return Scope(department_ids=[user.organisation_id] if user.organisation_id else [])
    return Scope(team_ids=[], department_ids=[])


def _in_scope(query: sa.Select, scope: Scope) -> sa.Select:
    query = query.where(Referral.status != S.DRAFT)
    if scope.team_ids is not None:
        query = query.where(Referral.team_id.in_(scope.team_ids))
    if scope.department_ids is not None:
        query = query.where(Referral.department_id.in_(scope.department_ids))
    return query


KEYS = {"hospital": "hospital_id", "department": "department_id", "team": "team_id"}
_KEY_COLUMNS = (Referral.hospital_id, Referral.department_id, Referral.team_id)


def gather(scope: Scope, start: date, end: date, by: str) -> tuple[Tally, dict[int, Tally]]:
    """The facts of the referrals in `scope`, for the whole and per hospital, department or
    team (`by`): four queries, each row added to the whole and to its row's tally."""
    whole, per_row = Tally(), defaultdict(Tally)
    key = KEYS[by]

    def tallies(row) -> tuple[Tally, Tally]:
        return whole, per_row[getattr(row, key)]

    begin, stop = instants(start, end)
    sent = sa.select(*_KEY_COLUMNS, Referral.urgency, Referral.status, Referral.rejection_reason)
    sent = sent.where(Referral.sent_at >= begin, Referral.sent_at < stop)
    for row in db.session.execute(_in_scope(sent, scope)):
        for tally in tallies(row):
            tally.up += 1
            tally.urgency[str(row.urgency)] += 1
            if row.status == S.REJECTED:
                tally.rejected[_reason(row.rejection_reason)] += 1

    accepted = sa.select(*_KEY_COLUMNS, Referral.sent_at, Referral.accepted_at).where(
        Referral.accepted_at >= begin, Referral.accepted_at < stop, Referral.sent_at.is_not(None)
    )
    for row in db.session.execute(_in_scope(accepted, scope)):
        hours = (row.accepted_at - row.sent_at).total_seconds() / HOUR
        for tally in tallies(row):
            tally.accept_hours.append(hours)

    returned = (
        sa.select(*_KEY_COLUMNS, Referral.status, Referral.sent_at, Referral.closed_at)
        .join(ReferralReturn, ReferralReturn.referral_id == Referral.id)
        .where(ReferralReturn.returned_at >= begin, ReferralReturn.returned_at < stop)
    )
    for row in db.session.execute(_in_scope(returned, scope)):
        closed = row.status == S.CLOSED and row.closed_at and row.sent_at
        for tally in tallies(row):
            tally.returned += 1
            if closed:
                tally.close_days.append((row.closed_at - row.sent_at).total_seconds() / DAY)

    still_open = sa.select(*_KEY_COLUMNS, sa.func.count().label("n"))
    still_open = _in_scope(still_open.where(Referral.status.in_(OPEN_LOOP)), scope)
    for row in db.session.execute(still_open.group_by(*_KEY_COLUMNS)):
        for tally in tallies(row):
            tally.open_loops += row.n
    return whole, per_row


# --- the rows ----------------------------------------------------------------------------------


def _listed_ids(by: str, scope: Scope) -> sa.Select | None:
    """The hospitals, departments or teams that get a row even with nothing to count."""
    if by == "team":
        if scope.department_ids is not None:  # specialists: only teams that referred to them
            return None
        query = sa.select(Team.id)
        return query if scope.team_ids is None else query.where(Team.id.in_(scope.team_ids))
    if by == "hospital":
        query = sa.select(Organisation.id).where(Organisation.kind.in_(HOSPITAL_KINDS))
        if scope.department_ids is not None:
            parents = sa.select(Organisation.parent_id).where(
                Organisation.id.in_(scope.department_ids)
            )
            query = query.where(Organisation.id.in_(parents))
        return query
    query = sa.select(Organisation.id).where(Organisation.kind == OrganisationKind.DEPARTMENT)
    if scope.department_ids is not None:
        query = query.where(Organisation.id.in_(scope.department_ids))
    return query


def _names(by: str, ids: set[int]) -> list[dict]:
    """id, name (and, for departments, the hospital's name) of each, by name."""
    if not ids:
        return []
    if by == "team":
        query = sa.select(Team.id, Team.name).where(Team.id.in_(ids))
        return [{"id": r.id, "name": r.name} for r in db.session.execute(query)]
    parent = aliased(Organisation)
    query = (
        sa.select(Organisation.id, Organisation.name, parent.name.label("hospital"))
        .outerjoin(parent, parent.id == Organisation.parent_id)
        .where(Organisation.id.in_(ids))
    )
    rows = []
    for r in db.session.execute(query):
        row = {"id": r.id, "name": r.name}
        if by == "department":
            row["hospital"] = r.hospital
        rows.append(row)
    return rows


def report(user: User, start: date | None = None, end: date | None = None, by="hospital"):
    """Everything the API and the page show, limited to what `user` may count."""
    start, end = period(start, end)
    scope = scope_for(user)
    whole, per_row = gather(scope, start, end, by)
    listed = _listed_ids(by, scope)
    ids = set(per_row) | (set(db.session.scalars(listed)) if listed is not None else set())
    rows = sorted(_names(by, ids), key=lambda row: (row["name"], row["id"]))
    return {
        "start": start,
        "end": end,
        "by": by,
        "overall": whole.figures(),
        "rows": [row | asdict(per_row[row["id"]].figures()) for row in rows],
        "limited": user.role != Role.ADMIN,
    }
