"""Devices and the HTTP ingest contract (native JSON): every rejection reason, duplicates,
retries, whole-request errors."""

from datetime import timedelta

import pytest

from app.audit.models import Event
from app.extensions import db
from app.timeutil import utcnow
from wearables.models import Reading


@pytest.fixture
def device(client, make_team, make_resident, api_token):
    team = make_team()
    resident = make_resident(neighbourhood=team.neighbourhoods[0])
    headers = api_token(team.lead)
    response = client.post(
        "/api/v1/devices",
        json={"serial": "W-0001", "kind": "watch", "resident_id": resident.id, "vendor": "华为"},
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    return {
        "id": body["id"],
        "token": body["token"],
        "resident": resident,
        "staff": headers,
        "auth": {"Authorization": f"Bearer {body['token']}"},
    }


def at(minutes_ago: float = 0) -> str:
    return (utcnow() - timedelta(minutes=minutes_ago)).isoformat()


def push(client, device, readings, **kwargs):
    return client.post(
        "/api/v1/ingest", json={"readings": readings}, headers=device["auth"], **kwargs
    )


def test_the_token_is_shown_once_and_stored_hashed(client, device):
    from wearables.models import Device

    stored = db.session.get(Device, device["id"])
    assert device["token"] not in stored.token_digest
    listed = client.get(
        f"/api/v1/devices?resident_id={device['resident'].id}", headers=device["staff"]
    ).get_json()
    assert "token" not in listed[0]


def test_readings_are_stored_in_canonical_units_with_the_original(client, device):
    response = push(
        client,
        device,
        [
            {"metric": "heart_rate", "value": 72, "unit": "/min", "measured_at": at(10)},
            {"metric": "body_temperature", "value": 98.6, "unit": "[degF]", "measured_at": at(9)},
            {"metric": "blood_glucose", "value": 126, "unit": "mg/dL", "measured_at": at(8)},
            {
                "metric": "blood_pressure",
                "systolic": 18.7,
                "diastolic": 12,
                "unit": "kPa",
                "measured_at": at(7),
            },
            {"metric": "fall", "measured_at": at(6)},
        ],
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"accepted": 6, "duplicate": 0, "rejected": []}
    rows = {r.metric: r for r in db.session.query(Reading).all()}
    assert rows["body_temperature"].value == pytest.approx(37.0)
    assert (rows["body_temperature"].original_value, rows["body_temperature"].original_unit) == (
        98.6,
        "[degF]",
    )
    assert rows["blood_glucose"].value == pytest.approx(6.99, abs=0.01)
    assert rows["systolic_bp"].value == pytest.approx(140.3, abs=0.1)
    assert rows["diastolic_bp"].unit == "mm[Hg]"
    assert rows["fall"].value is None


def test_every_rejection_reason_with_its_index(client, device):
    response = push(
        client,
        device,
        [
            {"metric": "heart_rate", "value": 70, "unit": "/min", "measured_at": at(1)},
            {"metric": "mood", "value": 3, "unit": "1", "measured_at": at(1)},
            {"metric": "heart_rate", "value": 70, "unit": "mmol/L", "measured_at": at(2)},
            {"metric": "heart_rate", "value": 900, "unit": "/min", "measured_at": at(3)},
            {"metric": "heart_rate", "value": 70, "unit": "/min", "measured_at": at(-10)},
            {"metric": "heart_rate", "value": 70, "unit": "/min", "measured_at": at(60 * 24 * 400)},
            {
                "metric": "heart_rate",
                "value": 70,
                "unit": "/min",
                "measured_at": "2026-11-28 08:00",
            },
            {"metric": "heart_rate", "value": "seventy", "unit": "/min", "measured_at": at(4)},
            "not an object",
        ],
    )
    body = response.get_json()
    assert response.status_code == 200
    assert body["accepted"] == 1
    reasons = {r["index"]: r["reason"] for r in body["rejected"]}
    assert reasons == {
        1: "unknown metric",
        2: "unit does not fit the metric",
        3: "value outside the physiologically possible range",
        4: "measured_at is more than 5 minutes in the future",
        5: "measured_at is older than the accepted window",
        6: "measured_at must be an ISO 8601 time with its offset",
        7: "value must be a number",
        8: "a reading must be an object",
    }


def test_a_retry_is_a_duplicate_never_a_second_row(client, device):
    readings = [
        {"metric": "spo2", "value": 96, "unit": "%", "measured_at": at(30)},
        {"metric": "spo2", "value": 95, "unit": "%", "measured_at": at(20)},
    ]
    assert push(client, device, readings).get_json()["accepted"] == 2
    again = push(
        client,
        device,
        [*readings, {"metric": "spo2", "value": 97, "unit": "%", "measured_at": at(40)}],
    )
    assert again.get_json() == {"accepted": 1, "duplicate": 2, "rejected": []}
    assert db.session.query(Reading).count() == 3  # out of order is fine


def test_whole_request_errors(client, device, app):
    assert client.post("/api/v1/ingest", json={"readings": []}).status_code == 401
    bad = {"Authorization": "Bearer dev_nope"}
    assert client.post("/api/v1/ingest", json={"readings": []}, headers=bad).status_code == 401
    assert (
        client.post(
            "/api/v1/ingest", data="x", headers={**device["auth"], "Content-Type": "text/plain"}
        ).status_code
        == 415
    )
    malformed = client.post(
        "/api/v1/ingest",
        data="{not json",
        headers={**device["auth"], "Content-Type": "application/json"},
    )
    assert malformed.status_code == 400
    assert (
        client.post("/api/v1/ingest", json={"values": []}, headers=device["auth"]).status_code
        == 400
    )
    big = b'{"readings": [' + b" " * app.config["INGEST_MAX_BYTES"] + b"]}"
    too_big = client.post(
        "/api/v1/ingest", data=big, headers={**device["auth"], "Content-Type": "application/json"}
    )
    assert too_big.status_code == 413


def test_the_device_rate_limit(client, device, app, monkeypatch):
    monkeypatch.setitem(app.config, "INGEST_RATE_LIMIT", "3 per minute")
    codes = [push(client, device, []).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_lost_and_unbound_devices_are_refused_and_rotation_replaces_the_token(client, device):
    rotated = client.post(
        f"/api/v1/devices/{device['id']}/rotate-token", headers=device["staff"]
    ).get_json()
    assert push(client, device, []).status_code == 401  # the old token is gone
    new_auth = {"Authorization": f"Bearer {rotated['token']}"}
    assert client.post("/api/v1/ingest", json={"readings": []}, headers=new_auth).status_code == 200
    assert (
        client.post(f"/api/v1/devices/{device['id']}/lost", headers=device["staff"]).get_json()[
            "status"
        ]
        == "lost"
    )
    assert client.post("/api/v1/ingest", json={"readings": []}, headers=new_auth).status_code == 401
    again = client.post(f"/api/v1/devices/{device['id']}/lost", headers=device["staff"])
    assert again.status_code == 409
    assert again.get_json()["current"] == "lost"
    names = [
        e.name
        for e in db.session.query(Event).filter_by(entity_type="device", entity_id=device["id"])
    ]
    assert names == ["device.registered", "device.token_rotated", "device.lost"]


def test_another_team_cannot_manage_or_read(client, device, make_team, api_token):
    outsider = api_token(make_team().lead)
    assert (
        client.post(f"/api/v1/devices/{device['id']}/unbind", headers=outsider).status_code == 404
    )
    since, until = at(60), at(-1)
    url = f"/api/v1/residents/{device['resident'].id}/readings"
    assert (
        client.get(
            url, query_string={"metric": "spo2", "since": since, "until": until}, headers=outsider
        ).status_code
        == 404
    )


def test_readings_over_a_time_range(client, device):
    push(
        client,
        device,
        [
            {"metric": "heart_rate", "value": v, "unit": "/min", "measured_at": at(m)}
            for v, m in ((70, 50), (80, 30), (90, 5))
        ],
    )
    url = f"/api/v1/residents/{device['resident'].id}/readings"
    rows = client.get(
        url,
        query_string={"metric": "heart_rate", "since": at(40), "until": at(0)},
        headers=device["staff"],
    ).get_json()
    assert [r["value"] for r in rows] == [80.0, 90.0]


def test_unbind_then_bind_elsewhere(client, device, make_resident):
    other = make_resident(neighbourhood=device["resident"].neighbourhood)
    assert (
        client.post(f"/api/v1/devices/{device['id']}/unbind", headers=device["staff"]).get_json()[
            "status"
        ]
        == "unbound"
    )
    assert push(client, device, []).status_code == 401
    bound = client.post(
        f"/api/v1/devices/{device['id']}/bind",
        json={"resident_id": other.id},
        headers=device["staff"],
    )
    assert bound.get_json()["resident_id"] == other.id
    push(client, device, [{"metric": "steps", "value": 3000, "unit": "/d", "measured_at": at(1)}])
    assert db.session.query(Reading).one().resident_id == other.id


def test_registration_errors(client, device):
    dup = client.post(
        "/api/v1/devices", json={"serial": "W-0001", "kind": "watch"}, headers=device["staff"]
    )
    assert dup.status_code == 409
    bad = client.post(
        "/api/v1/devices", json={"serial": "", "kind": "toaster"}, headers=device["staff"]
    )
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]["json"]) == {"serial", "kind"}


def test_the_battery_level_beside_the_readings_is_kept_on_the_device(client, device):
    from wearables.models import Device

    response = client.post(
        "/api/v1/ingest",
        json={"battery": 37, "readings": [{"metric": "sos", "measured_at": at(1)}]},
        headers=device["auth"],
    )
    assert response.status_code == 200
    assert db.session.get(Device, device["id"]).battery_level == 37


@pytest.mark.parametrize("level", [-1, 101, "full", True])
def test_a_battery_level_that_is_not_a_percentage_is_a_400(client, device, level):
    response = client.post(
        "/api/v1/ingest", json={"battery": level, "readings": []}, headers=device["auth"]
    )
    assert response.status_code == 400
    assert "battery" in response.get_json()["message"]
