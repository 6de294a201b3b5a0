"""The weekly check: what is left undone at the end of a week, by family-doctor team and for
the town. Follow-ups overdue, alerts still open and (registered by referral/) open referral
loops, each reconstructed as it stood at the period's end from the timestamps the rows keep,
so a check of a past week reads the same whenever it is generated.

`app/` imports no feature: each section is registered here with `register_section`; the
referral section lives in referral/report_sections.py. Figures only, never a resident.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext

from app.accounts.models import Team
from app.alerts.models import Alert
from app.extensions import db
from app.followups.models import FollowUp, FollowUpStatus
from app.kpis.areas import Period, panel
from app.timeutil import local_today

N_ = str  # msgids, translated where shown

COUNT, OLDEST = "count", "oldest"  # how a column adds up for the town: a sum, the earliest
LONG_OVERDUE_DAYS = 14
NO_TEAM = None  # facts of residents without a contract in force (alerts only)


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # an English msgid
    kind: str = COUNT


@dataclass(frozen=True)
class Section:
    """One table of the check: `by_team(period)` gives {team_id or None: {column key: value}}
    for the teams that have something; the town's row adds those up."""

    key: str
    title: str  # an English msgid
    note: str  # an English msgid: what is counted
    columns: tuple[Column, ...]
    by_team: Callable[[Period], dict[int | None, dict]]
    order: int


_sections: dict[str, Section] = {}


def register_section(section: Section) -> Section:
    _sections[section.key] = section
    return section


def sections() -> list[Section]:
    return sorted(_sections.values(), key=lambda section: section.order)


def last_full_week(today: date | None = None) -> Period:
    """The last Monday-to-Sunday week that has ended (Shanghai)."""
    today = today or local_today()
    monday = today - timedelta(days=today.weekday())
    return Period(monday - timedelta(days=7), monday - timedelta(days=1))


# --- the sections app/ knows ------------------------------------------------------------------


def overdue_follow_ups(period: Period) -> dict[int | None, dict]:
    """Follow-ups whose due day was over by the period's end and that were not done by then:
    still due now, or done only after the period. Missed and cancelled ones are closed."""
    not_done_by_end = sa.or_(
        FollowUp.status == FollowUpStatus.DUE,
        sa.and_(FollowUp.status == FollowUpStatus.DONE, FollowUp.done_at >= period.stop),
    )
    long_ago = period.end - timedelta(days=LONG_OVERDUE_DAYS)
    query = (
        sa.select(
            FollowUp.team_id,
            sa.func.count().label("overdue"),
            sa.func.count(sa.case((FollowUp.due_date < long_ago, 1))).label("long"),
        )
        .where(FollowUp.due_date <= period.end, FollowUp.created_at < period.stop, not_done_by_end)
        .group_by(FollowUp.team_id)
    )
    return {
        row.team_id: {"overdue": row.overdue, "overdue_over_14_days": row.long}
        for row in db.session.execute(query)
    }


def open_alerts(period: Period) -> dict[int | None, dict]:
    """Alerts opened before the period's end and not resolved by then (open, escalated or
    acknowledged), by the team of the resident's contract in force on its last day."""
    members = panel(period.as_of)
    query = (
        sa.select(
            members.c.team_id,
            sa.func.count().label("open"),
            sa.func.min(Alert.opened_at).label("oldest"),
        )
        .select_from(Alert)
        .outerjoin(members, members.c.resident_id == Alert.resident_id)
        .where(
            Alert.opened_at < period.stop,
            sa.or_(Alert.resolved_at.is_(None), Alert.resolved_at >= period.stop),
        )
        .group_by(members.c.team_id)
    )
    return {
        row.team_id: {"open_alerts": row.open, "oldest_opened_at": row.oldest}
        for row in db.session.execute(query)
    }


register_section(
    Section(
        "follow_ups",
        N_("Overdue follow-ups"),
        N_("Follow-ups whose due date had passed by the end of the period and were not done "
           "by then; of those, how many were more than 14 days overdue."),
        (
            Column("overdue", N_("Overdue")),
            Column("overdue_over_14_days", N_("Over 14 days")),
        ),
        overdue_follow_ups,
        10,
    )
)  # fmt: skip
register_section(
    Section(
        "alerts",
        N_("Open alerts"),
        N_("Alerts not resolved at the end of the period (open, escalated or acknowledged), "
           "by the team of the resident's contract; the oldest one's opening time."),
        (
            Column("open_alerts", N_("Open alerts")),
            Column("oldest_opened_at", N_("Oldest opened"), OLDEST),
        ),
        open_alerts,
        20,
    )
)  # fmt: skip


# --- the check ---------------------------------------------------------------------------------


def _town(section: Section, rows: list[dict]) -> dict:
    totals = {}
    for column in section.columns:
        values = [row[column.key] for row in rows if row.get(column.key) is not None]
        if column.kind == OLDEST:
            totals[column.key] = min(values) if values else None
        else:
            totals[column.key] = sum(values)
    return totals


def _teams(team_ids: set) -> list[Team]:
    """Every active team, and any other team the figures name, by name."""
    query = sa.select(Team).where(sa.or_(Team.active.is_(True), Team.id.in_(team_ids)))
    return list(db.session.scalars(query.order_by(Team.name, Team.id)))


def check(period: Period) -> dict:
    """The weekly check of `period`: each section's rows by team and the town's row. Times
    stay datetimes here; services makes the whole report JSON-safe."""
    found = [(section, section.by_team(period)) for section in sections()]
    named = {team_id for _section, rows in found for team_id in rows if team_id is not None}
    teams = _teams(named)
    result = []
    for section, by_team in found:
        empty = {column.key: 0 if column.kind == COUNT else None for column in section.columns}
        rows = [
            {"team_id": team.id, "team": team.name, **empty, **by_team.get(team.id, {})}
            for team in teams
        ]
        if by_team.get(NO_TEAM):
            rows.append({"team_id": None, "team": None, **empty, **by_team[NO_TEAM]})
        result.append(
            {
                "key": section.key,
                "title": gettext(section.title),
                "note": gettext(section.note),
                "columns": [
                    {"key": c.key, "label": gettext(c.label), "kind": c.kind}
                    for c in section.columns
                ],
                "rows": rows,
                "town": _town(section, rows),
            }
        )
    return {
        "kind": "weekly_check",
        "period": period.as_dict(),
        "teams": [{"id": team.id, "name": team.name} for team in teams],
        "sections": result,
    }
