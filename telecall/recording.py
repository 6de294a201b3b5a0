"""Consented recording of a visit. Only when the resident and the doctor have both agreed
(each a RecordingConsent row) may the doctor start it; the media process then joins the call
as a `recorder` participant, writes every track into one Matroska file under RECORDINGS_DIR
and reports the file when it stops. Files are deleted RECORDING_RETENTION_DAYS later.

The request to the media process goes out after the transaction commits (the recorder's join
link must exist for it), from a short thread so the doctor's click is not held up.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, current_app

from app.accounts.models import User
from app.audit.services import record_event
from app.errors import N_, Conflict, Forbidden, InvalidInput
from app.extensions import db
from app.timeutil import local_today, utcnow
from telecall import media_link, signalling
from telecall.models import (
    ParticipantRole,
    Recording,
    RecordingConsent,
    RecordingStatus,
    Visit,
    VisitParticipant,
    VisitStatus,
)
from telecall.tokens import make_token

log = logging.getLogger(__name__)
CONSENTING = (ParticipantRole.RESIDENT, ParticipantRole.DOCTOR)
_PENDING = "telecall_media_requests"
LIVE = (RecordingStatus.REQUESTED, RecordingStatus.RECORDING)


def consents(visit: Visit) -> dict[ParticipantRole, RecordingConsent]:
    rows = db.session.scalars(
        sa.select(RecordingConsent).where(
            RecordingConsent.visit_id == visit.id, RecordingConsent.withdrawn_at.is_(None)
        )
    )
    return {row.role: row for row in rows}


def give_consent(participant: VisitParticipant) -> RecordingConsent:
    if participant.role not in CONSENTING:
        raise Forbidden(N_("only the resident and the doctor consent to recording"))
    row = db.session.scalars(
        sa.select(RecordingConsent).where(
            RecordingConsent.visit_id == participant.visit_id,
            RecordingConsent.role == participant.role,
        )
    ).first()
    if row is None:
        row = RecordingConsent(
            visit_id=participant.visit_id, role=participant.role, participant_id=participant.id
        )
        db.session.add(row)
    row.given_at, row.withdrawn_at, row.participant_id = utcnow(), None, participant.id
    db.session.flush()
    record_event(
        "visit",
        participant.visit_id,
        "visit.recording_consent_given",
        data={"role": participant.role.value},
    )
    return row


def withdraw_consent(participant: VisitParticipant) -> None:
    row = consents(participant.visit).get(participant.role)
    if row is None:
        return
    row.withdrawn_at = utcnow()
    record_event(
        "visit",
        participant.visit_id,
        "visit.recording_consent_withdrawn",
        data={"role": participant.role.value},
    )
    stop_all(participant.visit, None)


def live_recording(visit: Visit) -> Recording | None:
    return db.session.scalars(
        sa.select(Recording).where(Recording.visit_id == visit.id, Recording.status.in_(LIVE))
    ).first()


def start(actor: User, visit: Visit) -> Recording:
    from telecall.booking import _add_participant

    if visit.status != VisitStatus.IN_PROGRESS:
        raise Conflict(N_("recording needs the visit in progress"), current=visit.status.value)
    missing = [r.value for r in CONSENTING if r not in consents(visit)]
    if missing:
        raise Conflict(
            N_("recording needs the consent of the resident and the doctor"),
            field="consent",
            missing=missing,
        )
    if live_recording(visit):
        raise Conflict(N_("this visit is being recorded already"), current="recording")
    recorder = _add_participant(visit, ParticipantRole.RECORDER, "recorder", None, by=actor)
    db.session.flush()
    recording = Recording(
        visit_id=visit.id,
        recorder_participant_id=recorder.id,
        file_name=f"visit-{visit.id}-{recorder.id}.mkv",
        started_by_id=actor.id,
        purge_after=local_today() + timedelta(days=current_app.config["RECORDING_RETENTION_DAYS"]),
    )
    db.session.add(recording)
    db.session.flush()
    record_event(
        "visit", visit.id, "visit.recording_started", actor=actor, data={"recording": recording.id}
    )
    _after_commit(recording, recorder)
    return recording


def path_of(recording: Recording) -> Path:
    return Path(current_app.config["RECORDINGS_DIR"]) / recording.file_name


def _after_commit(recording: Recording, recorder: VisitParticipant) -> None:
    request = {
        "recording_id": recording.id,
        "join_token": make_token(recorder),
        "base_url": current_app.config.get("MEDIA_CALLBACK_URL")
        or current_app.config["PUBLIC_URL"],
        "path": str(path_of(recording)),
    }
    db.session.info.setdefault(_PENDING, []).append((current_app._get_current_object(), request))


@sa.event.listens_for(sa.orm.Session, "after_commit")
def _dispatch(session) -> None:
    if session.in_nested_transaction():
        return
    for app, request in session.info.pop(_PENDING, []):
        threading.Thread(target=_ask_media, args=(app, request), daemon=True).start()


@sa.event.listens_for(sa.orm.Session, "after_rollback")
def _drop(session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_PENDING, None)


def _ask_media(app: Flask, request: dict) -> None:
    try:
        media_link.post(app.config, "/recordings", request, timeout=10)
    except Exception as exc:  # noqa: BLE001 (any failure: the recording did not start)
        log.warning(
            "media process refused recording %s: %s", request["recording_id"], type(exc).__name__
        )
        with app.app_context():
            fail(db.session.get(Recording, request["recording_id"]), "media process unreachable")
            db.session.commit()


def fail(recording: Recording, why: str) -> None:
    if recording.status in LIVE:
        recording.status, recording.failure = RecordingStatus.FAILED, why[:300]
        record_event(
            "visit", recording.visit_id, "visit.recording_failed", data={"recording": recording.id}
        )


def recorder_joined(participant: VisitParticipant) -> None:
    recording = _of_recorder(participant)
    if recording and recording.status == RecordingStatus.REQUESTED:
        recording.status = RecordingStatus.RECORDING
        for peer in participant.visit.participants:
            if peer.id != participant.id and peer.removed_at is None:
                signalling.send(participant.visit, peer.id, None, "recording", {"state": "started"})


def _of_recorder(participant: VisitParticipant) -> Recording | None:
    return db.session.scalars(
        sa.select(Recording).where(Recording.recorder_participant_id == participant.id)
    ).first()


def stop(actor: User, visit: Visit) -> None:
    if live_recording(visit) is None:
        raise Conflict(N_("this visit is not being recorded"), current=visit.status.value)
    stop_all(visit, actor)


def stop_all(visit: Visit, actor: User | None) -> None:
    """Tell the recorder to finish; it reports the file, then the recording is finished."""
    recording = live_recording(visit)
    if recording is None:
        return
    signalling.send(visit, recording.recorder_participant_id, None, "ended", {})
    record_event(
        "visit", visit.id, "visit.recording_stopped", actor=actor, data={"recording": recording.id}
    )
    for peer in visit.participants:
        if peer.role != ParticipantRole.RECORDER and peer.removed_at is None:
            signalling.send(visit, peer.id, None, "recording", {"state": "stopped"})


def finished(participant: VisitParticipant, data: dict) -> Recording:
    recording = _of_recorder(participant)
    if participant.role != ParticipantRole.RECORDER or recording is None:
        raise Forbidden(N_("only the recorder reports a recording"))
    if recording.status not in LIVE:
        raise Conflict(N_("this recording is not running"), current=recording.status.value)
    if not path_of(recording).is_file():
        raise InvalidInput(N_("the recording file is not there"), field="path")
    recording.status, recording.finished_at = RecordingStatus.FINISHED, utcnow()
    recording.bytes, recording.sha256, recording.seconds = (
        data["bytes"],
        data["sha256"],
        data["seconds"],
    )
    record_event(
        "visit",
        recording.visit_id,
        "visit.recording_finished",
        data={"recording": recording.id, "bytes": data["bytes"]},
    )
    return recording


STALL = timedelta(minutes=2)  # the recorder joins within seconds when the media process is up


def fail_stalled(now=None) -> int:
    """Recordings whose recorder never joined: failed, so the doctor may start another."""
    since = (now or utcnow()) - STALL
    rows = db.session.scalars(
        sa.select(Recording).where(
            Recording.status == RecordingStatus.REQUESTED, Recording.started_at < since
        )
    ).all()
    for row in rows:
        fail(row, "the recorder did not join")
    return len(rows)


def purge_expired(today=None) -> int:
    """Delete recordings past their retention date (the nightly job)."""
    today = today or local_today()
    rows = db.session.scalars(
        sa.select(Recording).where(
            Recording.purge_after < today, Recording.status != RecordingStatus.PURGED
        )
    ).all()
    for recording in rows:
        path_of(recording).unlink(missing_ok=True)
        recording.status = RecordingStatus.PURGED
        record_event(
            "visit", recording.visit_id, "visit.recording_purged", data={"recording": recording.id}
        )
    return len(rows)
