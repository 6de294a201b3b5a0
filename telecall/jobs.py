"""The video visits' scheduled jobs. Each keeps its state in the database (the reminder
stamps, the visit's status, the recording's status), so a restarted scheduler neither skips
nor repeats anything."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.message import EmailMessage

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from app.alerts.delivery import locale_of, send_email
from app.extensions import db
from app.scheduler import Job
from app.timeutil import utcnow
from telecall import booking, calls, notices, recording
from telecall.models import Visit, VisitStatus

log = logging.getLogger(__name__)
DAY = timedelta(hours=24)
# A visit booked less than this ahead gets no "tomorrow" reminder, only the one just before.
DAY_BEFORE_MIN_LEAD = timedelta(hours=20)


def _due_reminders(now: datetime) -> list[tuple[Visit, str]]:
    soon = timedelta(minutes=current_app.config["VISIT_REMINDER_SOON_MINUTES"])
    booked = sa.select(Visit).where(Visit.status == VisitStatus.BOOKED, Visit.starts_at > now)
    due = []
    for visit in db.session.scalars(booked.where(Visit.starts_at <= now + DAY)):
        if visit.starts_at <= now + soon:
            if visit.reminded_soon_at is None:
                due.append((visit, "soon"))
        elif (
            visit.reminded_day_before_at is None
            and visit.starts_at - visit.created_at >= DAY_BEFORE_MIN_LEAD
        ):
            due.append((visit, "day_before"))
    return due


def send_reminders(now: datetime | None = None) -> dict:
    """The day before and VISIT_REMINDER_SOON_MINUTES before: the resident's account and
    caregivers are told in the platform, and by e-mail where they have an address."""
    now = now or utcnow()
    emails = []
    due = _due_reminders(now)
    for visit, which in due:
        for user, link in notices.reminder(visit, which):
            if user.email:
                emails.append(_email(user, visit, which, link))
        if which == "soon":
            visit.reminded_soon_at = now
        else:
            visit.reminded_day_before_at = now
    db.session.commit()  # stamped first: a failed e-mail is not worth a second reminder
    failed = sum(1 for message in emails if _send(message) is not None)
    if failed:
        log.warning("visit reminders: %s of %s e-mails not sent", failed, len(emails))
    return {"reminders": len(due), "emails": len(emails), "email_failures": failed}


def _send(message: EmailMessage) -> str | None:
    """None when it went; a mail server that is down must not stop the other e-mails."""
    try:
        return send_email(message)
    except (OSError, ValueError) as exc:  # smtplib's errors are OSErrors
        return type(exc).__name__


def _email(user, visit: Visit, which: str, link: str) -> EmailMessage:
    config = current_app.config
    with force_locale(locale_of(user)):
        message = EmailMessage()
        message["Subject"] = _("Video visit reminder")
        message["From"] = config["MAIL_FROM"]
        message["To"] = user.email
        when = notices.when(visit)
        lines = [
            _(
                "Video visit with %(doctor)s at %(when)s.",
                doctor=visit.doctor.display_name,
                when=when,
            ),
            _("Tap this link to join (no sign-in needed):"),
            config["PUBLIC_URL"].rstrip("/") + link,
        ]
        if which == "day_before":
            lines.append(
                _("Before the visit you can check your camera and microphone from the same link.")
            )
        message.set_content("\n".join(lines))
    return message


def close_past_visits(now: datetime | None = None) -> dict:
    """Once a visit's links have closed: never joined by the resident -> no-show; joined by
    the resident but never started by the team -> missed by the team; still in progress (the
    doctor did not end it) -> completed by the platform."""
    now = now or utcnow()
    no_shows = booking.overdue_unattended(now)
    for visit in no_shows:
        booking.mark_no_show(visit)
    db.session.flush()
    grace = timedelta(minutes=current_app.config["VISIT_JOIN_GRACE_MINUTES"])
    missed = db.session.scalars(
        sa.select(Visit).where(Visit.status == VisitStatus.BOOKED, Visit.ends_at < now - grace)
    ).all()
    for visit in missed:
        booking.mark_missed_by_team(visit)
    stale = db.session.scalars(
        sa.select(Visit).where(Visit.status == VisitStatus.IN_PROGRESS, Visit.ends_at < now - grace)
    ).all()
    for visit in stale:
        calls.end(None, visit, now)
    return {"no_shows": len(no_shows), "missed_by_team": len(missed), "ended": len(stale)}


def watch_recordings() -> dict:
    return {"failed": recording.fail_stalled()}


def purge_recordings() -> dict:
    return {"purged": recording.purge_expired()}


JOBS = [
    Job("visits.remind", send_reminders, "interval", {"minutes": 1}),
    Job("visits.close_past", close_past_visits, "interval", {"minutes": 5}),
    Job("visits.watch_recordings", watch_recordings, "interval", {"minutes": 1}),
    Job("visits.purge_recordings", purge_recordings, "cron", {"hour": 3, "minute": 30}),
]
