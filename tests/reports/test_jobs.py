"""The scheduled reports: each job makes its report once per period, and the mail job sends
it with the PDF and the CSV attached to the configured recipients through a real local SMTP
server; a mail server that is down leaves it pending with a retry time, then failed."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import scheduler
from app.audit.services import history
from app.extensions import db
from app.reports import jobs, mail, monthly, services, weekly
from app.reports.models import MailStatus, Report, ReportKind, ReportTrigger
from app.timeutil import utcnow
from tests.reports.conftest import zh
from tests.smtp import free_port

OFFICE = ["office@gaohang.example", "head@gaohang.example"]
WEEKLY_TITLE = "Gaohang Town family-doctor services: weekly work check"


def scheduled(kind: ReportKind) -> list[Report]:
    query = sa.select(Report).where(Report.kind == kind, Report.trigger == ReportTrigger.SCHEDULED)
    return list(db.session.scalars(query))


@pytest.mark.allow_messages
def test_the_weekly_job_makes_one_check_a_week_and_mails_it(app, town, inbox, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_RECIPIENTS", OFFICE)
    job = next(j for j in scheduler.all_jobs() if j.id == "reports.weekly")
    assert job.trigger_args == {"day_of_week": "mon", "hour": 7, "minute": 0}
    first = scheduler.run_job(app, job)
    assert first["generated"] is not None
    assert scheduler.run_job(app, job) == {"generated": None}  # the week has its check
    (report,) = scheduled(ReportKind.WEEKLY_CHECK)
    week = weekly.last_full_week()
    assert (report.period_start, report.period_end) == (week.start, week.end)
    assert report.mail_status == MailStatus.PENDING
    assert report.mail_recipients == OFFICE

    assert mail.deliver_due() == {"sent": 1}
    assert mail.deliver_due() == {}  # sent once
    db.session.refresh(report)
    assert report.mail_status == MailStatus.SENT
    assert report.mailed_at is not None

    assert inbox.count() == 1
    rcpts, message = inbox.messages[0]
    assert sorted(rcpts) == sorted(OFFICE)
    subject = message["Subject"]
    assert zh(WEEKLY_TITLE) in subject
    assert week.start.isoformat() in subject
    body = message.get_body(("plain",)).get_content()
    assert zh("Period: %(start)s to %(end)s", start=week.start.isoformat(),
              end=week.end.isoformat()) in body  # fmt: skip
    attached = {part.get_filename(): part for part in message.iter_attachments()}
    stem = f"kangyang-weekly-check-{week.start}-{week.end}"
    assert set(attached) == {f"{stem}.pdf", f"{stem}.csv"}
    assert attached[f"{stem}.pdf"].get_content_type() == "application/pdf"
    assert attached[f"{stem}.pdf"].get_content() == report.pdf
    assert attached[f"{stem}.csv"].get_payload(decode=True) == report.csv.encode("utf-8")
    assert [e.name for e in history("report", report.id)] == ["report.generated", "report.mailed"]


def test_the_monthly_job_makes_last_months_review_once(app, town, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_RECIPIENTS", ())
    assert jobs.monthly_review()["generated"] is not None
    assert jobs.monthly_review() == {"generated": None}
    (report,) = scheduled(ReportKind.MONTHLY_REVIEW)
    month = monthly.last_month()
    assert (report.period_start, report.period_end) == (month.start, month.end)
    assert report.mail_status == MailStatus.NOT_SENT  # nobody to send it to
    assert mail.deliver_due() == {}


def test_the_database_keeps_one_scheduled_report_a_period(app, town):
    """Should the job ever run twice at once, the second report of the period is refused by
    the database; reports on demand for the same period are never refused."""
    month = monthly.last_month()
    services.generate(ReportKind.MONTHLY_REVIEW, month, ReportTrigger.ON_DEMAND)
    services.generate(ReportKind.MONTHLY_REVIEW, month, ReportTrigger.ON_DEMAND)
    services.generate(ReportKind.MONTHLY_REVIEW, month, ReportTrigger.SCHEDULED)
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        services.generate(ReportKind.MONTHLY_REVIEW, month, ReportTrigger.SCHEDULED)
    assert len(scheduled(ReportKind.MONTHLY_REVIEW)) == 1


@pytest.mark.allow_messages
def test_a_mail_server_that_is_down_leaves_the_report_pending_then_failed(app, town, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_RECIPIENTS", OFFICE)
    monkeypatch.setitem(app.config, "REPORT_MAIL_MAX_ATTEMPTS", 2)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nothing listens there
    report = services.generate(
        ReportKind.WEEKLY_CHECK, weekly.last_full_week(), ReportTrigger.SCHEDULED
    )
    db.session.commit()
    now = utcnow()

    assert mail.deliver_due(now) == {"retrying": 1}
    db.session.refresh(report)
    assert report.mail_status == MailStatus.PENDING
    assert report.mail_attempts == 1
    assert report.mail_next_attempt_at == now + mail.backoff(1)
    assert "ConnectionRefusedError" in report.mail_error

    assert mail.deliver_due(now + timedelta(minutes=1)) == {}  # not due again yet
    assert mail.deliver_due(now + timedelta(minutes=6)) == {"failed": 1}
    db.session.refresh(report)
    assert report.mail_status == MailStatus.FAILED
    assert report.mail_attempts == 2
    assert report.mail_next_attempt_at is None
    events = history("report", report.id)
    assert [e.name for e in events] == ["report.generated", "report.mail_failed"]
    assert "ConnectionRefusedError" in events[-1].reason
    assert mail.deliver_due(now + timedelta(days=1)) == {}  # given up
