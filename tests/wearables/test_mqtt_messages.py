"""One MQTT message through wearables.messages: what is stored, what becomes a dead letter
and why, and that a device token never reaches the dead-letter table."""

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.timeutil import utcnow
from wearables import devices, messages
from wearables.models import DeadLetter, DeadLetterReason, Device, Reading, ReadingSource

PREFIX = "kangyang/v1"


@pytest.fixture
def watch(make_team, make_resident):
    team = make_team()
    resident = make_resident(neighbourhood=team.neighbourhoods[0])
    device, token = devices.register(
        team.lead, {"serial": "MQ-1", "kind": "watch", "resident_id": resident.id}
    )
    return device, token


def topic(serial="MQ-1") -> str:
    return f"{PREFIX}/devices/{serial}/readings"


def payload(token, readings, **extra) -> bytes:
    return json.dumps({"token": token, "readings": readings, **extra}).encode()


def heart_rate(value=72, minutes_ago=1.0) -> dict:
    when = (utcnow() - timedelta(minutes=minutes_ago)).isoformat()
    return {"metric": "heart_rate", "value": value, "unit": "/min", "measured_at": when}


def dead_letters() -> list[DeadLetter]:
    return list(db.session.scalars(sa.select(DeadLetter).order_by(DeadLetter.id)))


def test_a_message_is_stored_as_mqtt_readings_with_the_battery_level(watch):
    device, token = watch
    outcome = messages.handle(
        topic(), payload(token, [heart_rate(70), heart_rate(75, 2)], battery=41)
    )
    assert (outcome.accepted, outcome.duplicate, outcome.dead_letter) == (2, 0, False)
    stored = db.session.scalars(sa.select(Reading).order_by(Reading.measured_at)).all()
    assert [r.value for r in stored] == [75, 70]
    assert {r.source for r in stored} == {ReadingSource.MQTT}
    assert db.session.get(Device, device.id).battery_level == 41
    assert dead_letters() == []


def test_the_same_message_again_is_a_duplicate(watch):
    _, token = watch
    body = payload(token, [heart_rate()])
    messages.handle(topic(), body)
    again = messages.handle(topic(), body)
    assert (again.accepted, again.duplicate) == (0, 1)
    assert db.session.scalar(sa.select(sa.func.count(Reading.id))) == 1


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe not json", DeadLetterReason.NOT_JSON),
        (b"{unterminated", DeadLetterReason.NOT_JSON),
        (b"[1, 2]", DeadLetterReason.MALFORMED),
        (json.dumps({"readings": []}).encode(), DeadLetterReason.UNKNOWN_TOKEN),
        (
            json.dumps({"token": "dev_nottherealtoken", "readings": []}).encode(),
            DeadLetterReason.UNKNOWN_TOKEN,
        ),
    ],
)
def test_unreadable_or_unauthenticated_messages_are_dead_letters(watch, raw, reason):
    outcome = messages.handle(topic(), raw)
    assert outcome.dead_letter
    [letter] = dead_letters()
    assert letter.reason == reason
    assert letter.topic == topic()
    assert "dev_nottherealtoken" not in letter.payload
    assert db.session.scalar(sa.select(sa.func.count(Reading.id))) == 0


def test_a_token_published_on_another_devices_topic_is_refused(watch):
    _, token = watch
    messages.handle(topic("SOMEONE-ELSE"), payload(token, [heart_rate()]))
    [letter] = dead_letters()
    assert letter.reason == DeadLetterReason.WRONG_TOPIC
    assert token not in letter.payload
    assert db.session.scalar(sa.select(sa.func.count(Reading.id))) == 0


def test_a_lost_devices_token_is_refused(watch):
    device, token = watch
    devices.mark_lost(_admin(), device)
    messages.handle(topic(), payload(token, [heart_rate()]))
    assert dead_letters()[0].reason == DeadLetterReason.UNKNOWN_TOKEN


def _admin():
    from app.accounts.models import Role, User

    admin = User(username="mq-admin", display_name="管理员", password_hash="x", role=Role.ADMIN)
    db.session.add(admin)
    db.session.flush()
    return admin


def test_a_malformed_body_is_kept_with_the_parsers_reason_and_without_the_token(watch):
    device, token = watch
    messages.handle(topic(), json.dumps({"token": token, "readings": "no"}).encode())
    [letter] = dead_letters()
    assert letter.reason == DeadLetterReason.MALFORMED
    assert letter.detail == 'the body must be {"readings": [...]}'
    assert letter.device_id == device.id
    assert token not in letter.payload
    assert '"readings": "no"' in letter.payload


def test_refused_readings_are_kept_as_a_dead_letter_and_the_good_ones_stored(watch):
    _, token = watch
    bad = {
        "metric": "heart_rate",
        "value": 900,
        "unit": "/min",
        "measured_at": utcnow().isoformat(),
    }
    outcome = messages.handle(topic(), payload(token, [heart_rate(), bad]))
    assert (outcome.accepted, outcome.dead_letter) == (1, True)
    [letter] = dead_letters()
    assert letter.reason == DeadLetterReason.REJECTED_READINGS
    assert json.loads(letter.detail) == [
        {"index": 1, "reason": "value outside the physiologically possible range"}
    ]


def test_a_fhir_observation_can_come_over_mqtt(watch):
    _, token = watch
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "effectiveDateTime": (utcnow() - timedelta(minutes=3)).isoformat(),
        "valueQuantity": {
            "value": 64,
            "unit": "/min",
            "system": "http://unitsofmeasure.org",
            "code": "/min",
        },
        "token": token,
    }
    outcome = messages.handle(topic(), json.dumps(observation).encode())
    assert outcome.accepted == 1, dead_letters() and dead_letters()[0].detail
    assert db.session.scalar(sa.select(Reading.value)) == 64


@pytest.mark.parametrize(
    ("given", "serial"),
    [
        ("kangyang/v1/devices/W-9/readings", "W-9"),
        ("a/b/devices/W-9/readings", "W-9"),
        ("kangyang/v1/devices/W-9/other", None),
        ("readings", None),
    ],
)
def test_the_serial_is_read_from_the_topic(given, serial):
    assert messages.serial_in(given) == serial


def test_garbage_with_nul_bytes_is_kept_on_every_database(watch):
    outcome = messages.handle(topic(), b"\x00\x01\x02 broken firmware \x00")
    assert outcome.dead_letter
    [letter] = dead_letters()
    assert letter.reason == DeadLetterReason.NOT_JSON
    assert "broken firmware" in letter.payload
    assert "\x00" not in letter.payload
