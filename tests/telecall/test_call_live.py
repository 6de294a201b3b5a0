"""Real calls in real browsers (DESIGN.md, "WebRTC facts"): gunicorn with two gthread workers
and the media process run inside a private network namespace, and headless Chromium with a
fake camera and microphone joins through the namespace's wrapper.

1. The resident (join link, no sign-in) and the doctor (signed in, /visits/<id>/call) see
   each other: video frames are decoded on both sides; the doctor's panel shows the resident
   in the visit; when the resident closes the page, the doctor's page says so.
2. The device check gets its own picture and sound back from the media process's echo peer.
3. The Python call client (python -m telecall.media.client) and a Chromium page exchange
   frames both ways.
4. An expired link and a link of another visit are refused, by the page and by the API.
"""

import json
import subprocess
import sys

import pytest

from app.extensions import db
from telecall.models import QualitySample, Visit, VisitParticipant, VisitStatus
from tests.telecall import callworld
from tests.telecall.callworld import BASE, ROOT, in_page, new_page, sign_in, wait_for
from tests.telecall.netns import ADDRESSES, netns  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.media, pytest.mark.own_app]
PEERS = "window.kangyangCall ? window.kangyangCall.peers() : []"
JOINED = "!!(window.kangyangCall && window.kangyangCall.state().joined)"


@pytest.fixture(scope="module")
def world(netns, tmp_path_factory):  # noqa: F811
    folder = tmp_path_factory.mktemp("callworld")
    built = callworld.build(folder)
    processes = callworld.start(netns, built, folder)
    yield built
    callworld.stop(processes)
    with built.app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def chromium(netns):  # noqa: F811
    if callworld._browser_missing_reason() is None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = callworld.launch_chromium(playwright, netns)
            yield browser
            browser.close()
    else:
        callworld.launch_chromium(None, netns)  # fails in CI, skips elsewhere


def frames_from(page, role: str | None = None, peer_id: int | None = None) -> int:
    """Video frames the page decoded from the peer (by role or id) over a connected link."""
    found = [
        p
        for p in page.evaluate(PEERS)
        if (role is None or p["role"] == role) and (peer_id is None or p["id"] == peer_id)
    ]
    return sum(p["framesDecoded"] for p in found if p["connectionState"] == "connected")


def frames_growing(page, **which) -> int:
    """Frames keep coming (not one stray frame): the count rises by 10 more after the first."""
    first = wait_for(lambda: frames_from(page, **which), 20, f"first frames {which}")
    return wait_for(lambda: (n := frames_from(page, **which)) > first + 10 and n, 10, "more")


def test_the_resident_by_link_and_the_doctor_signed_in_see_each_other(world, chromium):
    resident_context, resident = new_page(chromium)
    doctor_context, doctor = new_page(chromium, "en")
    try:
        resident.goto(f"/v/{world.tokens['pair_resident']}")
        wait_for(lambda: resident.evaluate(JOINED), 15, "the resident joined")
        # The resident's event stream drops; the page reconnects (Last-Event-ID) and still
        # gets the doctor's offer.
        resident.evaluate("window.kangyangCall.dropStream()")
        sign_in(doctor)
        doctor.goto(f"/visits/{world.visits['pair']}/call")
        assert frames_growing(doctor, role="resident")
        assert frames_growing(resident, role="doctor")
        seat = world.seats["pair_resident"]
        presence = doctor.locator(f'#panel-people [data-participant="{seat}"] .presence')
        assert presence.inner_text() == "In the visit"
        assert "王建国" in resident.locator(".tile:not(.tile-self) figcaption").inner_text()
        with world.app.app_context():
            assert db.session.get(Visit, world.visits["pair"]).status == VisitStatus.IN_PROGRESS
        resident_context.close()  # the page's pagehide tells the others it left
        wait_for(lambda: doctor.locator(f"#tile-{seat}").count() == 0, 10, "the tile removed")
        assert presence.inner_text() == "Not here"
    finally:
        doctor_context.close()
        if resident_context.pages:
            resident_context.close()


def test_the_device_check_shows_the_picture_and_sound_that_come_back(world, chromium):
    context, page = new_page(chromium)
    try:
        page.goto(f"/v/{world.tokens['pair_resident']}/check")
        state = "window.kangyangCheck.state()"
        wait_for(lambda: page.evaluate(state)["videoWidth"] > 0, 20, "the echoed picture")
        first = page.evaluate(state)["framesDecoded"]
        wait_for(lambda: page.evaluate(state)["framesDecoded"] > first + 10, 10, "more frames")
        # The fake microphone beeps once a second: the meter of the echoed sound moves.
        wait_for(lambda: page.evaluate(state)["maxLevel"] >= 3, 10, "the echoed sound")
        assert page.evaluate(state)["problems"] == []
    finally:
        context.close()


def test_the_python_client_and_a_browser_exchange_frames(world, chromium, netns):  # noqa: F811
    context, page = new_page(chromium)
    client = None
    try:
        page.goto(f"/v/{world.tokens['client_resident']}")
        wait_for(lambda: page.evaluate(JOINED), 15, "the resident joined")
        client = netns.popen(
            [sys.executable, "-m", "telecall.media.client", "--base", BASE]
            + ["--token", world.tokens["client_doctor"], "--seconds", "8"],
            cwd=ROOT,
            env=world.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        doctor_seat = world.seats["client_doctor"]
        assert frames_growing(page, peer_id=doctor_seat)
        out, err = client.communicate(timeout=40)
        assert client.returncode == 0, err[-3000:] + world.log_tail()
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        summary = next(line for line in lines if line["event"] == "summary")
        got = summary["peers"][str(world.seats["client_resident"])]
        assert got["video"] >= 30, got
        assert got["audio"] >= 30, got
    finally:
        if client is not None and client.poll() is None:
            client.kill()
            client.wait(5)
        context.close()


def test_an_expired_link_and_a_link_of_another_visit_are_refused(world, chromium):
    context, page = new_page(chromium, "en")
    try:
        expired = page.goto(f"/v/{world.tokens['expired_resident']}")
        assert expired.status == 410
        said = page.locator("main").inner_text()
        assert "The visit is over" in said
        assert "This link has expired" in said
        foreign = page.goto(f"/v/{world.tokens['foreign']}")
        assert foreign.status == 403
        assert "This visit link cannot be used" in page.locator("main").inner_text()
        assert page.locator("#call-data").count() == 0
        for token in (world.tokens["expired_resident"], world.tokens["foreign"]):
            assert in_page(page, "POST", "/api/v1/call/join", token) == 403
            assert in_page(page, "GET", "/api/v1/call/events", token) == 403
        waiting = page.goto(f"/v/{world.tokens['other_resident']}")  # the genuine link
        assert waiting.status == 200
        assert page.locator("#countdown").count() == 1
        with world.app.app_context():
            other = db.session.get(VisitParticipant, world.seats["other_resident"])
            assert other.first_joined_at is None  # nobody got in with its nonce
    finally:
        context.close()


def test_consent_recording_voice_only_and_the_end_of_the_visit(world, chromium):
    resident_context, resident = new_page(chromium, "en")
    doctor_context, doctor = new_page(chromium, "en")
    doctor.on("dialog", lambda dialog: dialog.accept())  # "End the visit for everyone?"
    try:
        resident.goto(f"/v/{world.tokens['record_resident']}")
        wait_for(lambda: resident.evaluate(JOINED), 15, "the resident joined")
        sign_in(doctor)
        doctor.goto(f"/visits/{world.visits['record']}/call")
        frames_growing(doctor, role="resident")
        # Only the resident agreed: the doctor's start is refused, saying whose is missing.
        resident.click("#btn-consent")
        expect_text(resident, "#consent-state", "You agreed")
        doctor.click("#btn-record")
        expect_text(doctor, "#run-state", "Still waiting for the agreement of: Doctor")
        doctor.click("#btn-consent")
        expect_text(doctor, "#consent-state", "You agreed")
        doctor.click("#btn-record")
        # The media process's recorder joins; everyone's page shows the badge, in words.
        expect_text(resident, "#call-recording", "Recording: this visit is being recorded")
        expect_text(doctor, "#btn-record", "Stop recording")
        # Voice only: the resident's camera stops reaching the doctor, whose tile says so.
        resident.click("#btn-voice")
        seat = world.seats["record_resident"]
        expect_text(doctor, f"#tile-{seat} .tile-state", "Voice only")
        # The pages sample the call's quality every 10 s, and the platform keeps it.
        samples = wait_for(lambda: quality_of(world, world.visits["record"]), 15, "samples")
        assert all(s.rtt_ms is not None and s.peer_id for s in samples)
        doctor.click("#btn-end")
        wait_for(lambda: resident.locator("#call-ended").is_visible(), 10, "the end shown")
        assert resident.evaluate("window.kangyangCall.state().ended")
        with world.app.app_context():
            visit = db.session.get(Visit, world.visits["record"])
            assert visit.status == VisitStatus.COMPLETED
    finally:
        doctor_context.close()
        resident_context.close()


def quality_of(world, visit_id: int) -> list[QualitySample]:
    with world.app.app_context():
        query = db.select(QualitySample).where(QualitySample.visit_id == visit_id)
        found = db.session.scalars(query).all()
        db.session.expunge_all()
        return found


def expect_text(page, selector: str, text: str, seconds: float = 15) -> None:
    wait_for(lambda: text in page.locator(selector).inner_text(), seconds, f"{selector}: {text}")


def link_of(page, role: str) -> dict:
    return next((p for p in page.evaluate(PEERS) if p["role"] == role), {})


def test_the_call_comes_back_after_the_network_goes_away(world, chromium, netns):  # noqa: F811
    resident_context, resident = new_page(chromium, "en")
    doctor_context, doctor = new_page(chromium, "en")
    try:
        resident.goto(f"/v/{world.tokens['restart_resident']}")
        wait_for(lambda: resident.evaluate(JOINED), 15, "the resident joined")
        sign_in(doctor)
        doctor.goto(f"/visits/{world.visits['restart']}/call")  # the doctor offers
        frames_growing(doctor, role="resident")
        # The addresses go away (as when a phone leaves the Wi-Fi), then come back.
        for number, address in enumerate(ADDRESSES):
            netns.run(["ip", "addr", "del", f"{address}/24", "dev", f"v{number}"], check=True)
        try:
            wait_for(
                lambda: link_of(doctor, "resident").get("connectionState") != "connected",
                20,
                "the lost link noticed",
            )
            # disconnected for 3 s: the doctor's page, which offered, restarts ICE
            wait_for(lambda: link_of(doctor, "resident")["restarts"] >= 1, 10, "a restart")
        finally:
            for number, address in enumerate(ADDRESSES):
                netns.run(["ip", "addr", "add", f"{address}/24", "dev", f"v{number}"], check=True)
        wait_for(
            lambda: link_of(doctor, "resident")["connectionState"] == "connected",
            25,
            "the link back",
        )
        frames_growing(doctor, role="resident")
        frames_growing(resident, role="doctor")
    finally:
        doctor_context.close()
        resident_context.close()
