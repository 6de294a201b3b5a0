"""Live alert pages across gunicorn workers: two gthread workers share Redis as the bus. The
test finds from /proc which worker holds a caregiver's open stream, acknowledges through the
other worker, and has the event on the stream within a second. Redis must be there: the
test fails (never skips) without it."""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask_migrate import upgrade

from app import create_app
from app.alerts import services
from app.alerts.models import Severity
from app.extensions import db
from app.residents.models import CaregiverScope
from tests.alerts.test_stream import PASSWORD, Stream, own_app, sign_in
from wearables import devices

ROOT = Path(__file__).resolve().parents[2]

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def require_redis(url: str = REDIS_URL):
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=2)
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {url} is needed for the two-worker test: {exc}")
    return client


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{pid}$", text, re.M):
            found.append(int(status.parent.name))
    return found


def worker_serving(server_port: int, client_port: int, workers: list[int]) -> int | None:
    """The gunicorn worker holding our connection's server side (from /proc)."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        local, remote = parts[1], parts[2]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == (
            client_port
        ):
            inode = parts[9]
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


@pytest.fixture
def gunicorn_pair(fresh_database, make_team, make_resident, make_link):
    require_redis()
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=fresh_database)
    with app.app_context():
        upgrade()
        team = make_team()
        resident = make_resident(neighbourhood=team.neighbourhoods[0])
        carer = make_link(resident, scope=CaregiverScope.CARE).caregiver
        alert, _ = services.raise_alert(resident.id, "event:fall", Severity.CRITICAL, "A fall")
        _, device_token = devices.register(
            team.lead, {"serial": "SOS-1", "kind": "sos_button", "resident_id": resident.id}
        )
        people = {
            "carer": carer.username,
            "doctor": team.lead.username,
            "alert_id": alert.id,
            "device_token": device_token,
        }
        db.session.commit()
        db.engine.dispose()
    with two_gunicorn_workers(fresh_database, REDIS_URL) as (port, workers):
        yield port, workers, people


@contextmanager
def two_gunicorn_workers(database_url: str, bus_url: str, env: dict | None = None):
    """gunicorn with two gthread workers on `database_url`, sharing `bus_url` as the bus:
    (port, worker pids) once both workers run and it answers."""
    port = _free_port()
    env = os.environ | {
        "KANGYANG_CONFIG": "development",
        "DATABASE_URL": database_url,
        "ALERT_BUS_URL": bus_url,
        "PYTHONPATH": str(ROOT),
        **(env or {}),
    }
    command = [sys.executable, "-m", "gunicorn", "-w", "2", "-k", "gthread", "--threads", "4"]
    # open streams end only at their next heartbeat: a short grace keeps the stop quick
    command += ["--keep-alive", "10", "--graceful-timeout", "2", "-b", f"127.0.0.1:{port}"]
    command += ["wsgi:app"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(_children(process.pid)) < 2 or not _answers(port):
            assert process.poll() is None, "gunicorn ended"
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        yield port, _children(process.pid)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _answers(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False


def _token(port: int, username: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = json.dumps({"username": username, "password": PASSWORD})
    conn.request("POST", "/api/v1/auth/token", body, {"Content-Type": "application/json"})
    answer = conn.getresponse()
    assert answer.status == 201
    return json.loads(answer.read())["access_token"]


def _connection_on_other_worker(port: int, workers: list[int], avoid: int):
    """A keep-alive connection that gunicorn handed to the worker that is not `avoid`."""
    for _ in range(50):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        if worker_serving(port, conn.sock.getsockname()[1], workers) not in (avoid, None):
            return conn
        conn.close()
    pytest.fail("every connection went to the stream's worker")


@own_app
def test_two_workers_an_action_on_one_reaches_a_stream_on_the_other(gunicorn_pair):
    port, workers, people = gunicorn_pair
    token = _token(port, people["doctor"])
    stream = Stream(port, sign_in(port, people["carer"]))
    assert stream.response.status == 200
    stream.events.get(timeout=5)
    stream_worker = worker_serving(port, stream.client_port, workers)
    assert stream_worker in workers

    other = _connection_on_other_worker(port, workers, stream_worker)
    other.request(
        "POST",
        f"/api/v1/alerts/{people['alert_id']}/acknowledge",
        "{}",
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert other.getresponse().status == 200
    started = time.monotonic()  # committed: from here on it is the bus and the stream
    changed = stream.next_event(timeout=1.0)
    waited = time.monotonic() - started
    stream.close()

    assert changed is not None, "the other worker's change did not arrive within a second"
    assert (changed["data"]["name"], changed["data"]["alert"]["id"]) == (
        "alert.acknowledged",
        people["alert_id"],
    )
    assert waited < 1.0


@own_app
def test_two_workers_an_sos_ingested_on_one_reaches_a_stream_on_the_other(gunicorn_pair):
    port, workers, people = gunicorn_pair
    stream = Stream(port, sign_in(port, people["carer"]))
    assert stream.response.status == 200
    stream.events.get(timeout=5)
    stream_worker = worker_serving(port, stream.client_port, workers)

    other = _connection_on_other_worker(port, workers, stream_worker)
    when = datetime.now(UTC).isoformat()
    other.request(
        "POST",
        "/api/v1/ingest",
        json.dumps({"readings": [{"metric": "sos", "measured_at": when}]}),
        {"Authorization": f"Bearer {people['device_token']}", "Content-Type": "application/json"},
    )
    answer = other.getresponse()
    assert (answer.status, json.loads(answer.read())["accepted"]) == (200, 1)
    first = stream.next_event(timeout=1.0)
    rest = stream.drain(quiet=1.0)
    stream.close()
    assert first is not None, "the SOS ingested on the other worker did not arrive within 1 s"
    assert "alert" in [e["event"] for e in [first, *rest]]  # the caregiver was told
