"""Consented recording, from the web's side. The media process is stood in for by a plain
HTTP listener on 127.0.0.1 that keeps what it is sent (the media helper's tests run the real
one): without both consents the doctor is refused; with both, a recorder participant and a
Recording row are made and the media request goes out after the commit; an unreachable
media process marks the recording failed; the recorder joining starts it and tells the
others; withdrawn consent stops it; the finished report needs the file; old files are purged.
"""

import json
import threading
import time
import urllib.request
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from werkzeug.serving import make_server

from app import create_app
from app.accounts.models import User
from app.extensions import db
from app.residents.models import Resident
from app.timeutil import local_today
from telecall import booking, jobs, recording, tokens
from telecall.models import (
    ParticipantRole,
    Recording,
    RecordingStatus,
    Signal,
    Visit,
    VisitParticipant,
    VisitType,
)
from tests.factories import PASSWORD
from tests.telecall.conftest import local_at
from tests.telecall.test_booking_race import population
from tests.telecall.test_call_api import DOCTOR, EventReader, call, join, token_of, under_way

SHA = "ab" * 32


class _MediaHandler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        seen = self.server.on_request(body) if self.server.on_request else None
        self.server.received.append((self.path, dict(self.headers), body, seen))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class MediaStandIn:
    """A listener where the media process would be; `on_request` may act as it would."""

    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _MediaHandler)
        self.server.received, self.server.on_request = [], None
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def received(self) -> list:
        return self.server.received

    def wait_for(self, count: int, timeout: float = 10) -> list:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def media(app, monkeypatch, tmp_path):
    stand_in = MediaStandIn()
    monkeypatch.setitem(app.config, "MEDIA_URL", stand_in.url)
    monkeypatch.setitem(app.config, "RECORDINGS_DIR", str(tmp_path))
    yield stand_in
    stand_in.stop()


def in_call(client, booked, consenting=("resident", "doctor")):
    """A visit under way with the resident and the doctor in it, and their consents."""
    visit = under_way(booked())
    join(client, token_of(visit))
    join(client, token_of(visit, DOCTOR))
    for role in consenting:
        assert call(client, token_of(visit, ParticipantRole(role)), "consent").status_code == 201
    return visit


def start(client, visit, headers):
    """Ask to record, and wait for the thread that tells the media process to finish."""
    before = set(threading.enumerate())
    answer = client.post(f"/api/v1/visits/{visit.id}/recordings", headers=headers)
    for thread in set(threading.enumerate()) - before:
        for _ in range(500):
            try:  # listed as soon as start() is called, joinable once it runs
                thread.join(timeout=15)
                break
            except RuntimeError:
                time.sleep(0.01)
    return answer


def recorder_of(visit) -> VisitParticipant:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(VisitParticipant).where(
            VisitParticipant.visit_id == visit.id,
            VisitParticipant.role == ParticipantRole.RECORDER,
        )
    ).one()


@pytest.mark.parametrize(
    ("consenting", "missing"),
    [((), ["resident", "doctor"]), (("resident",), ["doctor"]), (("doctor",), ["resident"])],
)
def test_recording_without_both_consents_is_refused(
    client, booked, clinic, api_token, media, consenting, missing
):
    visit = in_call(client, booked, consenting)
    answer = start(client, visit, api_token(clinic["doctor"]))
    assert answer.status_code == 409
    body = answer.get_json()
    assert list(body["errors"]["json"]) == ["consent"]
    assert body["missing"] == missing
    assert db.session.scalars(sa.select(Recording)).all() == []
    assert [p.role for p in visit.participants if p.role == ParticipantRole.RECORDER] == []
    assert media.received == []


def test_with_both_consents_the_media_process_is_asked_to_record(
    client, booked, clinic, api_token, media, app
):
    visit = in_call(client, booked)
    answer = start(client, visit, api_token(clinic["doctor"]))
    assert answer.status_code == 202, answer.get_json()
    body = answer.get_json()
    assert body["status"] == "requested"
    assert body["purge_after"] == (local_today() + timedelta(days=90)).isoformat()
    [(path, headers, sent, _)] = media.wait_for(1)
    assert path == "/recordings"
    assert headers["X-Media-Secret"] == app.config["MEDIA_SECRET"]
    assert sent["recording_id"] == body["id"]
    recorder = recorder_of(visit)
    assert tokens.read_token(sent["join_token"]).id == recorder.id
    assert sent["path"] == str(
        Path(app.config["RECORDINGS_DIR"]) / f"visit-{visit.id}-{recorder.id}.mkv"
    )
    assert sent["base_url"] == app.config["PUBLIC_URL"]
    # the record page shows the recording, not the recorder as a person in the visit
    record = client.get(f"/api/v1/visits/{visit.id}", headers=api_token(clinic["doctor"]))
    assert [r["status"] for r in record.get_json()["recordings"]] == ["requested"]
    assert "recorder" not in [p["role"] for p in record.get_json()["participants"]]
    again = start(client, visit, api_token(clinic["doctor"]))
    assert again.status_code == 409  # one recording at a time


def test_an_unreachable_media_process_marks_the_recording_failed(
    client, booked, clinic, api_token, media, monkeypatch, app
):
    media.stop()  # nothing listens there any more
    visit = in_call(client, booked)
    answer = start(client, visit, api_token(clinic["doctor"]))
    assert answer.status_code == 202
    db.session.expire_all()
    recording = db.session.get(Recording, answer.get_json()["id"])
    assert recording.status == RecordingStatus.FAILED
    assert recording.failure == "media process unreachable"


def test_a_recorder_that_never_joins_fails_the_recording_so_another_can_start(
    client, booked, clinic, api_token, media
):
    visit = in_call(client, booked)
    first = start(client, visit, api_token(clinic["doctor"])).get_json()
    media.wait_for(1)  # asked, but its recorder never joins
    assert jobs.watch_recordings() == {"failed": 0}  # still within its two minutes
    db.session.expire_all()
    stalled = db.session.get(Recording, first["id"])
    later = stalled.started_at + recording.STALL + timedelta(seconds=1)
    assert recording.fail_stalled(now=later) == 1
    assert (stalled.status, stalled.failure) == (
        RecordingStatus.FAILED,
        "the recorder did not join",
    )
    assert start(client, visit, api_token(clinic["doctor"])).status_code == 202


def test_the_recorder_joining_starts_it_and_withdrawn_consent_stops_it(
    client, booked, clinic, api_token, media
):
    visit = in_call(client, booked)
    resident_after = join(client, token_of(visit))["after"]
    assert start(client, visit, api_token(clinic["doctor"])).status_code == 202
    recorder_token = media.wait_for(1)[0][2]["join_token"]
    recorder = join(client, recorder_token, "python")
    assert recorder["participant"]["role"] == "recorder"
    assert {p["role"] for p in recorder["peers"]} == {"resident", "doctor"}
    db.session.expire_all()
    recording = db.session.scalars(sa.select(Recording)).one()
    assert recording.status == RecordingStatus.RECORDING

    withdrawn = client.delete("/api/v1/call/consent", headers={"X-Join-Token": token_of(visit)})
    assert withdrawn.status_code == 204
    resident_stream = EventReader(client, token_of(visit), after=resident_after)
    told = [(m["kind"], m["payload"]) for m in resident_stream.take(3)]
    resident_stream.close()
    assert told == [
        ("joined", {"peer": recorder["participant"]}),
        ("recording", {"state": "started"}),
        ("recording", {"state": "stopped"}),
    ]
    recorder_stream = EventReader(client, recorder_token, after=recorder["after"])
    assert [m["kind"] for m in recorder_stream.take(1)] == ["ended"]
    recorder_stream.close()
    # consent is gone: a new recording is refused until the resident agrees again
    refused = start(client, visit, api_token(clinic["doctor"]))
    assert (refused.status_code, refused.get_json()["missing"]) == (409, ["resident"])


def test_the_finished_report_needs_the_file(client, booked, clinic, api_token, media, tmp_path):
    visit = in_call(client, booked)
    assert start(client, visit, api_token(clinic["doctor"])).status_code == 202
    recorder_token = media.wait_for(1)[0][2]["join_token"]
    join(client, recorder_token, "python")
    report = {"bytes": 5, "sha256": SHA, "seconds": 61.5}
    headers = {"X-Join-Token": recorder_token}
    url = "/api/v1/call/recording-finished"
    missing = client.post(url, json=report, headers=headers)
    assert (missing.status_code, list(missing.get_json()["errors"]["json"])) == (422, ["path"])
    not_recorder = client.post(url, json=report, headers={"X-Join-Token": token_of(visit, DOCTOR)})
    assert not_recorder.status_code == 403

    recording = db.session.scalars(sa.select(Recording)).one()
    (tmp_path / recording.file_name).write_bytes(b"\x1a\x45\xdf\xa3\x00")
    done = client.post(url, json=report, headers=headers)
    assert done.status_code == 200, done.get_json()
    assert (done.get_json()["status"], done.get_json()["bytes"], done.get_json()["sha256"]) == (
        "finished",
        5,
        SHA,
    )
    twice = client.post(url, json=report, headers=headers)
    assert twice.status_code == 409


def test_the_purge_job_deletes_files_past_their_retention(
    client, booked, clinic, api_token, media, tmp_path
):
    visit = in_call(client, booked)
    doctor = api_token(clinic["doctor"])
    first = start(client, visit, doctor).get_json()
    client.delete(f"/api/v1/visits/{visit.id}/recordings", headers=doctor)
    db.session.get(Recording, first["id"]).status = RecordingStatus.FINISHED
    second = start(client, visit, doctor).get_json()
    old, recent = db.session.get(Recording, first["id"]), db.session.get(Recording, second["id"])
    for row in (old, recent):
        (tmp_path / row.file_name).write_bytes(b"mkv")
    old.purge_after = local_today() - timedelta(days=1)  # 90 days have gone by
    recent.purge_after = local_today()  # its last day
    assert jobs.purge_recordings() == {"purged": 1}
    assert not (tmp_path / old.file_name).exists()
    assert (tmp_path / recent.file_name).exists()
    assert (old.status, recent.status) == (RecordingStatus.PURGED, RecordingStatus.REQUESTED)
    assert jobs.purge_recordings() == {"purged": 0}


# --- after the commit, against a real server ---------------------------------------------


def _http(method: str, url: str, body=None, headers=None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 (a local http address)
        url, data=data, method=method, headers=headers or {}
    )
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (local)
            text = answer.read()
            return answer.status, json.loads(text) if text else {}
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"{}")


@pytest.fixture
def live(
    fresh_database, make_team, make_resident, make_resident_user, make_link, make_contract, tmp_path
):
    stand_in = MediaStandIn()
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=fresh_database,
        MEDIA_URL=stand_in.url,
        RECORDINGS_DIR=str(tmp_path),
        RATELIMIT_ENABLED=False,
    )
    with app.app_context():
        upgrade()
        world = population(make_team, make_resident, make_resident_user, make_link, make_contract)
        resident = db.session.get(Resident, world["resident"])
        visit = booking.book(
            db.session.get(User, world["bookers"][0]),
            resident,
            {
                "doctor_id": world["doctor"],
                "visit_type": VisitType.VIDEO_CONSULT,
                "starts_at": local_at(1, 9),
            },
        )
        under_way(visit)
        world["visit"] = visit.id
        world["tokens"] = {
            role: token_of(visit, role) for role in (ParticipantRole.RESIDENT, DOCTOR)
        }
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["MEDIA_CALLBACK_URL"] = base
    yield app, base, stand_in, world
    server.shutdown()
    stand_in.stop()
    with app.app_context():
        db.engine.dispose()


@pytest.mark.own_app
def test_the_media_request_goes_out_after_the_commit(live):
    app, base, media_stand_in, world = live
    checker = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])

    def act_as_the_media_process(body):
        # what the recorder sees the moment the request arrives
        with checker.connect().execution_options(sqlite_deferred=True) as conn:
            rows = conn.execute(
                sa.select(Recording.id).where(Recording.id == body["recording_id"])
            ).all()
        joined = _http(
            "POST",
            body["base_url"] + "/api/v1/call/join",
            {"client": "python"},
            {"X-Join-Token": body["join_token"]},
        )
        return len(rows), joined

    media_stand_in.server.on_request = act_as_the_media_process
    for role in (ParticipantRole.RESIDENT, DOCTOR):
        token = world["tokens"][role]
        assert _http("POST", base + "/api/v1/call/join", {}, {"X-Join-Token": token})[0] == 200
        assert _http("POST", base + "/api/v1/call/consent", {}, {"X-Join-Token": token})[0] == 201
    status, bearer = _http(
        "POST",
        base + "/api/v1/auth/token",
        {"username": world["doctor_username"], "password": PASSWORD},
    )
    assert status == 201
    status, recording = _http(
        "POST",
        f"{base}/api/v1/visits/{world['visit']}/recordings",
        {},
        {"Authorization": f"Bearer {bearer['access_token']}"},
    )
    assert status == 202, recording
    [(_, _, _, (rows_seen, (join_status, joined)))] = media_stand_in.wait_for(1)
    assert rows_seen == 1  # committed before the media process heard of it
    assert join_status == 200, joined
    assert joined["participant"]["role"] == "recorder"
    with app.app_context():
        assert db.session.get(Recording, recording["id"]).status == RecordingStatus.RECORDING
        told = db.session.scalars(
            sa.select(Signal).where(Signal.visit_id == world["visit"], Signal.kind == "recording")
        ).all()
        assert sorted(s.to_participant_id for s in told) == sorted(
            p.id
            for p in db.session.get(Visit, world["visit"]).participants
            if p.role != ParticipantRole.RECORDER
        )
        assert {s.payload["state"] for s in told} == {"started"}
    checker.dispose()
