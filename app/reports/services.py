"""Generating a report: its figures (weekly.check or monthly.review, which read the board's
queries), the PDF and the CSV, kept as one Report row; the event "report.generated". Services
flush; the request or the job commits.

A scheduled report is e-mailed to REPORT_RECIPIENTS by the "reports.deliver" job (mail.py):
it starts pending (not_sent when nobody is configured). One made on demand is not e-mailed.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from enum import Enum

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy.orm import defer

from app.accounts.models import Organisation, OrganisationKind, Team, User
from app.audit.services import record_event
from app.errors import N_, InvalidInput, NotFound
from app.extensions import db
from app.kpis.areas import TOWN_ID, AreaKind, Period, period_from
from app.reports import csv_export, layouts, monthly, pdf, weekly
from app.reports.models import MailStatus, Report, ReportKind, ReportTrigger
from app.timeutil import local_today, utcnow

LOCALES = {"zh": "zh_CN", "en": "en"}  # a report's language -> the catalogue it is written in
DEFAULT_CENTRE = "高行镇社区卫生服务中心"
TITLES = {
    ReportKind.WEEKLY_CHECK: N_("Gaohang Town family-doctor services: weekly work check"),
    ReportKind.MONTHLY_REVIEW: N_(
        "Gaohang Town family-doctor contract services: monthly assessment report"
    ),
}


def default_period(kind: ReportKind) -> Period:
    """The last full Monday-Sunday week, or last month."""
    if kind == ReportKind.WEEKLY_CHECK:
        return weekly.last_full_week()
    return monthly.last_month()


def requested_period(kind: ReportKind, start: date | None, end: date | None) -> Period:
    """The period an on-demand request names: both days or neither (the default one)."""
    if start is None and end is None:
        return default_period(kind)
    if start is None:
        raise InvalidInput(N_("give the first day as well, or neither day"), "start")
    if end is None:
        raise InvalidInput(N_("give the last day as well, or neither day"), "end")
    if end > local_today():
        raise InvalidInput(N_("the period must not end after today"), "end")
    return period_from(start, end)


def recipients() -> list[str]:
    configured = current_app.config.get("REPORT_RECIPIENTS") or ()
    if isinstance(configured, str):
        configured = configured.split(",")
    return [address.strip() for address in configured if address.strip()]


def centre_name() -> str:
    """The community health service centre the teams belong to (the one with the most active
    teams), as the header of every report."""
    query = (
        sa.select(Organisation.name)
        .outerjoin(Team, sa.and_(Team.centre_id == Organisation.id, Team.active.is_(True)))
        .where(
            Organisation.kind == OrganisationKind.COMMUNITY_CENTRE,
            Organisation.active.is_(True),
            Organisation.parent_id.is_(None),
        )
        .group_by(Organisation.id, Organisation.name)
        .order_by(sa.func.count(Team.id).desc(), Organisation.id)
        .limit(1)
    )
    return db.session.scalar(query) or DEFAULT_CENTRE


def json_safe(value):
    """The figures as JSON keeps them: dates and times in ISO 8601, enums as their values."""
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _build(kind: ReportKind, period: Period) -> tuple[dict, object, str]:
    if kind == ReportKind.WEEKLY_CHECK:
        content = weekly.check(period)
        return content, layouts.weekly_story(content), csv_export.weekly(content)
    content = monthly.review(period)
    return content, layouts.monthly_story(content), csv_export.monthly(content)


def generate(
    kind: ReportKind | str,
    period: Period,
    trigger: ReportTrigger | str,
    actor: User | None = None,
    locale: str = "zh",
) -> Report:
    """Compute, render and keep one report of the town for `period`."""
    kind, trigger = ReportKind(kind), ReportTrigger(trigger)
    if locale not in LOCALES:
        raise InvalidInput(N_("a report is written in zh or en"), "locale")
    generated_at = utcnow()
    with force_locale(LOCALES[locale]):
        content, story, table = _build(kind, period)
        title = gettext(TITLES[kind])
        meta = {
            "header": centre_name(),
            "title": title,
            "period": period,
            "generated_at": generated_at,
        }
        document = pdf.render(meta, story)
    to = recipients() if trigger == ReportTrigger.SCHEDULED else []
    report = Report(
        kind=kind,
        trigger=trigger,
        area_kind=AreaKind.TOWN.value,
        area_id=TOWN_ID,
        period_start=period.start,
        period_end=period.end,
        locale=locale,
        title=title,
        generated_at=generated_at,
        generated_by_id=actor.id if actor else None,
        pdf=document,
        csv=table,
        figures=json_safe(content),
        mail_status=MailStatus.PENDING if to else MailStatus.NOT_SENT,
        mail_recipients=to,
        mail_attempts=0,
        mail_next_attempt_at=generated_at if to else None,
    )
    db.session.add(report)
    db.session.flush()
    record_event(
        "report",
        report.id,
        "report.generated",
        to_state=report.mail_status.value,
        data={
            "kind": kind.value,
            "trigger": trigger.value,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "locale": locale,
            "recipients": len(to),
        },
        actor=actor,
    )
    return report


def scheduled_exists(kind: ReportKind, period: Period) -> bool:
    query = sa.select(Report.id).where(
        Report.kind == kind,
        Report.trigger == ReportTrigger.SCHEDULED,
        Report.period_start == period.start,
        Report.period_end == period.end,
    )
    return db.session.scalar(query.limit(1)) is not None


def generate_scheduled(kind: ReportKind, period: Period) -> Report | None:
    """The scheduled report of `kind` for `period`, once: None when it is already there."""
    if scheduled_exists(kind, period):
        return None
    return generate(kind, period, ReportTrigger.SCHEDULED)


def search(kind: ReportKind | None = None) -> sa.Select:
    """Reports, the newest first (their PDF, CSV and figures are loaded when asked for)."""
    query = sa.select(Report).options(defer(Report.pdf), defer(Report.csv), defer(Report.figures))
    if kind is not None:
        query = query.where(Report.kind == kind)
    return query.order_by(Report.generated_at.desc(), Report.id.desc())


def get(report_id: int) -> Report:
    report = db.session.get(Report, report_id)
    if report is None:
        raise NotFound(N_("no such report"))
    return report


def filename(report: Report, extension: str) -> str:
    kind = report.kind.value.replace("_", "-")
    return f"kangyang-{kind}-{report.period_start}-{report.period_end}.{extension}"
