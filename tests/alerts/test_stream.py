"""The live event stream against a real server: a threaded Werkzeug server on a database of
its own (tests/alerts/test_stream_workers.py does the same across two gunicorn workers). A
caregiver's open stream gets an alert within a second of its commit; a reconnect with
Last-Event-ID gets exactly what it missed; a stream waiting holds no database connection."""

import http.client
import json
import queue
import re
import socket
import threading
import time
import urllib.parse

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from werkzeug.serving import make_server

from app import create_app
from app.alerts import services
from app.alerts.models import AlertDelivery, Channel, Severity
from app.audit.models import Event
from app.extensions import db
from app.residents.models import CaregiverScope
from app.timeutil import utcnow

PASSWORD = "correct-horse-9"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
HEARTBEAT = 5
own_app = pytest.mark.own_app


# --- a client that signs in and reads a stream, as a browser does ------------------------------


def sign_in(port: int, username: str) -> str:
    """The session cookie of `username`, signed in through the login form."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/login")
    page = conn.getresponse()
    cookie = _session_cookie(page)
    token = CSRF_RE.search(page.read().decode()).group(1)
    body = urllib.parse.urlencode(
        {"csrf_token": token, "identifier": username, "password": PASSWORD}
    )
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    conn.request("POST", "/login", body, headers)
    answer = conn.getresponse()
    answer.read()
    assert answer.status == 302, answer.status
    conn.close()
    return _session_cookie(answer)


def _session_cookie(answer) -> str:
    cookies = [c.split(";")[0] for c in answer.msg.get_all("Set-Cookie") or ()]
    return next(c for c in cookies if c.startswith("session="))


class SseStream:
    """An open Server-Sent-Events response; a thread parses its blocks into a queue (each a
    dict of its fields, `data` decoded from JSON, a comment as `comment`)."""

    def __init__(self, port: int, path: str, headers: dict):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.conn.request("GET", path, headers={"Accept": "text/event-stream", **headers})
        self.sock = self.conn.sock
        self.client_port = self.sock.getsockname()[1]
        self.response = self.conn.getresponse()
        self.events: queue.Queue = queue.Queue()
        self.ended = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        fields: dict = {}
        try:
            while True:
                line = self.response.readline()
                if not line:
                    break
                line = line.decode().rstrip("\n")
                if line == "":
                    if fields:
                        self.events.put(fields)
                    fields = {}
                elif line.startswith(":"):
                    fields.setdefault("comment", line[1:].strip())
                else:
                    name, _, value = line.partition(": ")
                    fields[name] = json.loads(value) if name == "data" else value
        except (OSError, ValueError, AttributeError, http.client.HTTPException):  # closed
            pass
        self.ended.set()

    def close(self) -> None:
        # shut the socket first: the reading thread holds the response until a read returns
        self.sock.shutdown(socket.SHUT_RDWR)
        self.conn.close()


class Stream(SseStream):
    """An open `GET /alerts/stream`."""

    def __init__(self, port: int, cookie: str, last_id: str | None = None, query: str = ""):
        headers = {"Cookie": cookie}
        if last_id:
            headers["Last-Event-ID"] = last_id
        super().__init__(port, "/alerts/stream" + query, headers)

    def next_event(self, timeout: float) -> dict | None:
        """The next `alert` or `change` event within `timeout` seconds, skipping comments."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                item = self.events.get(timeout=left)
            except queue.Empty:
                return None
            if "event" in item:
                return item
        return None

    def drain(self, quiet: float) -> list[dict]:
        """Every event until none comes for `quiet` seconds."""
        found = []
        while (item := self.next_event(quiet)) is not None:
            found.append(item)
        return found


# --- a threaded server on a database of its own -------------------------------------------


@pytest.fixture
def live(fresh_database, make_team, make_resident, make_link, make_user, make_resident_user):
    # heartbeats far apart: an event within a second can only have come through the bus
    app = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=fresh_database, ALERT_STREAM_HEARTBEAT=HEARTBEAT
    )
    with app.app_context():
        upgrade()
        team = make_team()
        resident = make_resident(neighbourhood=team.neighbourhoods[0])
        carer = make_link(resident, scope=CaregiverScope.CARE).caregiver
        people = {
            "resident_id": resident.id,
            "carer": carer.username,
            "carer_id": carer.id,
            "doctor": team.lead.username,
            "doctor_id": team.lead.id,
        }
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield app, server.server_port, people
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


def raise_alert(app, resident_id: int, rule: str = "event:fall") -> int:
    with app.app_context():
        alert, _ = services.raise_alert(resident_id, rule, Severity.CRITICAL, "A fall was detected")
        db.session.commit()
        return alert.id


def deliveries_after(app, user_id: int, after: int) -> list[int]:
    with app.app_context():
        query = sa.select(AlertDelivery.id).where(
            AlertDelivery.user_id == user_id,
            AlertDelivery.channel == Channel.LIVE,
            AlertDelivery.id > after,
        )
        return sorted(db.session.scalars(query))


@own_app
def test_an_alert_reaches_the_open_stream_within_a_second(live):
    app, port, people = live
    stream = Stream(port, sign_in(port, people["carer"]))
    assert stream.response.status == 200
    assert stream.response.getheader("Content-Type").startswith("text/event-stream")
    assert stream.response.getheader("Cache-Control") == "no-cache"
    assert stream.response.getheader("X-Accel-Buffering") == "no"
    preamble = stream.events.get(timeout=5)
    assert preamble.get("retry") == "3000"

    started = time.monotonic()
    alert_id = raise_alert(app, people["resident_id"])
    told = None
    while told is None and (event := stream.next_event(started + 1.0 - time.monotonic())):
        # the alert's "opened" change may come first, when a read straddled the commit
        told = event if event["event"] == "alert" else None
    waited = time.monotonic() - started
    stream.close()

    assert told is not None, "no event within a second"
    assert told["data"]["alert"]["id"] == alert_id
    assert told["data"]["id"] == deliveries_after(app, people["carer_id"], 0)[0]
    assert waited < 1.0


@own_app
def test_a_reconnect_gets_exactly_what_it_missed(live):
    app, port, people = live
    cookie = sign_in(port, people["carer"])
    stream = Stream(port, cookie)
    first_id = raise_alert(app, people["resident_id"], "event:fall")
    received = stream.drain(quiet=1.5)
    stream.close()
    assert {e["data"]["alert"]["id"] for e in received} == {first_id}
    last_id = received[-1]["id"]
    seen_delivery = int(last_id.split("-")[0])

    missed = [raise_alert(app, people["resident_id"], f"event:sos:{n}") for n in range(2)]
    expected_deliveries = deliveries_after(app, people["carer_id"], seen_delivery)
    assert len(expected_deliveries) == 2

    again = Stream(port, cookie, last_id=last_id)
    caught_up = again.drain(quiet=2.5)
    again.close()
    told = [e["data"]["id"] for e in caught_up if e["event"] == "alert"]
    changed = [
        (e["data"]["name"], e["data"]["alert"]["id"]) for e in caught_up if e["event"] == "change"
    ]
    assert told == expected_deliveries
    assert sorted(changed) == sorted(("alert.opened", alert_id) for alert_id in missed)
    assert all(e["data"]["alert"]["id"] != first_id for e in caught_up)


@own_app
def test_a_first_connection_sends_nothing_old_and_the_page_cursor_catches_up(live):
    app, port, people = live
    cookie = sign_in(port, people["carer"])
    raise_alert(app, people["resident_id"], "event:old")
    with app.app_context():
        page_cursor = f"{max(deliveries_after(app, people['carer_id'], 0))}-" + str(
            db.session.scalar(sa.select(sa.func.max(Event.id)))
        )
    between = raise_alert(app, people["resident_id"], "event:between")  # page drawn, no stream

    fresh = Stream(port, cookie)
    assert fresh.drain(quiet=1.5) == []
    fresh.close()

    from_page = Stream(port, cookie, query=f"?after={page_cursor}")
    got = from_page.drain(quiet=1.5)
    from_page.close()
    assert {e["data"]["alert"]["id"] for e in got} == {between}


@own_app
def test_someone_else_acting_shows_on_the_stream(live):
    app, port, people = live
    alert_id = raise_alert(app, people["resident_id"])
    stream = Stream(port, sign_in(port, people["carer"]))
    stream.events.get(timeout=5)  # the preamble: the stream is open

    doctor = sign_in(port, people["doctor"])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", f"/alerts/{alert_id}", headers={"Cookie": doctor})
    token = CSRF_RE.search(conn.getresponse().read().decode()).group(1)
    body = urllib.parse.urlencode({"csrf_token": token})
    headers = {"Cookie": doctor, "Content-Type": "application/x-www-form-urlencoded"}
    conn.request("POST", f"/alerts/{alert_id}/acknowledge", body, headers)
    assert conn.getresponse().status == 303

    changed = stream.next_event(timeout=1.0)
    stream.close()
    assert changed is not None
    assert changed["event"] == "change"
    assert changed["data"]["name"] == "alert.acknowledged"
    assert changed["data"]["alert"]["status"] == "acknowledged"
    assert "Doctor" in changed["data"]["text"] or "医生" in changed["data"]["text"]


@own_app
def test_a_waiting_stream_holds_no_database_connection_and_ends_with_the_account(live):
    app, port, people = live
    stream = Stream(port, sign_in(port, people["carer"]))
    stream.events.get(timeout=5)
    time.sleep(0.5)  # the first read is done; the stream waits on the bus
    with app.app_context():
        assert db.engine.pool.checkedout() == 0

        from app.accounts.models import User

        db.session.get(User, people["carer_id"]).active = False
        db.session.commit()
    assert stream.ended.wait(timeout=HEARTBEAT + 2), "the stream outlived the account"


@own_app
def test_the_stream_asks_for_a_session(live):
    _app, port, _people = live
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/alerts/stream")
    answer = conn.getresponse()
    assert answer.status == 302
    assert "/login" in answer.getheader("Location")


def test_a_ping_waits_for_the_outermost_commit(make_team, make_resident, make_link):
    """raise_alert opens a savepoint: its release must not wake streams that would then
    read the database before the alert is committed (and wait a heartbeat for it)."""
    from app.alerts.bus import get_bus

    team = make_team()
    resident = make_resident(neighbourhood=team.neighbourhoods[0])
    carer = make_link(resident, scope=CaregiverScope.CARE).caregiver
    before = get_bus().version(carer.id)
    services.raise_alert(resident.id, "event:fall", Severity.CRITICAL, "A fall was detected")
    assert get_bus().version(carer.id) == before
    db.session.commit()
    assert get_bus().version(carer.id) == before + 1


def test_a_late_commit_is_found_once_and_old_rows_are_left(make_team, make_resident, make_link):
    """A row whose id is below the cursor (its transaction committed after a later one's)
    is sent if it is recent and was not sent; sent once; older rows are not looked at."""
    from flask_babel import force_locale

    from app.alerts.stream import LOOKBACK, Cursor, read

    team = make_team()
    resident = make_resident(neighbourhood=team.neighbourhoods[0])
    carer = make_link(resident, scope=CaregiverScope.CARE).caregiver
    old, _ = services.raise_alert(resident.id, "event:old", Severity.CRITICAL, "Old")
    long_ago = utcnow() - 2 * LOOKBACK
    db.session.execute(sa.update(AlertDelivery).values(created_at=long_ago))
    db.session.execute(sa.update(Event).values(at=long_ago))
    late, _ = services.raise_alert(resident.id, "event:late", Severity.CRITICAL, "Late")
    newest = db.session.scalar(sa.select(sa.func.max(AlertDelivery.id)))
    cursor = Cursor(delivery=newest + 10, event=10**9)  # as if later rows were sent already

    with force_locale("en"):
        found, more = read(carer, cursor)
        again, _ = read(carer, cursor)
    sent = [(name, data["alert"]["id"]) for name, data, _ in found]
    assert sent == [("alert", late.id), ("change", late.id)]
    assert old.id not in {alert_id for _, alert_id in sent}
    assert not more
    assert again == []


def test_a_new_stream_resends_nothing_even_after_a_busy_half_minute(
    make_team, make_resident, make_link
):
    """More rows than one read takes (100) were written in the look-back window before the
    stream opened: none of them is sent as if it were a late commit."""
    from flask_babel import force_locale

    from app.alerts.stream import BATCH, now_cursor, read, remember_present

    team = make_team()
    resident = make_resident(neighbourhood=team.neighbourhoods[0])
    carer = make_link(resident, scope=CaregiverScope.CARE).caregiver
    for n in range(BATCH + 5):
        services.raise_alert(resident.id, f"event:busy:{n}", Severity.HIGH, "Busy")
    cursor = now_cursor()
    remember_present(carer, cursor)
    with force_locale("en"):
        assert read(carer, cursor) == ([], False)
