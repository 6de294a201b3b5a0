"""A worn device that has sent nothing for the resident's N hours raises "device silent",
not in the resident's quiet hours, and the alert ends when the device reports again."""

from datetime import timedelta

import pytest

from app import scheduler
from app.alerts.models import AlertStatus, Severity
from app.extensions import db
from app.timeutil import to_local, utcnow
from tests.alerts.test_rules_support import (
    active_alerts,
    push,
    reading,
    register_device,
    world_fixture,  # noqa: F401  (the "world" fixture)
)
from wearables.models import Device
from wearables.rules.silence import check_silent_devices


def _last_seen(device: dict, hours_ago: float) -> Device:
    """As if the device had last reported `hours_ago` hours ago."""
    row = db.session.get(Device, device["id"])
    row.last_seen_at = utcnow() - timedelta(hours=hours_ago)
    db.session.commit()
    return row


def _quiet_hours(client, world, start_hours: float, length_hours: float = 2, **extra):
    """Quiet hours starting `start_hours` from now (local time), via the doctor's API."""
    start = to_local(utcnow() + timedelta(hours=start_hours))
    end = start + timedelta(hours=length_hours)
    body = {
        "quiet_from": start.strftime("%H:%M"),
        "quiet_until": end.strftime("%H:%M"),
        "reason": "夜间充电",
    } | extra
    response = client.put(
        f"/api/v1/residents/{world['resident'].id}/monitoring", json=body, headers=world["doctor"]
    )
    assert response.status_code == 200, response.get_json()


def _next_local(hour: int):
    """The next time it is `hour` o'clock in Shanghai."""
    now = to_local(utcnow())
    moment = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return moment if moment > now else moment + timedelta(days=1)


@pytest.fixture
def seen(client, world):
    push(client, world["device"], [reading("heart_rate", 70, 1)])
    return world["device"]


def test_silent_after_the_default_12_hours_and_resolved_when_it_reports(client, world, seen):
    _quiet_hours(client, world, start_hours=3)  # not now
    _last_seen(seen, 11)
    assert check_silent_devices() == 0
    _last_seen(seen, 13)
    assert check_silent_devices() == 1
    alert = active_alerts(world["resident"])[f"device_silent:{seen['id']}"]
    assert (alert.severity, alert.params["hours"]) == (Severity.MEDIUM, "13")
    assert check_silent_devices() == 0  # one alert per silence
    assert alert.evidence_count == 1

    push(client, seen, [reading("heart_rate", 71, 0)])
    db.session.refresh(alert)
    assert alert.status == AlertStatus.RESOLVED
    assert alert.resolution_note == "the device reported again"
    assert alert.resolved_by_id is None


def test_quiet_hours_hold_it_until_they_end(client, world, seen):
    _quiet_hours(client, world, start_hours=-1)  # from an hour ago for two hours
    _last_seen(seen, 13)
    assert check_silent_devices() == 0
    later = utcnow() + timedelta(hours=1, minutes=5)  # just after the quiet hours
    assert check_silent_devices(later) == 1


def test_the_silence_is_per_resident_and_never_for_cuffs(client, world, seen, make_resident):
    _quiet_hours(client, world, start_hours=3, silent_after_hours=2)
    cuff = register_device(
        client, world["doctor"], world["resident"], "BP-RULES-1", "blood_pressure_monitor"
    )
    push(
        client,
        cuff,
        [
            {
                "metric": "blood_pressure",
                "systolic": 120,
                "diastolic": 80,
                "unit": "mmHg",
                "measured_at": utcnow().isoformat(),
            }
        ],
    )
    _last_seen(seen, 3)
    _last_seen(cuff, 300)
    job = next(j for j in scheduler.all_jobs() if j.id == "wearables.check_silent_devices")
    assert job.func() == 1
    assert set(active_alerts(world["resident"])) == {f"device_silent:{seen['id']}"}

    never = client.put(
        f"/api/v1/residents/{world['resident'].id}/monitoring",
        json={"silent_after_hours": None, "reason": "住院期间不佩戴"},
        headers=world["doctor"],
    )
    assert never.json["silent_after_hours"] is None
    other = make_resident(neighbourhood=world["team"].neighbourhoods[0])
    watch = register_device(client, world["doctor"], other, "W-RULES-9")
    push(client, watch, [reading("heart_rate", 70, 1)])
    _last_seen(watch, 30)
    # no profile: the defaults, 12 hours and quiet from 22:00 to 07:00 local
    assert check_silent_devices(_next_local(23)) == 0
    assert check_silent_devices(_next_local(10)) == 1


def test_an_unbound_device_ends_its_silence_alert(client, world, seen):
    _quiet_hours(client, world, start_hours=3)
    _last_seen(seen, 13)
    check_silent_devices()
    alert = active_alerts(world["resident"])[f"device_silent:{seen['id']}"]
    response = client.post(f"/api/v1/devices/{seen['id']}/unbind", headers=world["doctor"])
    assert response.status_code == 200
    check_silent_devices()
    db.session.refresh(alert)
    assert alert.status == AlertStatus.RESOLVED


def test_profile_input_is_checked(client, world):
    url = f"/api/v1/residents/{world['resident'].id}/monitoring"

    def field(body):
        response = client.put(url, json=body, headers=world["doctor"])
        assert response.status_code == 422, response.get_json()
        return list(response.get_json()["errors"]["json"])

    assert field({"hypercapnic": True}) == ["reason"]
    assert field({"silent_after_hours": 0, "reason": "x"}) == ["silent_after_hours"]
    assert field({"quiet_from": "25:00", "reason": "x"}) == ["quiet_from"]
    assert field({"reason": "x"}) == ["hypercapnic"]
    shown = client.get(url, headers=world["nurse"]).get_json()
    assert (shown["silent_after_hours"], shown["quiet_from"], shown["consciousness"]) == (
        12,
        "22:00:00",
        "A",
    )
