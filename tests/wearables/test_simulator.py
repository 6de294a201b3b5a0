"""`flask simulate-wearables` against a live platform (HTTP) and the real Mosquitto (MQTT):
what a demo relies on is that the readings arrive, look like people, and that the
deteriorating resident visibly worsens while the others do not."""

import json
import re
import threading
import time
import uuid
from datetime import timedelta

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from werkzeug.serving import make_server

from app import create_app, demo
from app.extensions import db
from app.residents.models import ChronicCondition, Resident
from app.timeutil import utcnow
from tests.wearables.mqtt_helpers import require_broker, wait_for
from wearables import devices
from wearables.formats import native
from wearables.models import Device, Reading

pytestmark = pytest.mark.own_app

PLAUSIBLE = {
    "heart_rate": (40, 140),
    "spo2": (85, 100),
    "respiratory_rate": (8, 32),
    "body_temperature": (35.5, 39.5),
    "systolic_bp": (85, 200),
    "diastolic_bp": (45, 125),
    "blood_glucose": (3, 18),
    "steps": (0, 20_000),
}


def demo_app(database_url: str, **settings):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, **settings)
    with app.app_context():
        upgrade()
        demo.seed()
        db.session.commit()
    return app


@pytest.fixture
def platform(fresh_database):
    """The platform with the demo data, served on a free port, as `make run` serves it."""
    app = demo_app(fresh_database)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


def simulate(app, *args):
    result = app.test_cli_runner().invoke(args=["simulate-wearables", *args])
    assert result.exit_code == 0, result.output
    return result.output


def values(resident_id: int, metric: str) -> list[float]:
    query = (
        sa.select(Reading.value)
        .where(Reading.resident_id == resident_id, Reading.metric == metric)
        .order_by(Reading.measured_at)
    )
    return list(db.session.scalars(query))


def test_http_readings_arrive_and_the_deteriorating_resident_worsens(platform):
    app, url = platform
    before = utcnow()
    output = simulate(app, "--url", url, "--residents", "9", "--minutes", "0.05",
                      "--rate", "120", "--seed", "7")  # fmt: skip
    assert "(ids 1-9; 2 simulated residents added)" in output
    assert "errors 0" in output.splitlines()[-1]
    sick = int(re.search(r"Deteriorating: residents (\d+)\.", output).group(1))
    with app.app_context():
        ids = list(db.session.scalars(sa.select(Resident.id).order_by(Resident.id)))
        assert ids == list(range(1, 10))
        everyone = db.session.scalars(sa.select(Resident))
        diabetic = {r.id for r in everyone if ChronicCondition.TYPE2_DIABETES in r.conditions}
        have = {metric: set() for metric in PLAUSIBLE}
        for resident_id in ids:
            for metric, (low, high) in PLAUSIBLE.items():
                got = values(resident_id, metric)
                assert all(low <= v <= high for v in got), (resident_id, metric, got)
                have[metric] |= {resident_id} if got else set()
            heart = values(resident_id, "heart_rate")
            if resident_id != sick:  # the others stay near their own resting rate
                assert max(heart) - min(heart) < 25, (resident_id, heart)
        # The watch measures every half second: everyone. The others measure once in so
        # short a run, and a sensor drops a measurement now and then (3 %): nearly everyone.
        for metric in ("heart_rate", "respiratory_rate", "spo2"):
            assert have[metric] == set(ids), metric
        for metric in ("body_temperature", "steps", "systolic_bp", "diastolic_bp"):
            assert len(have[metric]) >= 6, (metric, have[metric])
        assert have["blood_glucose"], "no glucometer measured"
        assert have["blood_glucose"] <= diabetic  # only diabetics have a glucometer
        heart, spo2 = values(sick, "heart_rate"), values(sick, "spo2")
        assert heart[-1] >= heart[0] + 15, heart
        assert spo2[-1] <= spo2[0] - 3, spo2
        events = db.session.execute(
            sa.select(Reading.resident_id, Reading.metric).where(Reading.value.is_(None))
        ).all()
        assert [e.resident_id for e in events] == [sick]  # one fall or SOS, the sick one's
        first_devices = {
            d.serial: (d.id, d.token_issued_at) for d in db.session.scalars(sa.select(Device))
        }
        assert len(first_devices) == 9 * 2 + len(diabetic)
        # measured now (a first round reaches back one interval: 15 minutes for glucose)
        oldest = db.session.scalar(sa.select(sa.func.min(Reading.measured_at)))
        assert oldest > before - timedelta(minutes=16)

    second = simulate(
        app, "--url", url, "--residents", "9", "--minutes", "0.01", "--backfill", "0.05"
    )
    assert f"0 registered, {len(first_devices)} reused with a fresh token" in second
    assert "0 simulated residents added" in second
    assert "errors 0" in second.splitlines()[-1]  # the fresh tokens work
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Resident)) == 9
        now_devices = {
            d.serial: (d.id, d.token_issued_at) for d in db.session.scalars(sa.select(Device))
        }
        assert now_devices.keys() == first_devices.keys()
        for serial, (device_id, issued) in now_devices.items():
            assert device_id == first_devices[serial][0]
            assert issued > first_devices[serial][1], serial  # a fresh token each run
        # the backfill reached three minutes back, before the first run's first reading
        history = sa.select(sa.func.count()).where(
            Reading.metric == "heart_rate", Reading.measured_at < before - timedelta(seconds=90)
        )
        assert db.session.scalar(history) >= 9


def test_a_platform_that_refuses_every_token_stops_the_run_with_an_error(platform, tmp_path):
    app, url = platform
    elsewhere = demo_app(f"sqlite:///{tmp_path / 'elsewhere.db'}")  # set up in another database
    started = time.monotonic()
    result = elsewhere.test_cli_runner().invoke(
        args=["simulate-wearables", "--url", url, "--residents", "2", "--minutes", "1"]
    )
    assert result.exit_code == 1
    assert time.monotonic() - started < 20  # at once, not after the minute asked for
    assert "device tokens refused (401)" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Reading)) == 0


def test_mqtt_messages_carry_the_token_and_readings_the_platform_reads(fresh_database):
    require_broker()
    prefix = f"kangyang-test/{uuid.uuid4().hex[:10]}"
    app = demo_app(fresh_database, MQTT_TOPIC_PREFIX=prefix)
    received, subscribed = [], threading.Event()
    listener = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"listen-{prefix[-10:]}")
    listener.on_subscribe = lambda *a: subscribed.set()
    listener.on_message = lambda client, userdata, msg: received.append((msg.topic, msg.payload))
    listener.connect("127.0.0.1", 1883)
    listener.loop_start()
    try:
        listener.subscribe(f"{prefix}/devices/+/readings", qos=1)
        assert subscribed.wait(5)
        output = simulate(app, "--mqtt", "mqtt://127.0.0.1:1883", "--residents", "3",
                          "--minutes", "0.03", "--rate", "60")  # fmt: skip
        done = re.search(r"Done\. sent (\d+) readings in (\d+) messages", output)
        sent, messages = int(done.group(1)), int(done.group(2))
        assert f"delivered to the broker {sent}, errors 0" in output
        assert wait_for(lambda: len(received) >= messages, timeout=10), (len(received), messages)
    finally:
        listener.disconnect()
        listener.loop_stop()
    rows = 0
    with app.app_context():
        for topic, payload in received:
            body = json.loads(payload)
            serial = re.fullmatch(rf"{prefix}/devices/([^/]+)/readings", topic).group(1)
            device = devices.authenticate(body.pop("token"))
            assert device is not None
            assert device.serial == serial  # the token is the device's
            candidates, rejections = native.parse(body)
            assert candidates, body
            assert rejections == [], body
            assert 0 <= native.battery(body) <= 100
            for candidate in candidates:
                assert utcnow() - timedelta(minutes=16) < candidate.measured_at <= utcnow()
            rows += len(candidates)
    assert rows == sent
