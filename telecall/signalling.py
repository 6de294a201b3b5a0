"""Signalling between the peers of a call: messages stored in the database (so any gunicorn
worker's stream can read them) and read by each participant's Server-Sent-Events stream.

The bus (in-process, or Redis with several workers) only wakes a stream; a stream also looks
again every POLL_SECONDS, so a lost wake-up costs at most that long. As with the alert stream,
a late commit (a lower id committed after a higher one on PostgreSQL) is caught by looking
LOOKBACK back for messages not sent yet.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask

from app.alerts import bus
from app.errors import N_, InvalidInput
from app.extensions import db
from app.timeutil import utcnow
from telecall.models import Signal, Visit, VisitParticipant

CHANNEL = "kangyang:calls"
CLIENT_KINDS = ("offer", "answer", "candidate")
MAX_PAYLOAD = 64 * 1024  # an SDP with every candidate is a few kilobytes
LOOKBACK = timedelta(seconds=30)
POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15
MAX_SECONDS = 600
RETRY_MS = 2000


def send(visit: Visit, to_id: int, from_id: int | None, kind: str, payload: dict) -> Signal:
    signal = Signal(
        visit_id=visit.id,
        to_participant_id=to_id,
        from_participant_id=from_id,
        kind=kind,
        payload=payload,
    )
    db.session.add(signal)
    db.session.flush()
    bus.ping_after_commit([to_id], CHANNEL)
    return signal


def relay(sender: VisitParticipant, data: dict) -> Signal:
    """A message from one peer's client to another peer of the same visit."""
    if data["kind"] not in CLIENT_KINDS:
        raise InvalidInput(N_("unknown signal kind"), field="kind")
    if len(json.dumps(data["payload"])) > MAX_PAYLOAD:
        raise InvalidInput(N_("the message is too large"), field="payload")
    target = db.session.get(VisitParticipant, data["to"])
    if target is None or target.visit_id != sender.visit_id or target.removed_at is not None:
        raise InvalidInput(N_("no such participant in this visit"), field="to")
    return send(sender.visit, target.id, sender.id, data["kind"], data["payload"])


def last_id(participant_id: int) -> int:
    query = sa.select(sa.func.max(Signal.id)).where(Signal.to_participant_id == participant_id)
    return db.session.scalar(query) or 0


class Cursor:
    def __init__(self, after: int):
        self.after = after
        self.recent: dict[int, datetime] = {}  # ids sent within LOOKBACK

    def unsent(self, participant_id: int, now: datetime) -> list[Signal]:
        for key in [k for k, at in self.recent.items() if at < now - LOOKBACK]:
            del self.recent[key]
        late = Signal.created_at >= now - LOOKBACK
        if self.recent:
            late = sa.and_(late, Signal.id.not_in(list(self.recent)))
        query = (
            sa.select(Signal)
            .where(Signal.to_participant_id == participant_id, sa.or_(Signal.id > self.after, late))
            .order_by(Signal.id)
            .limit(100)
        )
        found = list(db.session.scalars(query))
        for signal in found:
            self.recent[signal.id] = signal.created_at
            self.after = max(self.after, signal.id)
        return found

    def remember_before(self, participant_id: int) -> None:
        """Messages up to the cursor were seen by an earlier connection."""
        query = sa.select(Signal.id, Signal.created_at).where(
            Signal.to_participant_id == participant_id,
            Signal.id <= self.after,
            Signal.created_at >= utcnow() - LOOKBACK,
        )
        self.recent.update(db.session.execute(query).all())


def frame(signal: Signal) -> str:
    data = {
        "id": signal.id,
        "from": signal.from_participant_id,
        "kind": signal.kind,
        "payload": signal.payload,
    }
    return f"id: {signal.id}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _look(app: Flask, participant_id: int, cursor: Cursor, touch: bool) -> list[str] | None:
    from telecall.calls import touch as touch_presence

    with app.app_context():
        try:
            if touch:
                touch_presence(participant_id)
                db.session.commit()
            # only reads from here: on SQLite, no write lock to queue for behind the writers
            db.session.connection(execution_options={"sqlite_deferred": True})
            participant = db.session.get(VisitParticipant, participant_id)
            if participant is None or participant.removed_at is not None:
                return None
            return [frame(s) for s in cursor.unsent(participant_id, utcnow())]
        finally:
            db.session.remove()  # nothing held while the stream waits


def events(app: Flask, participant_id: int, cursor: Cursor):
    """The stream's body: messages as they come, a comment on each heartbeat."""
    with app.app_context():
        live = bus.get_bus(CHANNEL)
    yield f"retry: {RETRY_MS}\n: {cursor.after}\n\n"
    ends = time.monotonic() + MAX_SECONDS
    next_touch = time.monotonic() + HEARTBEAT_SECONDS
    seen = live.version(participant_id)
    while time.monotonic() < ends:
        touch = time.monotonic() >= next_touch
        frames = _look(app, participant_id, cursor, touch)
        if frames is None:
            return
        if touch:
            next_touch = time.monotonic() + HEARTBEAT_SECONDS
            yield ": keep-alive\n\n"
        if frames:
            yield "".join(frames)
        seen = live.wait(participant_id, seen, timeout=POLL_SECONDS)
