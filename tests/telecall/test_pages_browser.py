"""The visit pages in a real browser: a resident in the large-text mode finds big targets and
books with taps only; the doctor's workbench shows who comes into the waiting room without
reloading (its script polls /visits/waiting.json)."""

import json
import re
import threading
import urllib.request
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from playwright.sync_api import expect
from werkzeug.serving import make_server

from app import create_app, demo
from app.accounts.models import User
from app.demo import DEMO_PASSWORD
from app.extensions import db
from app.timeutil import utcnow
from telecall.models import OPEN_STATUSES, ParticipantRole, Visit
from telecall.tokens import make_token
from tests.browser.conftest import ARTIFACTS, browser

pytestmark = [pytest.mark.browser, pytest.mark.own_app]
__all__ = ["browser"]  # the fixture: headless Chromium, failing in CI when missing
MIN_TARGET = 60  # MIIT: main targets at least 60 x 60 px in the elder mode


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A live server of its own (the tests change its visits) with the demo data."""
    url = f"sqlite:///{tmp_path_factory.mktemp('visits-live') / 'live.db'}"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        demo.seed()
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}", app=app)
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


def demo_visit(live, minutes_from_now: int) -> dict:
    """张桂英's demo visit, moved to start `minutes_from_now`; its ids and her join token."""
    with live.app.app_context():
        account = db.session.scalar(sa.select(User).where(User.username == "zhang.guiying"))
        visit = db.session.scalars(
            sa.select(Visit)
            .where(Visit.resident_id == account.resident_id, Visit.status.in_(OPEN_STATUSES))
            .order_by(Visit.id)
        ).first()
        visit.starts_at = utcnow().replace(microsecond=0) + timedelta(minutes=minutes_from_now)
        visit.ends_at = visit.starts_at + timedelta(minutes=20)
        seat = next(p for p in visit.participants if p.role == ParticipantRole.RESIDENT)
        found = {"id": visit.id, "resident": account.display_name, "token": make_token(seat)}
        db.session.commit()
        return found


@pytest.fixture
def open_page(browser, live):
    contexts = []

    def _open(username: str, large_text: bool = False, width: int = 1100):
        context = browser.new_context(
            base_url=live.url, locale="zh-CN", viewport={"width": width, "height": 900}
        )
        if large_text:
            context.add_cookies([{"name": "large_text", "value": "1", "url": live.url}])
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto("/login")
        page.locator("input[name=identifier]").fill(username)
        page.locator("input[name=password]").fill(DEMO_PASSWORD)
        page.locator("form[action='/login'] button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/home$"))
        return page

    yield _open
    for context in contexts:
        context.close()


def assert_big(locator):
    box = locator.bounding_box()
    assert box["width"] >= MIN_TARGET, box
    assert box["height"] >= MIN_TARGET, box


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_a_resident_in_the_large_text_mode_goes_in_and_books_with_big_buttons(live, open_page):
    visit = demo_visit(live, minutes_from_now=15)
    page = open_page("zhang.guiying", large_text=True, width=400)
    page.goto("/visits/mine")
    expect(page.locator("html")).to_have_class("large-text")
    join = page.locator("a.join")
    expect(join).to_have_attribute("href", f"/v/{visit['token']}")
    assert_big(join)
    book = page.locator("a.big-button[href^='/visits/book/']")
    assert_big(book)
    shot(page, "visits-mine-large-text")
    book.click()
    kinds = page.locator("a.choice")
    expect(kinds).to_have_count(3)
    assert_big(kinds.first)
    kinds.first.click()
    slot = page.locator("a.slot").first
    assert_big(slot)
    shot(page, "visits-slots-large-text")
    slot.click()
    confirm = page.locator("button.big-button[type=submit]")
    assert_big(confirm)
    confirm.click()
    expect(page).to_have_url(re.compile(r"/visits/\d+/booked$"))
    booked_id = int(re.search(r"/visits/(\d+)/booked", page.url).group(1))
    assert booked_id != visit["id"]
    with live.app.app_context():
        assert db.session.get(Visit, booked_id).booked_by.username == "zhang.guiying"


def test_the_workbench_shows_the_resident_waiting_without_reloading(live, open_page):
    visit = demo_visit(live, minutes_from_now=0)
    page = open_page("dr.wang")
    page.goto("/visits/")
    cell = page.locator(f"tr[data-visit-id='{visit['id']}'] .waiting-cell")
    expect(cell).to_be_visible()
    expect(cell).not_to_contain_text(visit["resident"])
    expect(page.locator("#visit-live-status")).to_have_class(re.compile("live-live"))
    request = urllib.request.Request(  # noqa: S310 (the local live server)
        live.url + "/api/v1/call/join",
        data=json.dumps({"client": "browser"}).encode(),
        headers={"Content-Type": "application/json", "X-Join-Token": visit["token"]},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        assert answer.status == 200
    expect(cell).to_contain_text(visit["resident"], timeout=15_000)
    expect(page.locator("#visit-announce")).to_contain_text(visit["resident"])
    shot(page, "visits-workbench-waiting")
