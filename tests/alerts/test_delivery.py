"""Sending the alert outbox for real: e-mail through a local SMTP server, the webhook to a
local HTTP server; retries, cancelling, quiet hours, the ladder across a scheduler restart,
a runner dying mid-run (two runners at once: test_delivery_runners.py)."""

import hashlib
import hmac
import json
import re
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from app import crypto
from app.accounts.models import Role
from app.alerts import delivery, services
from app.alerts.models import (
    Alert,
    AlertDelivery,
    AlertStatus,
    Channel,
    DeliveryAttempt,
    DeliveryStatus,
    Severity,
)
from app.audit.services import history
from app.extensions import db
from app.timeutil import LOCAL_TZ, utcnow
from tests.smtp import free_port, plain

SECRET = "webhook-test-secret"
LINK_RE = re.compile(r"https?://\S+/a/[A-Za-z0-9_.\-]+")


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.headers, body))
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook(app, monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.received, server.statuses = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setitem(
        app.config, "ALERT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/sms"
    )
    monkeypatch.setitem(app.config, "ALERT_WEBHOOK_SECRET", SECRET)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def family(app, monkeypatch, make_team, make_resident, make_link, make_user):
    team = make_team()
    for member in team.members:
        member.user.email = f"{member.user.username}@centre.example"
    resident = make_resident(neighbourhood=team.neighbourhoods[0], name="王秀英")
    daughter = make_user(Role.CAREGIVER, display_name="王丽", email="daughter@example.org")
    son = make_user(Role.CAREGIVER, display_name="Wang Wei", email="son@example.org", locale="en")
    make_link(resident, caregiver=daughter, priority=1)
    make_link(resident, caregiver=son, priority=2)
    monkeypatch.setitem(app.config, "ALERT_ON_CALL_EMAIL", "oncall@centre.example")
    db.session.flush()
    return SimpleNamespace(team=team, resident=resident, daughter=daughter, son=son)


def fall(resident, now, severity=Severity.CRITICAL, rule="event:fall"):
    alert = services.raise_alert(resident.id, rule, severity, "Fall", now=now)[0]
    db.session.commit()  # as the ingest request would
    return alert


def deliveries(alert_id, channel=Channel.EMAIL) -> list[AlertDelivery]:
    query = sa.select(AlertDelivery).where(
        AlertDelivery.alert_id == alert_id, AlertDelivery.channel == channel
    )
    return list(db.session.scalars(query.order_by(AlertDelivery.id)))


def attempts(delivery_id) -> list[DeliveryAttempt]:
    query = sa.select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id)
    return list(db.session.scalars(query.order_by(DeliveryAttempt.id)))


def path_of(url: str, app) -> str:
    assert url.startswith(app.config["PUBLIC_URL"])
    return url[len(app.config["PUBLIC_URL"]) :]


@pytest.mark.allow_messages
def test_the_email_tells_the_caregiver_and_its_link_acknowledges(app, client, family, inbox):
    start = utcnow()
    alert = fall(family.resident, start)
    assert delivery.deliver_due(start) == {"sent": 1}
    assert delivery.deliver_due(start) == {}  # a second run: nothing more

    [message] = inbox.to("daughter@example.org")
    assert inbox.count() == 1
    body = plain(message)
    assert "王秀英" in message["Subject"]
    assert "跌倒" in message["Subject"]
    assert "王秀英" in body
    assert "跌倒" in body
    national_id = crypto.decrypt(family.resident.national_id_ciphertext)
    assert national_id not in message.as_string()
    assert f"{start.astimezone(LOCAL_TZ):%H:%M}" in body  # when, in Shanghai time
    assert f"/alerts/{alert.id}" in body
    [sent] = deliveries(alert.id)
    assert (sent.status, sent.attempts, sent.sent_at) == (DeliveryStatus.SENT, 1, start)
    assert [a.ok for a in attempts(sent.id)] == [True]

    [link] = LINK_RE.findall(body)
    page = client.get(path_of(link, app))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "王秀英" in html
    assert "跌倒" in html
    assert re.search(r'<form class="ack" method="post"[^>]*>\s*<button', html)
    db.session.refresh(alert)
    assert alert.status == AlertStatus.OPEN  # looking (or a mail scanner) changes nothing

    done = client.post(path_of(link, app))
    assert done.status_code == 200
    db.session.refresh(alert)
    assert alert.status == AlertStatus.ACKNOWLEDGED
    assert alert.acknowledged_by_id == family.daughter.id
    event = history("alert", alert.id)[-1]
    assert (event.name, event.actor_id) == ("alert.acknowledged", family.daughter.id)
    assert event.data == {"via": "link", "recipient": f"user:{family.daughter.id}"}

    assert services.escalate_due(start + timedelta(hours=2)) == 0
    assert delivery.deliver_due(start + timedelta(hours=2)) == {}
    assert inbox.count() == 1  # nobody else was bothered


@pytest.mark.allow_messages
def test_an_english_speaker_gets_english(app, family, inbox):
    start = utcnow()
    alert = fall(family.resident, start)
    services.escalate_due(start + timedelta(minutes=2))
    db.session.commit()
    delivery.deliver_due(start + timedelta(minutes=2))
    [message] = inbox.to("son@example.org")
    assert "Fall" in plain(message)
    assert "跌倒" not in plain(message)
    assert message["Message-ID"].startswith(f"<alert-{alert.id}.delivery-")


@pytest.mark.allow_messages
def test_the_webhook_is_signed_and_says_what_a_gateway_needs(app, client, family, hook):
    family.daughter.phone = "13900000001"
    start = utcnow()
    alert = fall(family.resident, start)
    assert delivery.deliver_due(start) == {"sent": 1}

    [(headers, raw)] = hook.received
    timestamp = headers["X-Kangyang-Timestamp"]
    expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + raw, hashlib.sha256)
    assert headers["X-Kangyang-Signature"] == "sha256=" + expected.hexdigest()
    forged = hmac.new(b"another secret", timestamp.encode() + b"." + raw, hashlib.sha256)
    assert headers["X-Kangyang-Signature"] != "sha256=" + forged.hexdigest()
    assert abs(int(timestamp) - utcnow().timestamp()) < 60
    assert headers["Content-Type"].startswith("application/json")

    body = json.loads(raw)
    [sent] = deliveries(alert.id, Channel.WEBHOOK)
    assert body["event"] == "alert"
    assert (body["alert_id"], body["delivery_id"]) == (alert.id, sent.id)
    assert (body["severity"], body["resident_id"]) == ("critical", family.resident.id)
    assert body["phone"] == "13900000001"
    assert "王秀英" in body["text"]
    assert "跌倒" in body["text"]
    assert datetime.fromisoformat(body["sent_at"]) == start
    assert client.get(path_of(body["ack_url"], app)).status_code == 200
    assert sent.status == DeliveryStatus.SENT


@pytest.mark.allow_messages
def test_a_failing_webhook_is_retried_with_backoff_then_given_up(app, family, hook, monkeypatch):
    monkeypatch.setitem(app.config, "ALERT_DELIVERY_MAX_ATTEMPTS", 3)
    family.daughter.phone = "13900000002"
    hook.statuses.append(500)
    start = utcnow()
    alert = fall(family.resident, start)

    assert delivery.deliver_due(start) == {"retrying": 1}
    [row] = deliveries(alert.id, Channel.WEBHOOK)
    assert len(hook.received) == 1
    assert row.attempts == 1
    assert row.last_error == "HTTP 500"
    first_wait = row.next_attempt_at - start
    assert timedelta(seconds=30) <= first_wait <= timedelta(seconds=33)
    assert delivery.deliver_due(start + timedelta(seconds=29)) == {}  # not due yet

    # the gateway goes away: nothing listens on its port any more
    closed = f"http://127.0.0.1:{free_port()}/sms"
    monkeypatch.setitem(app.config, "ALERT_WEBHOOK_URL", closed)
    second = row.next_attempt_at
    assert delivery.deliver_due(second) == {"retrying": 1}
    db.session.refresh(row)
    assert "Connection refused" in row.last_error
    assert timedelta(seconds=60) <= row.next_attempt_at - second <= timedelta(seconds=66)

    assert delivery.deliver_due(row.next_attempt_at) == {"failed": 1}
    db.session.refresh(row)
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 3)
    log = attempts(row.id)
    assert [a.ok for a in log] == [False, False, False]
    assert log[0].error == "HTTP 500"
    assert "Connection refused" in log[2].error
    assert [a.attempted_at for a in log][0] == start
    assert delivery.deliver_due(start + timedelta(days=1)) == {}
    assert len(hook.received) == 1


@pytest.mark.allow_messages
def test_an_acknowledged_alerts_messages_are_not_sent(app, family, inbox):
    start = utcnow()
    alert = fall(family.resident, start)
    services.acknowledge(family.daughter, alert, now=start)
    db.session.commit()
    assert delivery.deliver_due(start) == {}
    [row] = deliveries(alert.id)
    assert row.status == DeliveryStatus.CANCELLED

    # a row left pending by some other path is still not sent for a settled alert
    row.status = DeliveryStatus.PENDING
    db.session.commit()
    assert delivery.deliver_due(start) == {"cancelled": 1}
    assert inbox.count() == 0
    assert attempts(row.id) == []


@pytest.mark.allow_messages
def test_quiet_hours_hold_a_low_alerts_email_until_seven(app, family, inbox):
    late = datetime(2026, 3, 10, 23, 0, tzinfo=LOCAL_TZ).astimezone(UTC)
    low = fall(family.resident, late, Severity.LOW, rule="threshold:steps:low")
    critical = fall(family.resident, late, Severity.CRITICAL)
    [held] = deliveries(low.id)
    seven = datetime(2026, 3, 11, 7, 0, tzinfo=LOCAL_TZ)
    assert held.next_attempt_at == seven

    assert delivery.deliver_due(late) == {"sent": 1}  # the critical one goes at once
    assert len(inbox.to("daughter@example.org")) == 1
    assert deliveries(critical.id)[0].status == DeliveryStatus.SENT
    assert delivery.deliver_due(seven - timedelta(minutes=1)) == {}
    assert delivery.deliver_due(seven) == {"sent": 1}
    assert len(inbox.to("daughter@example.org")) == 2


@pytest.mark.allow_messages
def test_the_ladder_across_a_scheduler_restart(app, client, family, inbox):
    """Every tick is what the scheduler does (escalate, commit, deliver); between ticks
    the session is thrown away, as a restarted process would start with nothing."""
    start = utcnow()
    alert_id = fall(family.resident, start).id
    daughter_id = family.daughter.id
    staff = sorted(f"{m.user.username}@centre.example" for m in family.team.members)

    def tick(minutes: float) -> int:
        before = inbox.count()
        at = start + timedelta(minutes=minutes)
        services.escalate_due(at)
        db.session.commit()
        delivery.deliver_due(at)
        db.session.remove()  # the restart: nothing survives in memory
        return inbox.count() - before

    assert tick(0) == 1
    assert inbox.to("daughter@example.org")
    assert tick(0) == 0
    assert tick(1) == 0
    # the scheduler is down from minute 1 to minute 5: the son's step (due at 2) waited
    assert tick(5) == 1
    assert inbox.to("son@example.org")
    assert tick(5) == 0
    assert tick(6) == 0  # the next step waits its two minutes from when it really ran
    assert tick(7) == len(staff)
    assert sorted(rcpt for rcpts, _ in inbox.messages[2:] for rcpt in rcpts) == staff

    # the daughter finally taps the link from her first e-mail
    [link] = LINK_RE.findall(plain(inbox.to("daughter@example.org")[0]))
    assert client.post(path_of(link, app)).status_code == 200
    assert tick(9) == 0
    assert tick(60) == 0
    assert not inbox.to("oncall@centre.example")
    alert = db.session.get(Alert, alert_id)
    assert (alert.status, alert.acknowledged_by_id) == (AlertStatus.ACKNOWLEDGED, daughter_id)
    per_address = [rcpt for rcpts, _ in inbox.messages for rcpt in rcpts]
    assert len(per_address) == len(set(per_address))  # nobody was told twice


@pytest.mark.allow_messages
def test_a_runner_dying_mid_run_loses_nothing(app, inbox, make_team, make_resident, monkeypatch):
    team = make_team()  # a resident without caregivers: the team (two people) comes first
    for member in team.members:
        member.user.email = f"{member.user.username}@centre.example"
    start = utcnow()
    alert = fall(make_resident(neighbourhood=team.neighbourhoods[0]), start)
    real_send, calls = delivery.send, []

    def dies_on_the_second(outgoing):
        calls.append(outgoing.delivery_id)
        if len(calls) == 2:
            raise RuntimeError("the scheduler process was killed")
        return real_send(outgoing)

    monkeypatch.setattr(delivery, "send", dies_on_the_second)
    with pytest.raises(RuntimeError):
        delivery.deliver_due(start)
    db.session.rollback()  # what run_job does with a failed job
    monkeypatch.setattr(delivery, "send", real_send)

    first, second = (db.session.get(AlertDelivery, i) for i in calls)
    assert first.status == DeliveryStatus.SENT  # already out: kept, never sent again
    assert (second.status, second.attempts) == (DeliveryStatus.PENDING, 1)
    assert second.next_attempt_at == start + delivery.CLAIM_LEASE  # its claim holds a while
    assert delivery.deliver_due(start + timedelta(minutes=1)) == {}
    assert delivery.deliver_due(start + delivery.CLAIM_LEASE) == {"sent": 1}
    addresses = sorted(rcpt for rcpts, _ in inbox.messages for rcpt in rcpts)
    assert addresses == sorted(f"{m.user.username}@centre.example" for m in team.members)
    assert len(deliveries(alert.id)) == 2


def test_the_plain_text_emails_words_are_all_in_the_translated_html():
    """Only .html templates are extracted for translation (babel.cfg): a sentence found in
    email.txt alone would reach every reader untranslated."""
    folder = Path(delivery.__file__).parent / "templates" / "alerts"
    msgid = re.compile(r'_\("((?:[^"\\]|\\.)*)"')
    text = set(msgid.findall((folder / "email.txt").read_text(encoding="utf-8")))
    html = set(msgid.findall((folder / "email.html").read_text(encoding="utf-8")))
    assert len(text) >= 8
    assert text <= html
