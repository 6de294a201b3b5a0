"""The world of the real-call browser tests (test_call_live.py): a SQLite file migrated and
seeded with the demo data plus a few visits, gunicorn (two gthread workers) and the media
process started inside a private network namespace, and headless Chromium launched through
the namespace's wrapper with a fake camera and microphone.

The test process cannot reach the namespace's loopback: HTTP to the live server goes through
the browser (`in_page`) or a Python started inside the namespace (`wait_until_up`). The
SQLite file is shared, so the test reads what the server wrote with `world.app`.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade

from app import create_app, demo
from app.accounts.models import Team, User
from app.extensions import db
from app.residents.models import Resident
from app.timeutil import utcnow
from telecall.models import ParticipantRole, Visit, VisitParticipant, VisitType
from telecall.tokens import make_token, new_nonce
from tests.browser.conftest import CHROMIUM_ARGS, _browser_missing_reason
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
WEB_PORT, MEDIA_PORT = 5000, 8765  # the namespace is private: nothing else listens there
BASE = f"http://127.0.0.1:{WEB_PORT}"  # a secure origin: getUserMedia works on it
MEDIA_ARGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    # Host candidates as addresses, not mDNS names: the aiortc peer cannot resolve those.
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]
DOCTOR = "dr.wang"  # the demo's team lead; every demo visit here is with him


@dataclass
class World:
    app: Flask
    env: dict
    logs: dict[str, Path]
    visits: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    seats: dict[str, int] = field(default_factory=dict)

    def log_tail(self, chars: int = 3000) -> str:
        return "".join(f"\n--- {n}\n{p.read_text()[-chars:]}" for n, p in self.logs.items())


def _seat(visit: Visit, role: ParticipantRole, name: str, user: User | None) -> VisitParticipant:
    seat = VisitParticipant(
        visit=visit,
        role=role,
        display_name=name,
        user_id=user.id if user else None,
        token_nonce=new_nonce(),
    )
    db.session.add(seat)
    return seat


def _visit(resident: Resident, doctor: User, starts, minutes: int = 20) -> Visit:
    """A visit written as booked, at any time (booking itself would refuse the past)."""
    visit = Visit(
        resident_id=resident.id,
        team_id=doctor.team_ids[0],
        doctor_id=doctor.id,
        visit_type=VisitType.VIDEO_CONSULT,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=minutes),
        booked_by_id=doctor.id,
        reason="live call test",
    )
    db.session.add(visit)
    account = db.session.scalars(db.select(User).where(User.resident_id == resident.id)).first()
    _seat(visit, ParticipantRole.RESIDENT, resident.name, account)
    _seat(visit, ParticipantRole.DOCTOR, doctor.display_name, doctor)
    return visit


def _seed(world: World) -> None:
    demo.seed()
    doctor = db.session.scalars(db.select(User).where(User.username == DOCTOR)).one()
    places = {n.id for n in db.session.get(Team, doctor.team_ids[0]).neighbourhoods}
    query = db.select(Resident).where(Resident.neighbourhood_id.in_(places)).order_by(Resident.id)
    residents = list(db.session.scalars(query))
    now = utcnow().replace(microsecond=0)
    made = {
        "pair": _visit(residents[0], doctor, now - timedelta(minutes=5)),
        "client": _visit(residents[1], doctor, now - timedelta(minutes=5)),
        "record": _visit(residents[3], doctor, now - timedelta(minutes=5)),
        "restart": _visit(residents[4], doctor, now - timedelta(minutes=5)),
        "expired": _visit(residents[2], doctor, now - timedelta(hours=3)),
        "other": _visit(residents[2], doctor, now + timedelta(days=1)),
    }
    db.session.flush()
    for name, visit in made.items():
        world.visits[name] = visit.id
        for seat in visit.participants:
            key = f"{name}_{seat.role.value}"
            world.tokens[key] = make_token(seat)
            world.seats[key] = seat.id
    # A link of another visit: signed with the real key, naming the other visit's resident
    # seat but carrying the nonce of the pair's resident seat.
    other = made["other"].participants[0]
    mine = made["pair"].participants[0]
    other.token_nonce, kept = mine.token_nonce, other.token_nonce
    world.tokens["foreign"] = make_token(other)
    other.token_nonce = kept


def _environment(folder: Path, secret_key: str, app: Flask) -> dict:
    media_secret = secrets.token_urlsafe(24)
    env = os.environ | {
        "KANGYANG_CONFIG": "development",
        "SECRET_KEY": secret_key,
        "FIELD_ENCRYPTION_KEY": app.config["FIELD_ENCRYPTION_KEY"],
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "PUBLIC_URL": BASE,
        "MEDIA_URL": f"http://127.0.0.1:{MEDIA_PORT}",
        "MEDIA_SECRET": media_secret,
        "MEDIA_EMBEDDED": "0",
        "SCHEDULER_ENABLED": "0",
        "RECORDINGS_DIR": str(folder / "recordings"),
        "PYTHONPATH": str(ROOT),
    }
    for name in ("ALERT_BUS_URL", "ICE_SERVERS", "TURN_URLS", "TURN_SECRET", "TEST_DATABASE_URL"):
        env.pop(name, None)
    return env


def build(folder: Path) -> World:
    secret_key = secrets.token_hex(16)
    url = f"sqlite:///{folder / 'live.db'}"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, SECRET_KEY=secret_key)
    world = World(app=app, env=_environment(folder, secret_key, app), logs={})
    with app.app_context():
        upgrade()
        _seed(world)
        db.session.commit()
        db.engine.dispose()
    return world


GUNICORN = ["-m", "gunicorn", "-w", "2", "-k", "gthread", "--threads", "16"]
COMMANDS = {
    "web": [*GUNICORN, "--graceful-timeout", "2", "-b", f"127.0.0.1:{WEB_PORT}", "wsgi:app"],
    "media": ["-m", "telecall.media", "--host", "127.0.0.1", "--port", str(MEDIA_PORT)],
}
WAIT_UP = """
import sys, time, urllib.request, urllib.error
deadline = time.monotonic() + float(sys.argv[2])
while True:
    try:
        request = urllib.request.Request(sys.argv[1], headers={"X-Media-Secret": sys.argv[3]})
        urllib.request.urlopen(request, timeout=2)
        break
    except (urllib.error.URLError, OSError):
        if time.monotonic() > deadline:
            sys.exit(f"{sys.argv[1]} did not answer")
        time.sleep(0.1)
"""


def start(netns, world: World, folder: Path) -> list[subprocess.Popen]:
    processes = []
    for name, args in COMMANDS.items():
        world.logs[name] = folder / f"{name}.log"
        with world.logs[name].open("w") as out:
            processes.append(
                netns.popen(
                    [sys.executable, *args],
                    cwd=ROOT,
                    env=world.env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    secret = world.env["MEDIA_SECRET"]
    for url in (f"{BASE}/healthz", f"http://127.0.0.1:{MEDIA_PORT}/health"):
        done = netns.run(
            [sys.executable, "-c", WAIT_UP, url, "30", secret],
            capture_output=True,
            text=True,
            timeout=40,
        )
        assert done.returncode == 0, done.stderr + world.log_tail()
    return processes


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def launch_chromium(playwright, netns):
    reason = _browser_missing_reason()
    if reason:
        if IN_CI:
            pytest.fail(f"the call tests cannot run in CI: {reason}")
        pytest.skip(f"the call tests cannot run here: {reason}")
    return playwright.chromium.launch(
        executable_path=str(netns.chromium_wrapper), args=[*CHROMIUM_ARGS, *MEDIA_ARGS]
    )


def new_page(browser, lang: str = "zh_CN"):
    context = browser.new_context(base_url=BASE, locale="zh-CN")
    context.add_cookies([{"name": "lang", "value": lang, "url": BASE}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def sign_in(page, username: str = DOCTOR) -> None:
    page.goto("/login")
    page.fill("#identifier", username)
    page.fill("#password", demo.DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/home")


def in_page(page, method: str, path: str, token: str | None = None) -> int:
    """The status of a request the page's browser sends (inside the namespace)."""
    return page.evaluate(
        """async ([method, path, token]) => {
            const headers = {"Content-Type": "application/json"};
            if (token) headers["X-Join-Token"] = token;
            const answer = await fetch(path, {method, headers, body: method === "GET" ? undefined : "{}"});
            return answer.status;
        }""",
        [method, path, token],
    )


def wait_for(probe, seconds: float, what: str, every: float = 0.25):
    """Poll `probe()` until it returns something true; fail saying `what` and the last value."""
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"{what}: not within {seconds} s (last: {json.dumps(last, default=str)})")
