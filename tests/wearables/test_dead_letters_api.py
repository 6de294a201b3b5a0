"""MQTT dead letters for administrators: the JSON API (filters, paging) and the page."""

import json
import re
from datetime import timedelta

import pytest

from app.accounts.models import Role
from app.extensions import db
from app.timeutil import utcnow
from wearables.models import DeadLetter, DeadLetterReason, Device, DeviceKind, DeviceStatus

URL = "/api/v1/mqtt/dead-letters"


@pytest.fixture
def letters(make_user):
    watch = Device(
        serial="W-DL-1", kind=DeviceKind.WATCH, status=DeviceStatus.UNBOUND, token_digest="d" * 64
    )
    db.session.add(watch)
    db.session.flush()
    now = utcnow().replace(microsecond=0)

    def letter(reason, minutes_ago, device=None, payload='{"readings": []}', detail=None):
        row = DeadLetter(
            topic=f"kangyang/devices/{device.serial if device else 'X-9'}/readings",
            payload=payload,
            reason=reason,
            detail=detail,
            device_id=device.id if device else None,
            received_at=now - timedelta(minutes=minutes_ago),
        )
        db.session.add(row)
        return row

    rows = {
        "oldest": letter(DeadLetterReason.UNKNOWN_TOKEN, 30),
        "malformed": letter(
            DeadLetterReason.MALFORMED,
            20,
            watch,
            payload='{"token": "dev_…", "readings": "<b>x</b>"}',
            detail="readings must be a list",
        ),
        "newest": letter(DeadLetterReason.UNKNOWN_TOKEN, 10),
        "not_json": letter(DeadLetterReason.NOT_JSON, 5, payload="not json at all"),
    }
    db.session.flush()
    return {"admin": make_user(Role.ADMIN), "watch": watch, "rows": rows}


def ids(response):
    return [row["id"] for row in response.get_json()]


def test_the_administrator_gets_the_newest_first(letters, client, api_token):
    response = client.get(URL, headers=api_token(letters["admin"]))
    assert response.status_code == 200
    rows = letters["rows"]
    expected = [rows[n].id for n in ("not_json", "newest", "malformed", "oldest")]
    assert ids(response) == expected
    first = response.get_json()[2]
    assert first["reason"] == "malformed"
    assert first["detail"] == "readings must be a list"
    assert first["device_id"] == letters["watch"].id
    assert first["topic"] == "kangyang/devices/W-DL-1/readings"
    assert "dev_…" in first["payload"]
    assert json.loads(response.headers["X-Pagination"])["total"] == 4


def test_filtered_by_reason_and_by_device(letters, client, api_token):
    headers = api_token(letters["admin"])
    rows = letters["rows"]
    by_reason = client.get(f"{URL}?reason=unknown_token", headers=headers)
    assert ids(by_reason) == [rows["newest"].id, rows["oldest"].id]
    by_device = client.get(f"{URL}?device_id={letters['watch'].id}", headers=headers)
    assert ids(by_device) == [rows["malformed"].id]


def test_pages(letters, client, api_token):
    headers = api_token(letters["admin"])
    second = client.get(f"{URL}?page=2&page_size=3", headers=headers)
    assert ids(second) == [letters["rows"]["oldest"].id]
    assert json.loads(second.headers["X-Pagination"])["total_pages"] == 2


def test_an_unknown_reason_is_refused(letters, client, api_token):
    response = client.get(f"{URL}?reason=lost_in_space", headers=api_token(letters["admin"]))
    assert response.status_code == 422
    assert "reason" in response.get_json()["errors"]["query"]


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.NURSE, Role.CAREGIVER])
def test_anyone_but_an_administrator_gets_403(letters, client, api_token, make_user, role):
    response = client.get(URL, headers=api_token(make_user(role)))
    assert response.status_code == 403


# --- the administrator's page ----------------------------------------------------------------


def page(client, query=""):
    client.set_cookie("lang", "en")
    return client.get(f"/devices/dead-letters{query}")


def test_the_page_lists_them_with_the_payload_folded_away(letters, signed_in):
    client = signed_in(letters["admin"])
    response = page(client)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Messages found: 4" in html
    assert "Body could not be read" in html  # the reason's label
    assert "readings must be a list" in html
    assert "<code>W-DL-1</code>" in html
    # the payload, indented for reading and escaped, inside a <details>
    assert re.search(r"<details>\s*<summary>Show the message</summary>\s*<pre>\{\n", html)
    assert "&#34;&lt;b&gt;x&lt;/b&gt;&#34;" in html
    assert "<b>x</b>" not in html
    assert "not json at all" in html
    assert html.index("not json at all") < html.index("readings must be a list")  # newest first


def test_the_page_filters_by_reason(letters, signed_in):
    html = page(signed_in(letters["admin"]), "?reason=not_json").get_data(as_text=True)
    assert "Messages found: 1" in html
    assert "not json at all" in html
    assert "readings must be a list" not in html


def test_the_page_is_paged(letters, signed_in):
    """Twenty a page: 24 letters make two pages, linked to each other."""
    now = utcnow()
    for minute in range(20):
        db.session.add(
            DeadLetter(
                topic="kangyang/devices/X/readings",
                payload="{}",
                reason=DeadLetterReason.WRONG_TOPIC,
                received_at=now - timedelta(seconds=minute),
            )
        )
    client = signed_in(letters["admin"])
    first = page(client).get_data(as_text=True)
    assert "Messages found: 24" in first
    assert 'href="/devices/dead-letters?page=2"' in first
    assert "Page 1 of 2" in first
    second = page(client, "?page=2&reason=").get_data(as_text=True)
    assert second.count("<details>") == 4
    assert "Page 2 of 2" in second


def test_the_admin_menu_links_to_the_page(letters, signed_in):
    html = page(signed_in(letters["admin"])).get_data(as_text=True)
    assert 'href="/devices/dead-letters">MQTT dead letters</a>' in html


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.NURSE])
def test_the_page_is_for_administrators_only(letters, signed_in, make_user, role):
    assert page(signed_in(make_user(role))).status_code == 403
