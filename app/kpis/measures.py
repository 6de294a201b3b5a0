"""The KPIs of what `app/` holds: signing rates, follow-ups on time, hypertension and diabetes
control, and alert response (definitions: docs/KPIS.md). Each measure is one grouped query
for the whole breakdown; alert times are worked out in Python over the period's alerts.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.accounts.models import team_neighbourhoods as served
from app.alerts.models import Alert
from app.contracts import stats as signing
from app.extensions import db
from app.followups.models import Classification, FollowUp, FollowUpStatus
from app.kpis.areas import TOWN_ID, AreaKind, Ctx, by_resident, by_team
from app.kpis.registry import HIGHER, LOWER, MINUTES, SHARE, Kpi, Measure, register
from app.kpis.sql import done_by_day_end
from app.residents.models import Resident, ResidentCondition
from app.stats import percentile
from app.timeutil import born_on_or_before, local_today

N_ = str  # msgids, translated where shown (app/kpis/labels.py)


def grouped(query: sa.Select, area, ctx: Ctx) -> dict:
    """Run a grouped query (area_id first) into {area_id: row}; the town is one row."""
    if ctx.breakdown.kind != AreaKind.TOWN:
        query = query.group_by(area)
    return {row.area_id: row for row in db.session.execute(query)}


# --- signing rates ---------------------------------------------------------------------------


def _registered(ctx: Ctx) -> tuple[sa.Select, sa.ColumnElement]:
    """Residents registered by `as_of`, with their area: a committee by where they live, a
    team by the committees it serves (as the signing-rate page counts)."""
    query = sa.select(Resident.id).select_from(Resident)
    kind, ids = ctx.breakdown.kind, ctx.breakdown.ids
    if kind == AreaKind.TEAM:
        query = query.join(served, served.c.neighbourhood_id == Resident.neighbourhood_id)
        area = served.c.team_id
    elif kind == AreaKind.NEIGHBOURHOOD:
        area = Resident.neighbourhood_id
    else:
        area = sa.literal(TOWN_ID)
    if ids is not None:
        query = query.where(area.in_(ids))
    query = query.where(Resident.created_at < signing.registered_before(ctx.period.as_of))
    return query, area.label("area_id")


def _signing_figures(ctx: Ctx) -> dict[int, dict[str, signing.Figure]]:
    def compute():
        on = ctx.period.as_of
        signed = signing.signed_on(on)
        hyp, dia = aliased(ResidentCondition), aliased(ResidentCondition)
        base, area = _registered(ctx)
        query = base.with_only_columns(area, *signing.group_counts(on, signed, hyp, dia))
        query = signing.with_resident_facts(query, signed, hyp, dia)
        rows = grouped(query, area, ctx)
        return {key: signing.figures_by_group(row) for key, row in rows.items()}

    return ctx.once("signing", compute)


def _signing_measure(group: str):
    def measure(ctx: Ctx) -> dict[int, Measure]:
        result = {}
        for area_id, figures in _signing_figures(ctx).items():
            groups = {
                name: {"registered": f.registered, "signed": f.signed, "rate": f.rate}
                for name, f in figures.items()
            }
            chosen = figures[group]
            detail = {"groups": groups} if group == signing.ALL else {}
            result[area_id] = Measure.share(chosen.signed, chosen.registered, **detail)
        return result

    return measure


def _signing_members(group: str):
    def members(ctx: Ctx) -> sa.Select:
        on = ctx.period.as_of
        signed = signing.signed_on(on)
        base, _area = _registered(ctx)
        query = base.outerjoin(signed, signed.c.resident_id == Resident.id).with_only_columns(
            Resident.id.label("resident_id"),
            signed.c.resident_id.is_not(None).label("met"),
            sa.null().label("at"),
            sa.null().label("note"),
        )
        if group == signing.AGED_65:
            query = query.where(Resident.birth_date <= born_on_or_before(65, on))
        return query.distinct()

    return members


# --- follow-ups on time ----------------------------------------------------------------------


def _due_follow_ups(ctx: Ctx, *columns) -> tuple[sa.Select, sa.ColumnElement]:
    """Follow-ups due in the period whose due date has passed (not cancelled)."""
    last = min(ctx.period.end, local_today() - timedelta(days=1))
    query = (
        sa.select(*columns)
        .select_from(FollowUp)
        .where(
            FollowUp.due_date >= ctx.period.start,
            FollowUp.due_date <= last,
            FollowUp.status != FollowUpStatus.CANCELLED,
        )
    )
    return by_team(query, FollowUp.resident_id, FollowUp.team_id, ctx)


def _on_time() -> sa.ColumnElement[bool]:
    """Done by the end of its due date, Shanghai time."""
    return sa.and_(
        FollowUp.status == FollowUpStatus.DONE, done_by_day_end(FollowUp.done_at, FollowUp.due_date)
    )


def _follow_ups_on_time(ctx: Ctx) -> dict[int, Measure]:
    query, area = _due_follow_ups(ctx)
    query = query.add_columns(
        area, sa.func.count(sa.case((_on_time(), 1))).label("met"), sa.func.count().label("of")
    )
    return {key: Measure.share(r.met, r.of) for key, r in grouped(query, area, ctx).items()}


def _follow_up_members(ctx: Ctx) -> sa.Select:
    query, _area = _due_follow_ups(
        ctx,
        FollowUp.resident_id.label("resident_id"),
        _on_time().label("met"),
        FollowUp.due_date.label("at"),
        FollowUp.status.label("note"),
    )
    return query


# --- hypertension and diabetes control -------------------------------------------------------


def _latest_classified(ctx: Ctx, condition: str) -> sa.Select:
    """Each resident's latest classified follow-up for `condition` done before the period
    ends: its resident, team and classification."""
    latest = (
        sa.select(FollowUp.resident_id, sa.func.max(FollowUp.done_at).label("done_at"))
        .where(
            FollowUp.condition == condition,
            FollowUp.status == FollowUpStatus.DONE,
            FollowUp.classification.is_not(None),
            FollowUp.done_at < ctx.period.stop,
        )
        .group_by(FollowUp.resident_id)
        .subquery("latest")
    )
    return (
        sa.select()
        .select_from(FollowUp)
        .join(
            latest,
            sa.and_(
                latest.c.resident_id == FollowUp.resident_id,
                latest.c.done_at == FollowUp.done_at,
                FollowUp.condition == condition,
            ),
        )
    )


def _controlled() -> sa.ColumnElement[bool]:
    return FollowUp.classification == Classification.SATISFACTORY


def _control_measure(condition: str):
    def measure(ctx: Ctx) -> dict[int, Measure]:
        query, area = by_team(
            _latest_classified(ctx, condition), FollowUp.resident_id, FollowUp.team_id, ctx
        )
        query = query.add_columns(
            area,
            sa.func.count(sa.distinct(sa.case((_controlled(), FollowUp.resident_id)))).label("met"),
            sa.func.count(sa.distinct(FollowUp.resident_id)).label("of"),
        )
        return {key: Measure.share(r.met, r.of) for key, r in grouped(query, area, ctx).items()}

    return measure


def _control_members(condition: str):
    def members(ctx: Ctx) -> sa.Select:
        query, _area = by_team(
            _latest_classified(ctx, condition), FollowUp.resident_id, FollowUp.team_id, ctx
        )
        return query.add_columns(
            FollowUp.resident_id.label("resident_id"),
            _controlled().label("met"),
            FollowUp.done_at.label("at"),
            FollowUp.classification.label("note"),
        )

    return members


# --- alert response --------------------------------------------------------------------------


def _alerts(ctx: Ctx, *columns) -> tuple[sa.Select, sa.ColumnElement]:
    query = (
        sa.select(*columns)
        .select_from(Alert)
        .where(Alert.opened_at >= ctx.period.begin, Alert.opened_at < ctx.period.stop)
    )
    return by_resident(query, Alert.resident_id, ctx)


def _alert_facts(ctx: Ctx) -> dict[int, dict]:
    """Per area: minutes from opening to the first action (acknowledged, else resolved) of
    the alerts opened in the period that someone acted on; how many escalated; how many."""

    def compute():
        query, area = _alerts(
            ctx, Alert.opened_at, Alert.acknowledged_at, Alert.resolved_at, Alert.step
        )
        facts: dict[int, dict] = defaultdict(lambda: {"minutes": [], "escalated": 0, "all": 0})
        for row in db.session.execute(query.add_columns(area)):
            fact = facts[row.area_id]
            acted = row.acknowledged_at or row.resolved_at
            if acted is not None:
                fact["minutes"].append((acted - row.opened_at).total_seconds() / 60)
            fact["escalated"] += int(row.step > 0)
            fact["all"] += 1
        return dict(facts)

    return ctx.once("alerts", compute)


def _minutes(q: float):
    def measure(ctx: Ctx) -> dict[int, Measure]:
        result = {}
        for area_id, fact in _alert_facts(ctx).items():
            value = percentile(fact["minutes"], q)
            rounded = None if value is None else round(value, 1)
            result[area_id] = Measure(rounded, None, len(fact["minutes"]))
        return result

    return measure


def _escalated_share(ctx: Ctx) -> dict[int, Measure]:
    return {
        area_id: Measure.share(fact["escalated"], fact["all"])
        for area_id, fact in _alert_facts(ctx).items()
    }


def _alert_members_where(counted):
    """The alerts opened in the period; `met` says whether an alert is in the figure."""

    def members(ctx: Ctx) -> sa.Select:
        query, _area = _alerts(
            ctx,
            Alert.resident_id.label("resident_id"),
            counted().label("met"),
            Alert.opened_at.label("at"),
            Alert.rule.label("note"),
        )
        return query

    return members


# response times count the alerts someone acted on; the escalated share those that climbed
_acted_members = _alert_members_where(
    lambda: sa.or_(Alert.acknowledged_at.is_not(None), Alert.resolved_at.is_not(None))
)
_escalated_members = _alert_members_where(lambda: Alert.step > 0)


# --- the definitions -------------------------------------------------------------------------


def _kpi(key, label, unit, better, target, yellow, weight, order, measure, members, about):
    return register(
        Kpi(key, label, unit, better, target, yellow, weight, order, measure, members, about)
    )


_kpi(
    "signing_rate", N_("Signing rate"), SHARE, HIGHER, 0.45, 0.35, 150, 10,
    _signing_measure(signing.ALL), _signing_members(signing.ALL),
    N_("Residents under a family-doctor contract on the period's last day, of those registered."),
)  # fmt: skip
_kpi(
    "signing_rate_aged_65", N_("Signing rate, aged 65+"), SHARE, HIGHER, 0.75, 0.65, 150, 20,
    _signing_measure(signing.AGED_65), _signing_members(signing.AGED_65),
    N_("The same, among residents aged 65 and over."),
)  # fmt: skip
_kpi(
    "follow_ups_on_time", N_("Follow-ups on time"), SHARE, HIGHER, 0.9, 0.8, 150, 30,
    _follow_ups_on_time, _follow_up_members,
    N_("Follow-ups due in the period (date passed, not cancelled) done by their due date."),
)  # fmt: skip
_kpi(
    "hypertension_control", N_("Hypertension control rate"), SHARE, HIGHER, 0.6, 0.5, 125, 40,
    _control_measure("hypertension"), _control_members("hypertension"),
    N_("Residents whose latest hypertension follow-up by the period's end was satisfactory."),
)  # fmt: skip
_kpi(
    "diabetes_control", N_("Diabetes control rate"), SHARE, HIGHER, 0.6, 0.5, 125, 50,
    _control_measure("type2_diabetes"), _control_members("type2_diabetes"),
    N_("Residents whose latest type-2 diabetes follow-up by the period's end was satisfactory."),
)  # fmt: skip
_kpi(
    "alert_ack_median", N_("Alert response, median"), MINUTES, LOWER, 15, 30, 50, 70,
    _minutes(0.5), _acted_members,
    N_("Minutes from an alert opening to the first action on it (acknowledged or resolved)."),
)  # fmt: skip
_kpi(
    "alert_ack_p90", N_("Alert response, 90th percentile"), MINUTES, LOWER, 60, 120, 50, 71,
    _minutes(0.9), _acted_members,
    N_("Nine in ten alerts were acted on within this many minutes."),
)  # fmt: skip
_kpi(
    "alerts_escalated", N_("Alerts escalated"), SHARE, LOWER, 0.1, 0.25, 50, 72,
    _escalated_share, _escalated_members,
    N_("Alerts opened in the period that nobody acted on before the next step was told."),
)  # fmt: skip
