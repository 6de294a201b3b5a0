"""Two runners of the outbox at once (two scheduler processes by mistake, or a runner and a
catch-up run): each message goes out exactly once, on SQLite and on PostgreSQL."""

import threading
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask_migrate import upgrade

from app import create_app, crypto
from app.accounts.models import Organisation, OrganisationKind
from app.alerts import delivery
from app.alerts.models import (
    Alert,
    AlertDelivery,
    Channel,
    DeliveryAttempt,
    DeliveryStatus,
    Severity,
)
from app.extensions import db
from app.residents.models import Resident, Sex
from app.timeutil import utcnow
from tests.factories import national_id_for
from tests.smtp import Inbox, free_port


def _outbox(count: int) -> list[int]:
    area = Organisation(code="N1", name="居委会", kind=OrganisationKind.NEIGHBOURHOOD_COMMITTEE)
    born = datetime(1948, 2, 3).date()
    number = national_id_for(born, Sex.FEMALE)
    resident = Resident(
        name="李梅",
        sex=Sex.FEMALE,
        birth_date=born,
        address="路",
        neighbourhood=area,
        national_id_ciphertext=crypto.encrypt(number),
        national_id_digest=crypto.digest(number),
    )
    alert = Alert(resident=resident, rule="event:sos", severity=Severity.CRITICAL, message="Fall")
    db.session.add_all([area, resident, alert])
    db.session.flush()
    rows = [
        AlertDelivery(
            alert_id=alert.id,
            step=1,
            channel=Channel.EMAIL,
            recipient_key=f"test:{n}",
            address=f"r{n}@example.org",
            next_attempt_at=utcnow() - timedelta(seconds=1),
        )
        for n in range(count)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


@pytest.mark.own_app
@pytest.mark.allow_messages
def test_two_runners_at_once_send_each_message_once(fresh_database):
    handler = Inbox()
    handler.delay = 0.05  # both runners are mid-send at the same time
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=fresh_database,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=controller.port,
    )
    try:
        with app.app_context():
            upgrade()
            ids = _outbox(12)
        barrier, results = threading.Barrier(2, timeout=10), []

        def runner():
            with app.app_context():
                barrier.wait()
                results.append(delivery.deliver_due())

        threads = [threading.Thread(target=runner) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        addresses = sorted(rcpt for rcpts, _ in handler.messages for rcpt in rcpts)
        assert addresses == sorted(f"r{n}@example.org" for n in range(12))
        assert sum(result.get("sent", 0) for result in results) == 12
        assert all(result.get("sent") for result in results)  # both really ran at once
        with app.app_context():
            rows = db.session.scalars(sa.select(AlertDelivery).where(AlertDelivery.id.in_(ids)))
            assert {(row.status, row.attempts) for row in rows} == {(DeliveryStatus.SENT, 1)}
            tries = db.session.scalar(sa.select(sa.func.count(DeliveryAttempt.id)))
            assert tries == 12
            db.session.remove()
            db.engine.dispose()
    finally:
        controller.stop()
