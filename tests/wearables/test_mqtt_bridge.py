"""The MQTT bridge against a real Mosquitto: readings stored, dead letters kept, a database
outage and a killed bridge lose nothing and double nothing, and a burst of 50,000 messages
from several devices is stored exactly once."""

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from tests.wearables.mqtt_helpers import (
    add_devices,
    bridge_app,
    count,
    dead_letter_count,
    message,
    publish,
    require_broker,
    start_private_broker,
    wait_for,
)
from wearables.models import DeadLetter, DeadLetterReason, Device, Reading
from wearables.mqtt_bridge import Bridge

pytestmark = pytest.mark.own_app
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app(fresh_database):
    require_broker()
    app = bridge_app(fresh_database)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def bridge(app):
    running = Bridge(app).start()
    yield running
    running.stop()


@pytest.fixture
def private_broker(tmp_path):
    """A Mosquitto with the settings the bridge needs. The shared one on 1883 has the
    default queue of 1000 messages per subscriber, and drops the rest while a bridge is
    away or behind: what these tests would otherwise measure."""
    process, port = start_private_broker(tmp_path)
    yield port
    process.terminate()
    process.wait(10)


@pytest.fixture
def app_on_private_broker(fresh_database, private_broker):
    app = bridge_app(fresh_database, port=private_broker)
    yield app
    with app.app_context():
        db.engine.dispose()


def prefix(app) -> str:
    return app.config["MQTT_TOPIC_PREFIX"]


def test_published_readings_are_stored_and_garbage_is_a_dead_letter(app, bridge):
    (serial_a, token_a), (serial_b, token_b) = add_devices(app, 2)
    items = [message(prefix(app), serial_a, token_a, s) for s in range(20)]
    items += [message(prefix(app), serial_b, token_b, s, value=90) for s in range(20)]
    items.append((f"{prefix(app)}/devices/{serial_a}/readings", b"not json"))
    publish(items)

    assert bridge.wait_idle(timeout=20), bridge.stats
    assert count(app) == 40
    with app.app_context():
        by_device = dict(
            db.session.execute(
                sa.select(Device.serial, sa.func.avg(Reading.value))
                .join(Reading, Reading.device_id == Device.id)
                .group_by(Device.serial)
            ).all()
        )
        assert by_device == {serial_a: 70, serial_b: 90}
        letter = db.session.scalar(sa.select(DeadLetter))
        assert letter.reason == DeadLetterReason.NOT_JSON
        assert letter.payload == "not json"
    assert bridge.stats.committed == 41


def _sqlite_outage(url: str, seconds: float):
    """Another connection holds SQLite's write lock past the bridge's busy timeout."""
    path = url.removeprefix("sqlite:///")
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("BEGIN EXCLUSIVE")
    timer = threading.Timer(seconds, lambda: (connection.rollback(), connection.close()))
    timer.start()
    return timer


def _postgres_outage(url: str, seconds: float):
    """The database stops taking connections and drops the ones it has, for a while."""
    database = sa.engine.make_url(url).database
    admin = sa.create_engine(
        sa.engine.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false'))
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": database},
        )

    def restore():
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'))
        admin.dispose()

    timer = threading.Timer(seconds, restore)
    timer.start()
    return timer


def outage(app, seconds: float):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    return (_sqlite_outage if url.startswith("sqlite") else _postgres_outage)(url, seconds)


def test_a_database_outage_loses_nothing_and_doubles_nothing(app, bridge):
    devices = add_devices(app, 3)
    first = [message(prefix(app), s, t, n) for s, t in devices for n in range(50)]
    publish(first)
    assert bridge.wait_idle(timeout=20)

    timer = outage(app, seconds=7)  # longer than SQLite's 5 s busy timeout
    during = [message(prefix(app), s, t, n) for s, t in devices for n in range(50, 250)]
    publish(during)
    timer.join()
    # the same readings again, as a device retrying after no answer would send them
    publish(during[:100])

    assert bridge.wait_idle(timeout=60), bridge.stats
    assert bridge.stats.retries >= 1, "the outage never reached the bridge"
    assert count(app) == 3 * 250
    assert dead_letter_count(app) == 0
    assert bridge.stats.duplicate == 100


def test_messages_received_but_not_committed_come_back_to_the_next_bridge(app):
    devices = add_devices(app, 1)
    (serial, token) = devices[0]
    first = Bridge(app).start()
    timer = outage(app, seconds=7)  # the first bridge cannot commit before it stops
    publish([message(prefix(app), serial, token, n) for n in range(30)])
    assert wait_for(lambda: first.stats.received == 30, timeout=10)
    first.stop(drain=False)  # as if killed: nothing it held was acknowledged
    timer.join()
    assert count(app) == 0

    second = Bridge(app).start()
    try:
        assert second.wait_idle(timeout=30)
        assert wait_for(lambda: count(app) == 30, 10)
    finally:
        second.stop()
    assert count(app) == 30


def _cli_bridge(app) -> subprocess.Popen:
    env = os.environ | {
        "KANGYANG_CONFIG": "development",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "MQTT_URL": app.config["MQTT_URL"],
        "MQTT_TOPIC_PREFIX": prefix(app),
        "MQTT_CLIENT_ID": app.config["MQTT_CLIENT_ID"],
        "MQTT_SESSION_EXPIRY_SECONDS": "300",
        "MQTT_BATCH_SIZE": "50",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "mqtt-bridge", "--report-every", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    line = process.stdout.readline()
    while line and "subscribed" not in line:
        line = process.stdout.readline()
    assert "subscribed" in line, "flask mqtt-bridge did not start"
    return process


def test_the_bridge_command_killed_mid_stream_loses_nothing(app_on_private_broker):
    app = app_on_private_broker
    port = int(app.config["MQTT_URL"].rsplit(":", 1)[1])
    devices = add_devices(app, 4)
    items = [message(prefix(app), s, t, n) for s, t in devices for n in range(1000)]
    process = _cli_bridge(app)
    sender = threading.Thread(target=publish, args=(items, port))
    sender.start()
    assert wait_for(lambda: count(app) > 200, timeout=30)
    process.send_signal(signal.SIGKILL)
    process.wait()
    sender.join()

    process = _cli_bridge(app)
    try:
        assert wait_for(lambda: count(app) >= 4000, timeout=60), count(app)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert count(app) == 4000
    assert dead_letter_count(app) == 0


def test_a_burst_of_50000_messages_is_stored_exactly_once(app_on_private_broker):
    app = app_on_private_broker
    port = int(app.config["MQTT_URL"].rsplit(":", 1)[1])
    devices = add_devices(app, 10)
    bridge = Bridge(app).start()
    per_device = 5000
    senders = [
        threading.Thread(
            target=publish,
            args=([message(prefix(app), s, t, n) for n in range(per_device)], port),
        )
        for s, t in devices
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    assert bridge.wait_idle(timeout=240), bridge.stats
    bridge.stop()
    assert bridge.stats.received >= 50_000
    assert count(app) == 50_000
    with app.app_context():
        distinct = db.session.scalar(
            sa.select(sa.func.count()).select_from(
                sa.select(Reading.device_id, Reading.measured_at).distinct().subquery()
            )
        )
        db.session.remove()
    assert distinct == 50_000
    assert dead_letter_count(app) == 0
