"""Sending the outbox: the e-mail and webhook deliveries that services wrote with the alert.

At least once, with retries: each delivery is claimed, sent, and its attempt recorded; a
failure waits (30 s, doubling, at most 30 min, plus a little jitter) and tries again until
ALERT_DELIVERY_MAX_ATTEMPTS, then the delivery is FAILED. Deliveries of an alert that was
acknowledged or resolved meanwhile are CANCELLED, never sent.

Unlike services, this job commits, once per delivery, for two reasons:
- a claim must be visible to any other runner before the message leaves (on PostgreSQL the
  row is taken with FOR UPDATE SKIP LOCKED; on both databases the claim is a conditional
  UPDATE of `attempts`, and it pushes next_attempt_at out by a lease, so a runner that dies
  mid-send is retried after the lease: at least once, never silently lost);
- once a message has left, its SENT mark must be durable at once: if it waited for the end
  of the run, a crash later in the run would roll it back and the message would go twice.
No transaction is open while a message is on the wire: on SQLite a transaction holds the
write lock (BEGIN IMMEDIATE), and a slow mail server must not stall the web requests.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import secrets
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l

from app.accounts.models import User
from app.alerts import links
from app.alerts.models import (
    SEVERITY_RANK,
    Alert,
    AlertDelivery,
    AlertStatus,
    Channel,
    DeliveryAttempt,
    DeliveryStatus,
    Severity,
)
from app.extensions import db
from app.templating import localtime
from app.timeutil import utcnow

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(minutes=30)
# How long a claimed delivery is left alone: longer than any one send can take (the
# timeouts below), so only a runner that died mid-send lets it go again.
CLAIM_LEASE = timedelta(minutes=2)
SMTP_TIMEOUT = 10
WEBHOOK_TIMEOUT = 5
SENDABLE = (Channel.EMAIL, Channel.WEBHOOK)  # LIVE rows are written SENT by services
WAITING = (AlertStatus.OPEN, AlertStatus.ESCALATED)
SETTLED = (AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED)
MESSAGE_LOCALE = "zh_CN"  # SMS text and the on-call contact (who has no account)

SEVERITY_WORDS = {
    Severity.CRITICAL: _l("Critical"),
    Severity.HIGH: _l("High"),
    Severity.MEDIUM: _l("Medium"),
    Severity.LOW: _l("Low"),
}


@dataclass
class Outgoing:
    """One message, composed while its claim was held; sending reads nothing else."""

    delivery_id: int
    channel: Channel
    email: EmailMessage | None = None
    payload: dict = field(default_factory=dict)


def deliver_due(now: datetime | None = None, limit: int = 100) -> dict:
    """Send the due e-mail and webhook deliveries, at most `limit`; counts by outcome."""
    counts: Counter[str] = Counter()
    run_at = now or utcnow()
    counts["cancelled"] += _cancel_settled()
    db.session.commit()
    for _ in range(limit):
        claimed = _deliver_next(run_at, now)
        if claimed is None:
            break
        if claimed is False:
            continue  # another runner took it between our look and our claim
        counts[claimed] += 1
    return {outcome: n for outcome, n in sorted(counts.items()) if n}


def _cancel_settled() -> int:
    """Belt and braces: services cancel on acknowledge and resolve already."""
    settled = sa.select(Alert.id).where(Alert.status.in_(SETTLED))
    return (
        db.session.execute(
            sa.update(AlertDelivery)
            .where(
                AlertDelivery.status == DeliveryStatus.PENDING,
                AlertDelivery.alert_id.in_(settled),
            )
            .values(status=DeliveryStatus.CANCELLED)
            .execution_options(synchronize_session=False)
        ).rowcount
        or 0
    )


def _due(run_at: datetime) -> sa.Select:
    worst_first = sa.case(
        *((Alert.severity == severity, rank) for severity, rank in SEVERITY_RANK.items()),
        else_=len(SEVERITY_RANK),
    )
    return (
        sa.select(AlertDelivery.id, AlertDelivery.attempts)
        .join(Alert, Alert.id == AlertDelivery.alert_id)
        .where(
            AlertDelivery.status == DeliveryStatus.PENDING,
            AlertDelivery.channel.in_(SENDABLE),
            AlertDelivery.next_attempt_at <= run_at,
            Alert.status.in_(WAITING),
        )
        .order_by(worst_first, AlertDelivery.next_attempt_at, AlertDelivery.id)
        .limit(1)
        # PostgreSQL: a second runner skips this row instead of waiting for it. SQLite
        # ignores the clause; its transactions take the write lock when they begin.
        .with_for_update(skip_locked=True, of=AlertDelivery)
    )


def _deliver_next(run_at: datetime, now: datetime | None) -> str | bool | None:
    """Claim, send and record the next due delivery: its outcome; None when none is due;
    False when another runner claimed it first."""
    row = db.session.execute(_due(run_at)).first()
    if row is None:
        db.session.commit()
        return None
    stamp = now or utcnow()  # the lease runs from the claim, not from the start of the run
    claimed = db.session.execute(
        sa.update(AlertDelivery)
        .where(
            AlertDelivery.id == row.id,
            AlertDelivery.status == DeliveryStatus.PENDING,
            AlertDelivery.attempts == row.attempts,
        )
        .values(attempts=AlertDelivery.attempts + 1, next_attempt_at=stamp + CLAIM_LEASE)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.commit()
        return False
    delivery = db.session.get(AlertDelivery, row.id, populate_existing=True)
    try:
        outgoing = compose(delivery, stamp)
    except Exception as exc:  # noqa: BLE001 (one bad row must not stop the others)
        log.exception("alert delivery %s: could not compose the message", row.id)
        error = f"could not compose the message: {describe_failure(exc)}"
        return _record(delivery.id, stamp, error)
    db.session.commit()  # the claim is durable; no transaction stays open while sending
    error = send(outgoing)
    return _record(row.id, now or utcnow(), error)


def _record(delivery_id: int, stamp: datetime, error: str | None) -> str:
    delivery = db.session.get(AlertDelivery, delivery_id, populate_existing=True)
    error = error[:500] if error else None
    db.session.add(
        DeliveryAttempt(delivery_id=delivery_id, attempted_at=stamp, ok=not error, error=error)
    )
    if error is None:
        # Sent, even if the alert was acknowledged while it was on the wire.
        delivery.status, delivery.sent_at, delivery.last_error = DeliveryStatus.SENT, stamp, None
        outcome = "sent"
    else:
        delivery.last_error = error
        outcome = _after_failure(delivery, stamp)
        log.warning(
            "alert delivery %s (%s) attempt %s: %s, %s",
            delivery.id,
            delivery.channel,
            delivery.attempts,
            outcome,
            error,
        )
    db.session.commit()
    return outcome


def _after_failure(delivery: AlertDelivery, stamp: datetime) -> str:
    if delivery.status != DeliveryStatus.PENDING:
        return "cancelled"  # acknowledged meanwhile: no retry
    if delivery.attempts >= current_app.config["ALERT_DELIVERY_MAX_ATTEMPTS"]:
        delivery.status = DeliveryStatus.FAILED
        return "failed"
    delivery.next_attempt_at = stamp + backoff(delivery.attempts)
    return "retrying"


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try: 30 s doubling, capped at 30 min, plus
    up to 10 % jitter so that many deliveries failing together do not retry together."""
    wait = min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)
    return wait + timedelta(milliseconds=secrets.randbelow(int(wait.total_seconds() * 100) + 1))


# --- composing ---------------------------------------------------------------------------


def locale_of(user: User | None) -> str:
    config = current_app.config
    if user is not None and user.locale in config["LANGUAGES"]:
        return user.locale
    return config["BABEL_DEFAULT_LOCALE"]


def facts(alert: Alert) -> dict:
    """Who, what, how bad and when, in the current locale. Never the national ID."""
    return {
        "name": alert.resident.name,
        "what": gettext(alert.message, **(alert.params or {})),
        "severity": str(SEVERITY_WORDS[alert.severity]),
        "when": localtime(alert.opened_at),
    }


def compose(delivery: AlertDelivery, stamp: datetime) -> Outgoing:
    alert = delivery.alert
    if delivery.channel == Channel.EMAIL:
        with force_locale(locale_of(delivery.user)):
            return Outgoing(delivery.id, delivery.channel, email=_email(delivery, alert, stamp))
    with force_locale(MESSAGE_LOCALE):
        told = facts(alert)
        text = gettext("%(name)s: %(what)s (%(severity)s, %(when)s)", **told)
    payload = {
        "event": "alert",
        "delivery_id": delivery.id,  # the same on every retry: the gateway's idempotency key
        "alert_id": alert.id,
        "severity": alert.severity.value,
        "resident_id": alert.resident_id,
        "phone": delivery.address,
        "text": text,
        "ack_url": links.ack_url(alert.id, delivery.user_id, stamp),
        "sent_at": stamp.isoformat(),
    }
    return Outgoing(delivery.id, delivery.channel, payload=payload)


def _render(template: str, /, **context) -> str:
    # Straight from the Jinja environment: the app's context processors need a request.
    return current_app.jinja_env.get_template(template).render(**context)


def _email(delivery: AlertDelivery, alert: Alert, stamp: datetime) -> EmailMessage:
    told = facts(alert)
    context = {
        **told,
        "ack_url": links.ack_url(alert.id, delivery.user_id, stamp),
        "alert_url": links.alert_url(alert.id),
        "hours": current_app.config["ALERT_ACK_LINK_HOURS"],
        "passed_on": delivery.step > 1,
    }
    subject = gettext("[Kangyang] Alert (%(severity)s): %(name)s, %(what)s", **told)
    sender = current_app.config["MAIL_FROM"]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "kangyang.invalid"
    message = EmailMessage()
    message["Subject"] = " ".join(subject.split())  # a header is one line
    message["From"] = sender
    message["To"] = delivery.address
    message["Date"] = format_datetime(stamp)
    # The same id on every retry, so a mailbox can fold a repeated message into one.
    message["Message-ID"] = f"<alert-{alert.id}.delivery-{delivery.id}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(_render("alerts/email.txt", **context))
    message.add_alternative(_render("alerts/email.html", **context), subtype="html")
    return message


# --- sending -----------------------------------------------------------------------------


def send(outgoing: Outgoing) -> str | None:
    """Send one message: None when it went, else why not (no personal data)."""
    try:
        if outgoing.channel == Channel.EMAIL:
            return send_email(outgoing.email)
        return _post_webhook(outgoing.payload)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return describe_failure(exc)


def send_email(message: EmailMessage) -> str | None:
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        return "MAIL_SERVER is not set"
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=SMTP_TIMEOUT) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(message)
    return None


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """hex HMAC-SHA256 of `<timestamp>.<raw body>`: the timestamp is signed too, so a
    captured request cannot be replayed later with a fresh timestamp."""
    material = timestamp.encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), material, hashlib.sha256).hexdigest()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A gateway that redirects is misconfigured: fail loudly rather than re-POST."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post_webhook(payload: dict) -> str | None:
    config = current_app.config
    url, secret = config.get("ALERT_WEBHOOK_URL"), config.get("ALERT_WEBHOOK_SECRET")
    if not url:
        return "ALERT_WEBHOOK_URL is not set"
    if not secret:
        return "ALERT_WEBHOOK_SECRET is not set: nothing is sent unsigned"
    if urlsplit(url).scheme not in ("http", "https"):
        return "ALERT_WEBHOOK_URL is not an http(s) address"
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    timestamp = str(int(time.time()))  # the wall clock: gateways compare it with theirs
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Kangyang-Alerts/1",
            "X-Kangyang-Timestamp": timestamp,
            "X-Kangyang-Signature": "sha256=" + signature(secret, timestamp, body),
        },
    )
    with _opener.open(request, timeout=WEBHOOK_TIMEOUT) as response:
        response.read(4096)
        status = response.status
    return None if 200 <= status < 300 else f"HTTP {status}"


def describe_failure(exc: BaseException) -> str:
    """What went wrong, without the addresses a mail server echoes back."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    if isinstance(exc, urllib.error.URLError):
        reason = exc.reason
        return describe_failure(reason) if isinstance(reason, BaseException) else "URLError"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in exc.recipients.values()})
        return f"SMTPRecipientsRefused {codes}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__} {exc.smtp_code}"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}"
    return type(exc).__name__
