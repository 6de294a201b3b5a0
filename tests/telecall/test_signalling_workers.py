"""Call signalling across two gunicorn workers that share Redis as the bus (HTTP only, no
media). Participant B's event stream is held by one worker; A's join and offer go through
the other; B has each within a second, and the ping went through Redis. A reconnect with
Last-Event-ID gets nothing twice. Redis must be there: the test fails (never skips)."""

import http.client
import json
import os
import queue
import threading
import time
from pathlib import Path

import pytest
from flask_migrate import upgrade

from app import create_app
from app.accounts.models import User
from app.extensions import db
from app.residents.models import Resident
from telecall import booking, signalling
from telecall.models import ParticipantRole, VisitType
from tests.alerts.test_stream import SseStream
from tests.alerts.test_stream_workers import (
    _connection_on_other_worker,
    require_redis,
    two_gunicorn_workers,
    worker_serving,
)
from tests.telecall.conftest import local_at
from tests.telecall.test_booking_race import population
from tests.telecall.test_call_api import DOCTOR, token_of, under_way

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_TELECALL_REDIS_URL", "redis://127.0.0.1:6379/14")
RESIDENT = ParticipantRole.RESIDENT


class CallStream(SseStream):
    """An open `GET /api/v1/call/events` with a join token."""

    def __init__(self, port: int, token: str, after: int | None = None, last_id=None):
        headers = {"X-Join-Token": token}
        if last_id is not None:
            headers["Last-Event-ID"] = str(last_id)
        path = "/api/v1/call/events" + (f"?after={after}" if after is not None else "")
        super().__init__(port, path, headers)

    def opened(self, timeout: float = 5) -> dict:
        """The stream's first block (retry and cursor comment): it is being served."""
        return self.events.get(timeout=timeout)

    def next_message(self, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                item = self.events.get(timeout=left)
            except queue.Empty:
                return None
            if "data" in item:
                return item["data"]
        return None


@pytest.fixture
def two_workers(
    fresh_database, make_team, make_resident, make_resident_user, make_link, make_contract
):
    redis_client = require_redis(REDIS_URL)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=fresh_database)
    with app.app_context():
        upgrade()
        world = population(make_team, make_resident, make_resident_user, make_link, make_contract)
        visit = booking.book(
            db.session.get(User, world["bookers"][0]),
            db.session.get(Resident, world["resident"]),
            {
                "doctor_id": world["doctor"],
                "visit_type": VisitType.VIDEO_CONSULT,
                "starts_at": local_at(1, 9),
            },
        )
        under_way(visit)
        tokens = {"a": token_of(visit, DOCTOR), "b": token_of(visit, RESIDENT)}
        db.session.commit()
        db.engine.dispose()
    env = {"MEDIA_EMBEDDED": "false", "SCHEDULER_ENABLED": "false"}
    with two_gunicorn_workers(fresh_database, REDIS_URL, env) as (port, workers):
        yield port, workers, tokens, redis_client


def _post(conn, path: str, token: str, body: dict) -> tuple[int, dict]:
    headers = {"X-Join-Token": token, "Content-Type": "application/json"}
    conn.request("POST", path, json.dumps(body), headers)
    answer = conn.getresponse()
    text = answer.read()
    return answer.status, json.loads(text) if text else {}


class Pings:
    """What the web publishes on the calls channel (pub/sub is not per Redis database)."""

    def __init__(self, redis_client):
        self.pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(signalling.CHANNEL)
        self.got: list = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def _listen(self) -> None:
        while not self.stopped.is_set():
            message = self.pubsub.get_message(timeout=0.2)
            if message:
                self.got.append(json.loads(message["data"]))

    def stop(self) -> list:
        self.stopped.set()
        self.thread.join(timeout=5)
        self.pubsub.close()
        return self.got


@pytest.mark.own_app
def test_an_offer_through_one_worker_reaches_a_stream_on_the_other(two_workers):
    port, workers, tokens, redis_client = two_workers
    pings = Pings(redis_client)
    anywhere = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    status, b = _post(anywhere, "/api/v1/call/join", tokens["b"], {"client": "python"})
    assert status == 200, b
    stream = CallStream(port, tokens["b"], after=b["after"])
    assert stream.response.status == 200
    stream.opened()
    stream_worker = worker_serving(port, stream.client_port, workers)
    assert stream_worker in workers

    other = _connection_on_other_worker(port, workers, stream_worker)
    status, a = _post(other, "/api/v1/call/join", tokens["a"], {"client": "python"})
    assert status == 200, a
    assert [p["id"] for p in a["peers"]] == [b["participant"]["id"]]  # A offers to B
    started = time.monotonic()
    joined = stream.next_message(timeout=1.0)
    assert joined is not None, "the join on the other worker did not arrive within a second"
    assert (joined["kind"], joined["payload"]["peer"]["id"]) == ("joined", a["participant"]["id"])

    waits, offers = [], []
    for n in range(3):
        offer = {"type": "offer", "sdp": f"v=0\r\no=- {n} 1 IN IP4 127.0.0.1\r\n"}
        status, sent = _post(
            other,
            "/api/v1/call/signal",
            tokens["a"],
            {"to": b["participant"]["id"], "kind": "offer", "payload": offer},
        )
        assert status == 201, sent
        started = time.monotonic()
        got = stream.next_message(timeout=1.0)
        waits.append(time.monotonic() - started)
        assert got is not None, "the offer posted on the other worker did not arrive within 1 s"
        assert (got["id"], got["from"], got["payload"]) == (
            sent["id"],
            a["participant"]["id"],
            offer,
        )
        offers.append(got)
    stream.close()
    assert max(waits) < 1.0
    # the streams are woken through Redis, not only by their once-a-second look
    got = pings.stop()
    assert any(b["participant"]["id"] in ping for ping in got), got

    # a reconnect (to whichever worker) from the last id gets nothing twice
    status, marker = _post(
        other,
        "/api/v1/call/signal",
        tokens["a"],
        {"to": b["participant"]["id"], "kind": "candidate", "payload": {"candidate": ""}},
    )
    assert status == 201
    again = CallStream(port, tokens["b"], last_id=offers[-1]["id"])
    assert again.response.status == 200
    first = again.next_message(timeout=3.0)
    assert first is not None
    assert first["id"] == marker["id"]
    assert again.next_message(timeout=2.0) is None  # nothing sent before comes again
    again.close()
