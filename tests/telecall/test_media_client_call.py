"""Two Python call clients in one visit, for real: the web (gunicorn, the real call API) and
the media process run inside a private network namespace on a database this test migrated
and seeded (a SQLite file, or a PostgreSQL database reached over its unix socket), and each
client counts the video and audio frames the other sends. A second test records the visit
with both consents and checks the Matroska file the recorder reported.
"""

import hashlib
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from datetime import time as clock
from datetime import timedelta
from pathlib import Path

import av
import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.contracts.models import Contract, ContractStatus, ServicePackage
from app.extensions import db
from app.timeutil import local_today
from telecall import availability, booking
from telecall.models import ParticipantRole, Recording, RecordingStatus, VisitType
from telecall.tokens import make_token
from tests.factories import PASSWORD
from tests.telecall.echo_probe import bars_seen, tone_hz
from tests.telecall.netns import netns  # noqa: F401 (the fixture)

ROOT = Path(__file__).resolve().parents[2]
WEB_PORT, MEDIA_PORT = 5000, 8765  # inside the private namespace nothing else listens
PG_SOCKET = "/var/run/postgresql"
pytestmark = [pytest.mark.media, pytest.mark.own_app]


def _inside_url(url: str) -> str:
    """The same database as seen from inside the namespace: PostgreSQL over its unix socket
    (its TCP port on the host's loopback is out of reach there)."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url
    inside = parsed.set(host=None, port=None).update_query_dict({"host": PG_SOCKET})
    return inside.render_as_string(hide_password=False)


def _seed(make_team, make_resident, make_resident_user) -> dict:
    """A signed resident and the team's doctor, a video consult at the first free time
    (at most half an hour away, so both may join now), and their join tokens."""
    team = make_team()
    doctor = team.lead
    resident = make_resident(neighbourhood=team.neighbourhoods[0])
    account = make_resident_user(resident)
    year = timedelta(days=365)
    db.session.add(
        Contract(
            resident=resident,
            team=team,
            package=ServicePackage.ELDERLY,
            status=ContractStatus.ACTIVE,
            start_date=local_today(),
            end_date=local_today() + year,
            active_from=local_today(),
            active_until=local_today() + year,
            requested_by_id=account.id,
        )
    )
    windows = [{"weekday": d, "start_time": clock(0), "end_time": clock(23, 40)} for d in range(7)]
    availability.set_weekly(doctor, doctor, team.id, windows)
    first = availability.free_starts(
        doctor.id, team.id, VisitType.VIDEO_CONSULT, local_today(), local_today() + timedelta(1)
    )[0]
    visit = booking.book(
        account,
        resident,
        {"doctor_id": doctor.id, "visit_type": VisitType.VIDEO_CONSULT, "starts_at": first},
    )
    db.session.flush()
    seats = {p.role: p for p in visit.participants}
    return {
        "visit_id": visit.id,
        "doctor_user": doctor.username,
        "resident": seats[ParticipantRole.RESIDENT].id,
        "doctor": seats[ParticipantRole.DOCTOR].id,
        "resident_token": make_token(seats[ParticipantRole.RESIDENT]),
        "doctor_token": make_token(seats[ParticipantRole.DOCTOR]),
    }


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """A database for this module's server: a SQLite file, or a private PostgreSQL one."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path_factory.mktemp('call') / 'call.db'}"
        return
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"kyh_media_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def served(netns, database, tmp_path_factory):  # noqa: F811
    """The web (gunicorn, two gthread workers) and the media process, inside the namespace,
    on a migrated database; each test seeds its own visit."""
    secret_key = secrets.token_hex(16)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database, SECRET_KEY=secret_key)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    folder = tmp_path_factory.mktemp("served")
    env = os.environ | {
        "KANGYANG_CONFIG": "development",
        "SECRET_KEY": secret_key,
        "DATABASE_URL": _inside_url(database),
        "PUBLIC_URL": f"http://127.0.0.1:{WEB_PORT}",
        "MEDIA_URL": f"http://127.0.0.1:{MEDIA_PORT}",
        "MEDIA_SECRET": secrets.token_urlsafe(24),
        "MEDIA_EMBEDDED": "0",
        "SCHEDULER_ENABLED": "0",
        "RECORDINGS_DIR": str(folder / "recordings"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("ALERT_BUS_URL", None)  # the host's Redis is out of reach in the namespace
    web = [sys.executable, "-m", "gunicorn", "-w", "2", "-k", "gthread", "--threads", "8"]
    web += ["--preload", "--graceful-timeout", "2", "-b", f"127.0.0.1:{WEB_PORT}", "wsgi:app"]
    media = [sys.executable, "-m", "telecall.media", "--port", MEDIA_PORT]
    logs = {"web": folder / "web.log", "media": folder / "media.log"}
    processes = []
    for name, command in (("web", web), ("media", media)):
        with logs[name].open("w") as out:
            processes.append(
                netns.popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
            )
    yield {"app": app, "env": env, "logs": logs, "recordings": folder / "recordings"}
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def world(served, make_team, make_resident, make_resident_user):
    with served["app"].app_context():
        seeded = _seed(make_team, make_resident, make_resident_user)
        db.session.commit()
        db.session.remove()
    return {**served, **seeded}


def drive(netns, world, *args) -> dict:  # noqa: F811
    command = [
        sys.executable,
        "-m",
        "tests.telecall.call_driver",
        "--base",
        f"http://127.0.0.1:{WEB_PORT}",
        "--resident-token",
        world["resident_token"],
        "--doctor-token",
        world["doctor_token"],
        *map(str, args),
    ]
    done = netns.run(
        command, cwd=ROOT, env=world["env"], capture_output=True, text=True, timeout=90
    )
    logs = "".join(f"\n--- {n}\n{p.read_text()[-2500:]}" for n, p in world["logs"].items())
    assert done.returncode == 0, done.stderr[-3000:] + logs
    return json.loads(done.stdout.strip().splitlines()[-1])


def summary(lines: list[dict]) -> dict:
    return next(line for line in lines if line["event"] == "summary")


def test_two_python_clients_in_one_visit_see_and_hear_each_other(netns, world):  # noqa: F811
    result = drive(netns, world, "--frames", "30")
    assert result["codes"] == [0, 0]
    joined = next(line for line in result["doctor"] if line["event"] == "joined")
    assert joined["peers"] == [world["resident"]]  # the newcomer offers to who is there
    for me, other in (("resident", "doctor"), ("doctor", "resident")):
        frames = summary(result[me])["peers"][str(world[other])]
        assert frames["video"] >= 30, (me, frames)  # the driver waited for these
        assert frames["audio"] >= 30, (me, frames)
        assert frames["first_video_ms"] is not None
    frames_lines = [line for line in result["resident"] if line["event"] == "frames"]
    assert frames_lines
    assert {line["peer"] for line in frames_lines} == {world["doctor"]}


def _recording(world) -> Recording | None:
    with world["app"].app_context():
        try:
            query = sa.select(Recording).where(Recording.visit_id == world["visit_id"])
            found = db.session.scalars(query).first()
            if found is not None:
                db.session.expunge(found)
            return found
        finally:
            db.session.remove()


def _finished(world, seconds: float = 15) -> Recording:
    deadline = time.monotonic() + seconds
    while True:
        found = _recording(world)
        if (
            found is not None
            and found.status != RecordingStatus.REQUESTED
            and (found.status != RecordingStatus.RECORDING)
        ):
            return found
        assert time.monotonic() < deadline, (
            f"the recording did not finish: {found and found.status}"
        )
        time.sleep(0.2)


def test_a_consented_recording_writes_one_matroska_file_and_reports_it(netns, world):  # noqa: F811
    result = drive(
        netns,
        world,
        *("--frames", "10", "--record", "--record-seconds", "3"),
        *("--visit-id", world["visit_id"], "--doctor-user", world["doctor_user"]),
        *("--password", PASSWORD),
    )
    web = result["web"]
    assert web["start"]["status"] == 202, web
    assert web["end"]["status"] == 200, web
    for me in ("resident", "doctor"):
        events = [line["event"] for line in result[me]]
        assert "ended" in events, events  # the visit's end reached both clients
        states = [line["payload"]["state"] for line in result[me] if line["event"] == "recording"]
        assert states[:1] == ["started"], result[me]
    recording = _finished(world)
    logs = "".join(p.read_text()[-2000:] for p in world["logs"].values())
    assert recording.status == RecordingStatus.FINISHED, (recording.failure, logs)
    path = world["recordings"] / recording.file_name
    assert recording.bytes == path.stat().st_size > 10_000
    assert recording.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert 2 <= float(recording.seconds) <= 15
    with av.open(str(path)) as container:
        assert container.format.name.startswith("matroska")
        kinds = sorted(s.type for s in container.streams)
        assert kinds == ["audio", "video"]
        video = list(container.decode(video=0))
        container.seek(0)
        audio = list(container.decode(audio=0))
    assert len(video) >= 20
    assert (video[-1].width, video[-1].height) == (640, 480)
    # the clients' colour bars and 440 Hz tones are in it (its first and last moments may be
    # black and silent: the recorder connects to the peers after it starts writing, and they
    # may leave before it stops)
    assert sum(bars_seen(f) >= 6 for f in video) >= 15
    assert 400 <= tone_hz(audio) <= 480
