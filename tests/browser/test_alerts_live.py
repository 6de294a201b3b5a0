"""Live alerts in real browsers: the caregiver's phone page and the doctor's queue are open
when a watch pushes an SOS to the ingest API; the alert appears on both without a reload,
the caregiver taps the big button, and the doctor's queue shows it taken in hand.

The pages run in English here so that the test does not depend on the translations."""

import json
import re
import urllib.request

import pytest
from playwright.sync_api import expect

from app.demo import DEMO_PASSWORD
from app.timeutil import utcnow
from tests.browser.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.own_app]
SOS = "The SOS button was pressed"


def call_api(base: str, method: str, path: str, body=None, token=None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data, headers, method=method)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (our server)
        return json.loads(answer.read())


def signed_in_page(browser, base: str, username: str):
    context = browser.new_context(base_url=base, viewport={"width": 390, "height": 844})
    context.add_cookies([{"name": "lang", "value": "en", "url": base}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/login")
    page.get_by_label("Username or phone").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/home$"))
    return context, page


def a_watch_for_zhang(base: str) -> str:
    """The team doctor registers a watch for 张桂英 (the resident of the demo's open alert)."""
    token = call_api(
        base, "POST", "/api/v1/auth/token", {"username": "dr.wang", "password": DEMO_PASSWORD}
    )["access_token"]
    demo_alert = call_api(base, "GET", "/api/v1/alerts?active=true", token=token)[0]
    device = call_api(
        base,
        "POST",
        "/api/v1/devices",
        {"serial": "W-LIVE-SOS", "kind": "watch", "resident_id": demo_alert["resident_id"]},
        token=token,
    )
    return device["token"]


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_an_sos_appears_live_and_the_caregivers_tap_shows_in_the_queue(browser, live_server):
    device_token = a_watch_for_zhang(live_server)
    carer_context, carer = signed_in_page(browser, live_server, "li.ming")
    doctor_context, doctor = signed_in_page(browser, live_server, "dr.wang")
    try:
        carer.goto("/alerts/mine")
        doctor.goto("/alerts/")
        for page in (carer, doctor):
            expect(page.locator("#alert-live-status")).to_have_class(re.compile("live-live"))
        expect(carer.locator(".alert-card", has_text=SOS)).to_have_count(0)

        answer = call_api(
            live_server,
            "POST",
            "/api/v1/ingest",
            {"readings": [{"metric": "sos", "measured_at": utcnow().isoformat()}]},
            token=device_token,
        )
        assert answer["accepted"] == 1

        card = carer.locator("#alerts-active .alert-card", has_text=SOS)
        expect(card).to_be_visible(timeout=5_000)
        expect(carer.locator("#alert-announce")).to_contain_text(SOS)
        expect(carer.locator("#alert-notices li").first).to_contain_text(SOS)
        queued = doctor.locator("#alerts-waiting .alert-card", has_text=SOS)
        expect(queued).to_be_visible(timeout=5_000)
        button = card.get_by_role("button", name="I am on it")
        box = button.bounding_box()
        assert box["width"] >= 60, box
        assert box["height"] >= 60, box
        for name in ("Call 张桂英", "Call the family doctor team"):
            call = card.get_by_role("link", name=re.compile(name))
            assert call.get_attribute("href").startswith("tel:")
            assert call.bounding_box()["height"] >= 60
        shot(carer, "alerts-caregiver-live")

        button.click()
        expect(carer).to_have_url(re.compile(r"/alerts/mine$"))
        taken = doctor.locator("#alerts-in_hand .alert-card", has_text=SOS)
        expect(taken).to_be_visible(timeout=5_000)
        expect(taken.locator(".alert-status")).to_contain_text("Someone is taking care of it")
        expect(taken.locator(".alert-status")).to_contain_text("李明")
        expect(doctor.locator("#alerts-waiting .alert-card", has_text=SOS)).to_have_count(0)
        expect(doctor.locator("#alert-announce")).to_contain_text("李明 is taking care")
        doctor.set_viewport_size({"width": 1200, "height": 900})
        shot(doctor, "alerts-queue-live")
    finally:
        carer_context.close()
        doctor_context.close()
