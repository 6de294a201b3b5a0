"""E-mailing scheduled reports to REPORT_RECIPIENTS: one message per report, the PDF and the
CSV attached, subject and text in the report's language (Chinese by default).

As the alert outbox (app/alerts/delivery.py): each pending report is claimed with a
conditional UPDATE of `mail_attempts` (FOR UPDATE SKIP LOCKED on PostgreSQL) that pushes
its next attempt out by a lease, and committed, before the message goes; no transaction is
open while it is on the wire. A failure waits (5 min, doubling, at most 2 h) and tries again
until REPORT_MAIL_MAX_ATTEMPTS, then the report's mail is failed. Events "report.mailed" and
"report.mail_failed".
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext

from app.alerts.delivery import describe_failure, send_email
from app.audit.services import record_event
from app.extensions import db
from app.reports.models import MailStatus, Report
from app.reports.services import LOCALES, filename
from app.templating import localtime
from app.timeutil import utcnow

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(minutes=5)
LONGEST_RETRY = timedelta(hours=2)
CLAIM_LEASE = timedelta(minutes=5)  # longer than a send can take (SMTP timeout 10 s)


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def deliver_due(now: datetime | None = None, limit: int = 20) -> dict:
    """Send the reports whose mail is due, at most `limit`; counts by outcome."""
    counts: Counter[str] = Counter()
    for _ in range(limit):
        outcome = _deliver_next(now)
        if outcome is None:
            break
        if outcome is False:
            continue  # another runner claimed it first
        counts[outcome] += 1
    return {outcome: n for outcome, n in sorted(counts.items()) if n}


def _deliver_next(now: datetime | None) -> str | bool | None:
    stamp = now or utcnow()
    row = db.session.execute(
        sa.select(Report.id, Report.mail_attempts)
        .where(Report.mail_status == MailStatus.PENDING, Report.mail_next_attempt_at <= stamp)
        .order_by(Report.mail_next_attempt_at, Report.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=Report)
    ).first()
    if row is None:
        db.session.commit()
        return None
    claimed = db.session.execute(
        sa.update(Report)
        .where(
            Report.id == row.id,
            Report.mail_status == MailStatus.PENDING,
            Report.mail_attempts == row.mail_attempts,
        )
        .values(mail_attempts=Report.mail_attempts + 1, mail_next_attempt_at=stamp + CLAIM_LEASE)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.commit()
        return False
    report = db.session.get(Report, row.id, populate_existing=True)
    try:
        message = compose(report)
    except Exception as exc:  # noqa: BLE001 (one bad report must not stop the others)
        log.exception("report %s: could not compose the message", row.id)
        error = f"could not compose the message: {describe_failure(exc)}"
        return _record(row.id, stamp, error)
    db.session.commit()  # the claim is durable; nothing is held while the message is sent
    try:
        error = send_email(message)
    except (OSError, ValueError) as exc:  # smtplib's errors are OSErrors
        error = describe_failure(exc)
    return _record(row.id, now or utcnow(), error)


def _record(report_id: int, stamp: datetime, error: str | None) -> str:
    report = db.session.get(Report, report_id, populate_existing=True)
    if error is None:
        report.mail_status, report.mailed_at = MailStatus.SENT, stamp
        report.mail_error, report.mail_next_attempt_at = None, None
        record_event(
            "report",
            report.id,
            "report.mailed",
            MailStatus.PENDING.value,
            MailStatus.SENT.value,
            data={"attempts": report.mail_attempts, "recipients": len(report.mail_recipients)},
        )
        outcome = "sent"
    elif report.mail_attempts >= current_app.config["REPORT_MAIL_MAX_ATTEMPTS"]:
        report.mail_status, report.mail_error = MailStatus.FAILED, error[:500]
        report.mail_next_attempt_at = None
        record_event(
            "report",
            report.id,
            "report.mail_failed",
            MailStatus.PENDING.value,
            MailStatus.FAILED.value,
            reason=error[:500],
            data={"attempts": report.mail_attempts},
        )
        outcome = "failed"
    else:
        report.mail_error = error[:500]
        report.mail_next_attempt_at = stamp + backoff(report.mail_attempts)
        outcome = "retrying"
    if error:
        log.warning("report %s mail attempt %s: %s, %s", report.id, report.mail_attempts,
                    outcome, error)  # fmt: skip
    db.session.commit()
    return outcome


def compose(report: Report) -> EmailMessage:
    """The message: the title and period in the subject, a short text, PDF and CSV."""
    with force_locale(LOCALES.get(report.locale, "zh_CN")):
        period = {"start": report.period_start.isoformat(), "end": report.period_end.isoformat()}
        subject = gettext(
            "[Kangyang] %(title)s, %(start)s to %(end)s", title=report.title, **period
        )
        text = "\n".join(
            (
                report.title,
                gettext("Period: %(start)s to %(end)s", **period),
                gettext("Generated: %(when)s (Shanghai time)", when=localtime(report.generated_at)),
                "",
                gettext(
                    "The report is attached as a PDF and as a CSV file. It holds aggregate "
                    "figures only, no personal data."
                ),
                "",
                gettext("Sent automatically by the Kangyang platform."),
            )
        )
    sender = current_app.config["MAIL_FROM"]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "kangyang.invalid"
    message = EmailMessage()
    message["Subject"] = " ".join(subject.split())
    message["From"] = sender
    message["To"] = ", ".join(report.mail_recipients)
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = f"<report-{report.id}@{domain}>"  # the same on every retry
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text + "\n")
    message.add_attachment(
        report.pdf, maintype="application", subtype="pdf", filename=filename(report, "pdf")
    )
    message.add_attachment(
        report.csv.encode("utf-8"),
        maintype="text",
        subtype="csv",
        filename=filename(report, "csv"),
        params={"charset": "utf-8"},
    )
    return message
