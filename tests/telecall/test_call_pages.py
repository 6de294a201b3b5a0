"""The call page, the device-check page and the doctor's side-panel data, without a browser:
what each kind of link gets (the call, a countdown, a refusal that says why), who may open
the doctor's page, and the vitals the panel polls. The real calls are in test_call_live.py."""

import json
import re
from datetime import timedelta

import pytest

from app.audit.models import AuditEntry
from app.extensions import db
from app.timeutil import utcnow
from telecall import booking
from telecall.models import ParticipantRole, VisitStatus
from telecall.tokens import make_token, new_nonce
from tests.conftest import sign_in
from tests.telecall.conftest import local_at, seat
from wearables.models import Device, DeviceKind, DeviceStatus, Reading, ReadingSource

DATA_RE = re.compile(r'<script type="application/json" id="(\w+)-data">(.*?)</script>', re.S)


def page_data(html: str) -> dict:
    found = DATA_RE.search(html)
    assert found, "the page carries no data for its script"
    return json.loads(found.group(2))


def open_now(visit):
    """Move the visit to now, so that its room is open."""
    visit.starts_at = utcnow() - timedelta(minutes=5)
    visit.ends_at = visit.starts_at + timedelta(minutes=20)
    db.session.flush()
    return visit


@pytest.fixture
def visit(booked):
    return booked()


def test_before_the_room_opens_the_link_shows_the_time_a_countdown_and_the_check(client, visit):
    token = make_token(seat(visit))
    page = client.get(f"/v/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="call-waiting"' in html
    assert 'id="countdown"' in html
    seconds = int(re.search(r'data-seconds="(\d+)"', html).group(1))
    opens_in = visit.starts_at - timedelta(minutes=30) - utcnow()
    assert abs(seconds - opens_in.total_seconds()) < 5
    assert f'href="/v/{token}/check"' in html
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_an_open_room_gives_the_call_page_with_the_participants_token(client, visit):
    open_now(visit)
    resident = seat(visit)
    token = make_token(resident)
    page = client.get(f"/v/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html[:500]
    data = page_data(html)
    assert data["token"] == token
    assert data["participant"] == {
        "id": resident.id,
        "role": "resident",
        "display_name": resident.display_name,
    }
    assert data["may_consent"] is True
    assert data["consented"] is False
    assert data["api"]["join"] == "/api/v1/call/join"
    assert "panel" not in data
    assert 'id="panel-people"' not in html
    assert 'id="btn-voice"' in html
    assert 'id="btn-consent"' in html
    assert "/visits/call-static/call.js" in html
    texts = json.loads(re.search(r'id="call-texts">(.*?)</script>', html, re.S).group(1))
    assert {"ended", "recording", "voice_only", "consent_give"} <= set(texts)


@pytest.mark.parametrize(
    ("spoil", "status"),
    [
        ("garbage", 403),
        ("revoked", 403),
        ("another_visit", 403),
        ("expired", 410),
        ("cancelled", 410),
        ("completed", 410),
    ],
)
def test_a_link_that_cannot_be_used_says_why(client, visit, booked, clinic, spoil, status):
    participant = seat(visit)
    token = make_token(participant)
    if spoil == "garbage":
        token = token[:-4] + "AAAA"
    elif spoil == "revoked":
        participant.token_nonce = new_nonce()
    elif spoil == "another_visit":
        other = seat(booked(local_at(1, 10)))
        nonce = participant.token_nonce
        other_token = make_token(other)
        # the other visit's participant with this link's nonce: signed, but not theirs
        other.token_nonce, saved = nonce, other.token_nonce
        token = make_token(other)
        other.token_nonce = saved
        assert token != other_token
    elif spoil == "expired":
        visit.starts_at = utcnow() - timedelta(hours=3)
        visit.ends_at = visit.starts_at + timedelta(minutes=20)
    elif spoil == "cancelled":
        booking.cancel(clinic["account"], visit, "feeling better")
    elif spoil == "completed":
        open_now(visit).status = VisitStatus.COMPLETED
    db.session.flush()
    page = client.get(f"/v/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == status, html[:800]
    assert "call-data" not in html
    assert "community health service centre" in html or "社区卫生服务中心" in html
    check = client.get(f"/v/{token}/check")
    if spoil in ("cancelled", "completed"):
        assert check.status_code == 200  # the check still works until the link closes
    else:
        assert check.status_code == status
    joined = client.post("/api/v1/call/join", json={}, headers={"X-Join-Token": token})
    assert joined.status_code == 403, joined.get_json()


def test_the_check_page_by_link_sends_the_token_and_signed_in_the_csrf_token(
    client, visit, signed_in, clinic
):
    token = make_token(seat(visit))
    by_link = page_data(client.get(f"/v/{token}/check").get_data(as_text=True))
    assert by_link["token"] == token
    assert by_link["csrf"] is None
    assert by_link["offer_url"] == "/api/v1/device-check/offer"
    assert by_link["ice_servers"] == []
    assert client.get("/visits/check").status_code == 302  # sign in first
    signed_in(clinic["account"])
    page = client.get("/visits/check")
    mine = page_data(page.get_data(as_text=True))
    assert page.status_code == 200
    assert mine["token"] is None
    assert mine["csrf"]
    assert "/visits/call-static/check.js" in page.get_data(as_text=True)


def test_the_doctor_gets_the_call_page_in_the_doctors_seat_with_the_panel(
    client, visit, signed_in, clinic
):
    open_now(visit)
    signed_in(clinic["doctor"])
    page = client.get(f"/visits/{visit.id}/call")
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html[:500]
    data = page_data(html)
    doctor_seat = seat(visit, ParticipantRole.DOCTOR)
    assert data["token"] == make_token(doctor_seat)
    assert data["participant"]["role"] == "doctor"
    assert data["panel"]["form"] == f"/api/v1/visits/{visit.id}/form"
    assert data["panel"]["vitals"] == f"/visits/{visit.id}/call/vitals"
    assert data["panel"]["csrf"]
    assert 'id="followup-form"' in html
    assert 'name="classification"' in html
    assert 'id="panel-people"' in html
    assert seat(visit).display_name in html


def test_a_doctor_of_another_team_and_a_resident_may_not_open_the_doctors_page(
    client, visit, signed_in, clinic
):
    open_now(visit)
    signed_in(clinic["outsider"])
    assert client.get(f"/visits/{visit.id}/call").status_code == 404
    assert client.get(f"/visits/{visit.id}/call/vitals").status_code == 404
    other = client.application.test_client()
    sign_in(other, clinic["account"])
    assert other.get(f"/visits/{visit.id}/call").status_code == 403


def test_a_new_doctor_of_the_visit_takes_the_doctors_seat(client, visit, signed_in, clinic):
    nurse = clinic["nurse"]
    open_now(visit)
    seat(visit, ParticipantRole.DOCTOR).user_id = nurse.id  # as booking's reschedule does
    db.session.flush()
    signed_in(nurse)
    data = page_data(client.get(f"/visits/{visit.id}/call").get_data(as_text=True))
    assert data["token"] == make_token(seat(visit, ParticipantRole.DOCTOR))


def test_the_panel_polls_the_residents_latest_vitals(client, visit, signed_in, clinic):
    resident = clinic["resident"]
    device = Device(
        serial="W-CALL-1",
        kind=DeviceKind.WATCH,
        resident=resident,
        status=DeviceStatus.ACTIVE,
        token_digest="c" * 64,
    )
    db.session.add(device)
    db.session.flush()
    now = utcnow().replace(microsecond=0)
    for metric, value, unit, ago in (
        ("heart_rate", 64, "/min", timedelta(hours=3)),
        ("heart_rate", 71, "/min", timedelta(minutes=5)),
        ("systolic_bp", 138, "mm[Hg]", timedelta(hours=1)),
        ("spo2", 97, "%", timedelta(days=9)),  # too old to be "latest"
    ):
        db.session.add(
            Reading(
                device_id=device.id,
                resident_id=resident.id,
                metric=metric,
                value=value,
                unit=unit,
                measured_at=now - ago,
                source=ReadingSource.JSON,
            )
        )
    db.session.flush()
    signed_in(clinic["doctor"])
    answer = client.get(f"/visits/{visit.id}/call/vitals")
    assert answer.status_code == 200
    vitals = {v["metric"]: v for v in answer.get_json()["vitals"]}
    assert set(vitals) == {"heart_rate", "systolic_bp"}
    assert vitals["heart_rate"]["value"] == 71
    assert vitals["systolic_bp"]["unit"] == "mmHg"
    audited = db.session.scalars(
        db.select(AuditEntry).where(
            AuditEntry.object_type == "vitals", AuditEntry.resident_id == resident.id
        )
    ).all()
    assert len(audited) == 1
    assert audited[0].actor_id == clinic["doctor"].id


def test_the_signed_in_check_page_posts_its_offer_with_the_csrf_token(
    client, signed_in, clinic, app, monkeypatch
):
    monkeypatch.setitem(app.config, "MEDIA_URL", "http://127.0.0.1:9")  # nothing listens
    signed_in(clinic["account"])
    data = page_data(client.get("/visits/check").get_data(as_text=True))
    offer = {"sdp": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n", "type": "offer"}
    refused = client.post(data["offer_url"], json=offer)
    assert refused.status_code == 400  # a session without the CSRF token
    answered = client.post(data["offer_url"], json=offer, headers={"X-CSRFToken": data["csrf"]})
    assert answered.status_code == 503  # past the CSRF check: the media process is down
    assert answered.get_json()["message"] == "the device check is not available right now"


def test_after_the_visit_the_doctors_page_points_to_the_record(client, visit, signed_in, clinic):
    open_now(visit).status = VisitStatus.COMPLETED
    db.session.flush()
    signed_in(clinic["doctor"])
    page = client.get(f"/visits/{visit.id}/call")
    assert page.status_code == 410
    assert f'href="/visits/{visit.id}"' in page.get_data(as_text=True)


def test_an_expired_link_shows_the_centres_phone(client, visit, clinic):
    clinic["team"].centre.phone = "021-5555-0101"
    visit.starts_at = utcnow() - timedelta(hours=3)
    visit.ends_at = visit.starts_at + timedelta(minutes=20)
    db.session.flush()
    page = client.get(f"/v/{make_token(seat(visit))}")
    assert page.status_code == 410
    assert 'href="tel:021-5555-0101"' in page.get_data(as_text=True)
