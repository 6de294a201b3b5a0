"""Join links: one per participant of one visit, unguessable and expiring.

The token is itsdangerous-signed `[participant id, nonce]` with a salt of its own. The nonce
is stored on the participant, so giving out a new link (or removing the participant) revokes
every earlier one. How long a link works is read from the visit when it is used, not from
the token: a rescheduled visit keeps its links, which then follow the new time.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

from app.errors import N_, DomainError
from app.extensions import db
from app.timeutil import utcnow
from telecall.models import VisitParticipant

SALT = "kangyang.visit-join.v1"


class JoinRefused(DomainError):
    """A join link that cannot be used: the message says why, in words for the resident."""

    status = 403


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(participant: VisitParticipant) -> str:
    return _serializer().dumps([participant.id, participant.token_nonce])


def join_path(participant: VisitParticipant) -> str:
    return f"/v/{make_token(participant)}"


def join_url(participant: VisitParticipant) -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/") + join_path(participant)


def participant_of(token: str) -> VisitParticipant:
    """The participant of a genuine, unrevoked link, whether or not it has expired."""
    try:
        payload = _serializer().loads(token)
    except BadData:
        raise JoinRefused(N_("this link is not valid")) from None
    if not (isinstance(payload, list) and len(payload) == 2 and type(payload[0]) is int):
        raise JoinRefused(N_("this link is not valid"))
    participant = db.session.get(VisitParticipant, payload[0])
    # Removal also changes the nonce: look at it first, so the removed person is told why.
    if participant is not None and participant.removed_at is not None:
        raise JoinRefused(N_("you were removed from this visit"))
    if participant is None or not secrets.compare_digest(str(payload[1]), participant.token_nonce):
        raise JoinRefused(N_("this link is no longer valid: ask for a new one"))
    return participant


def link_closes_at(participant: VisitParticipant) -> datetime:
    grace = timedelta(minutes=current_app.config["VISIT_JOIN_GRACE_MINUTES"])
    return participant.visit.ends_at + grace


def call_opens_at(participant: VisitParticipant) -> datetime:
    early = timedelta(minutes=current_app.config["VISIT_JOIN_EARLY_MINUTES"])
    return participant.visit.starts_at - early


def read_token(token: str, now: datetime | None = None) -> VisitParticipant:
    """The participant a link belongs to, if the link still works (the device check is open
    until the visit's link closes; joining the call has its own window, see may_join_call)."""
    participant = participant_of(token)
    if (now or utcnow()) > link_closes_at(participant):
        raise JoinRefused(N_("this link has expired: the visit is over"))
    return participant
