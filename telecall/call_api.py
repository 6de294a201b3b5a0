"""The call API: what a peer's client (the browser's call page, the Python client, the media
process's recorder) uses during a call. Every request carries the participant's join token in
the `X-Join-Token` header; no sign-in is needed, the token is the credential for one visit."""

from flask import Response, current_app, request
from flask_smorest import Blueprint

from app.errors import N_
from app.extensions import db
from telecall import calls, ice, recording, records, signalling
from telecall.models import VisitParticipant
from telecall.schemas import (
    JoinSchema,
    QualitySampleSchema,
    RecordingFinishedSchema,
    RecordingSchema,
    SignalSchema,
)
from telecall.tokens import JoinRefused, read_token

blp = Blueprint("call_api", __name__, url_prefix="/api/v1/call", description="Call signalling")


def _participant() -> VisitParticipant:
    token = request.headers.get("X-Join-Token", "")
    if not token:
        raise JoinRefused(N_("send the join link's token in the X-Join-Token header"))
    return read_token(token)


def _joined() -> VisitParticipant:
    participant = _participant()
    calls.may_join_call(participant)
    return participant


@blp.post("/join")
@blp.arguments(JoinSchema)
def join(args):
    """Enter the visit room: the peers present (send each an offer) and the ICE servers"""
    participant = _participant()
    peers = calls.join(participant, args["client"])
    visit = participant.visit
    return {
        "participant": calls.describe(participant),
        "visit": {
            "id": visit.id,
            "visit_type": visit.visit_type.value,
            "status": visit.status.value,
            "starts_at": visit.starts_at.isoformat(),
            "ends_at": visit.ends_at.isoformat(),
        },
        "ice_servers": ice.servers_for(participant.id),
        "peers": [calls.describe(p) for p in peers],
        "after": signalling.last_id(participant.id),
    }


@blp.get("/events")
def events():
    """The participant's messages as Server-Sent Events (offers, answers, joined, left, ended)"""
    participant = _joined()
    after = request.headers.get("Last-Event-ID") or request.args.get("after") or "0"
    cursor = signalling.Cursor(int(after) if after.isdigit() else 0)
    cursor.remember_before(participant.id)
    body = signalling.events(current_app._get_current_object(), participant.id, cursor)
    db.session.commit()  # the stream holds no transaction while it is open
    return Response(
        body,
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@blp.post("/signal")
@blp.arguments(SignalSchema)
def signal(args):
    """Pass an offer, answer or ICE candidate to another participant of the visit"""
    sent = signalling.relay(_joined(), args)
    return {"id": sent.id}, 201


@blp.post("/leave")
@blp.response(204)
def leave():
    """Leave the call (the page sends this when it closes)"""
    calls.leave(_participant())


@blp.post("/quality")
@blp.arguments(QualitySampleSchema)
@blp.response(201)
def quality(args):
    """A sample of the connection's quality: round-trip time, loss, bitrate"""
    records.add_quality(_joined(), args)


@blp.post("/consent")
@blp.response(201)
def consent():
    """Agree to this visit being recorded (the resident and the doctor each)"""
    recording.give_consent(_participant())


@blp.delete("/consent")
@blp.response(204)
def withdraw():
    """Withdraw the consent to recording; a running recording stops"""
    recording.withdraw_consent(_participant())


@blp.post("/recording-finished")
@blp.arguments(RecordingFinishedSchema)
@blp.response(200, RecordingSchema)
def recording_finished(args):
    """The recorder reports the finished file"""
    return recording.finished(_participant(), args)
