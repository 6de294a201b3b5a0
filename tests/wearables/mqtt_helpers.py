"""Helpers for the MQTT tests: a database of their own with devices, a publisher that
behaves (bounded in flight), a private Mosquitto with the settings docs/WEARABLES.md gives."""

import json
import shutil
import socket
import subprocess
import time
import uuid
from datetime import timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.accounts.models import (
    Organisation,
    OrganisationKind,
    Role,
    Team,
    TeamMember,
    TeamMemberRole,
    User,
)
from app.extensions import db
from app.timeutil import utcnow
from wearables import devices
from wearables.models import DeadLetter, Reading

BROKER_HOST, BROKER_PORT = "127.0.0.1", 1883
MOSQUITTO = "/usr/sbin/mosquitto"
# The broker settings the bridge needs (docs/WEARABLES.md, "Broker settings").
BRIDGE_BROKER_SETTINGS = """
max_queued_messages 1000000
max_queued_bytes 0
max_inflight_messages 1000
"""


def require_broker(host: str = BROKER_HOST, port: int = BROKER_PORT) -> None:
    """The tests talk to a real Mosquitto: without one they fail, never skip."""
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        pytest.fail(f"Mosquitto at {host}:{port} is unreachable ({exc}); start it first")


def bridge_app(database_url: str, port: int = BROKER_PORT, **overrides):
    tag = uuid.uuid4().hex[:10]
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MQTT_URL": f"mqtt://{BROKER_HOST}:{port}",
        # Each test has its own topics and session, so tests never see each other's messages.
        "MQTT_TOPIC_PREFIX": f"kangyang-test/{tag}",
        "MQTT_CLIENT_ID": f"kangyang-test-{tag}",
        "MQTT_SESSION_EXPIRY_SECONDS": 300,
    }
    app = create_app("testing", **(settings | overrides))
    with app.app_context():
        upgrade()
    return app


def add_devices(app, count: int) -> list[tuple[str, str]]:
    """`count` watches bound to residents of one team: [(serial, token)]."""
    from app import crypto
    from app.residents.models import Resident, Sex
    from tests.factories import national_id_for

    with app.app_context():
        centre = Organisation(code="C", name="中心", kind=OrganisationKind.COMMUNITY_CENTRE)
        area = Organisation(code="N", name="居委会", kind=OrganisationKind.NEIGHBOURHOOD_COMMITTEE)
        team = Team(name="团队", centre=centre, neighbourhoods=[area])
        lead = User(username="lead", display_name="医生", password_hash="x", role=Role.DOCTOR)
        team.members.append(TeamMember(user=lead, member_role=TeamMemberRole.LEAD))
        db.session.add_all([centre, area, team, lead])
        result = []
        for i in range(count):
            birth = utcnow().date().replace(year=1940 + i % 30, month=1, day=1 + i % 28)
            number = national_id_for(birth, Sex.FEMALE, seq=i + 1)
            resident = Resident(
                name=f"居民{i}",
                sex=Sex.FEMALE,
                birth_date=birth,
                address="路",
                neighbourhood=area,
                national_id_ciphertext=crypto.encrypt(number),
                national_id_digest=crypto.digest(number),
            )
            db.session.add(resident)
            db.session.flush()
            serial = f"MQ-{i:03d}"
            _, token = devices.register(
                lead, {"serial": serial, "kind": "watch", "resident_id": resident.id}
            )
            result.append((serial, token))
        db.session.commit()
    return result


# One fixed clock for the messages of a run: `seconds_ago` alone decides a reading's time.
BASE_TIME = utcnow().replace(microsecond=0) - timedelta(minutes=1)


def message(prefix: str, serial: str, token: str, seconds_ago: int, value: float = 70):
    """One heart-rate reading; `seconds_ago` makes it unique for its device."""
    when = BASE_TIME - timedelta(seconds=seconds_ago)
    body = {
        "token": token,
        "readings": [
            {
                "metric": "heart_rate",
                "value": value,
                "unit": "/min",
                "measured_at": when.isoformat(),
            }
        ],
    }
    return f"{prefix}/devices/{serial}/readings", json.dumps(body).encode()


def publish(items, port: int = BROKER_PORT, in_flight: int = 100, timeout: float = 120) -> None:
    """Publish with QoS 1 the way a well-behaved device does: a bounded number in flight
    (unbounded, paho stalls), and wait until the broker has every one."""
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"device-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTv5,
    )
    client.max_inflight_messages_set(in_flight)
    client.connect(BROKER_HOST, port)
    client.loop_start()
    try:
        infos = [client.publish(topic, payload, qos=1) for topic, payload in items]
        deadline = time.monotonic() + timeout
        for info in infos:
            info.wait_for_publish(max(0.1, deadline - time.monotonic()))
            assert info.is_published(), "the broker did not take every message in time"
    finally:
        client.disconnect()
        client.loop_stop()


def count(app, model=Reading) -> int:
    with app.app_context():
        try:
            return db.session.scalar(sa.select(sa.func.count()).select_from(model))
        finally:
            db.session.remove()


def dead_letter_count(app) -> int:
    return count(app, DeadLetter)


def wait_for(condition, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((BROKER_HOST, 0))
        return sock.getsockname()[1]


def start_private_broker(folder: Path) -> tuple[subprocess.Popen, int]:
    """A Mosquitto of the test's own, configured as docs/WEARABLES.md says the bridge needs
    (the shared broker on 1883 keeps Mosquitto's default queue of 1000 per subscriber)."""
    if not shutil.which(MOSQUITTO) and not Path(MOSQUITTO).exists():
        pytest.fail(f"{MOSQUITTO} not found (Debian package mosquitto)")
    port = free_port()
    config = folder / "mosquitto.conf"
    config.write_text(
        f"listener {port} {BROKER_HOST}\nallow_anonymous true\npersistence false\n"
        + BRIDGE_BROKER_SETTINGS
    )
    process = subprocess.Popen(
        [MOSQUITTO, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    if not wait_for(lambda: _accepts(port), timeout=10):
        process.kill()
        pytest.fail(f"the private Mosquitto did not start: {process.stderr.read()!r}")
    return process, port


def _accepts(port: int) -> bool:
    try:
        socket.create_connection((BROKER_HOST, port), timeout=0.5).close()
        return True
    except OSError:
        return False
