"""Being in a call: joining with a link, who is present (the waiting room), leaving, and the
visit's own course (started when the doctor joins, completed when the doctor ends it)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.accounts.models import User
from app.audit.services import record_event
from app.errors import N_, Conflict, InvalidInput
from app.extensions import db
from app.timeutil import utcnow
from telecall import signalling
from telecall.models import (
    OPEN_STATUSES,
    ParticipantRole,
    Visit,
    VisitParticipant,
    VisitStatus,
    VisitType,
)
from telecall.tokens import JoinRefused, call_opens_at, new_nonce

PRESENT_SECONDS = 45  # a stream touches last_seen every 15 s; three misses and you are gone
CLIENTS = ("browser", "python", "kiosk")


def may_join_call(participant: VisitParticipant, now: datetime | None = None) -> None:
    now = now or utcnow()
    visit = participant.visit
    if visit.status == VisitStatus.CANCELLED:
        raise JoinRefused(N_("this visit was cancelled"))
    if visit.status in (VisitStatus.COMPLETED, VisitStatus.NO_SHOW, VisitStatus.MISSED_BY_TEAM):
        raise JoinRefused(N_("this visit is over"))
    if now < call_opens_at(participant):
        raise JoinRefused(
            N_("the visit room opens %(minutes)s minutes before the start"),
            params={"minutes": current_app.config["VISIT_JOIN_EARLY_MINUTES"]},
            opens_at=call_opens_at(participant).isoformat(),  # for the page to count down
        )


def is_present(participant: VisitParticipant, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (
        participant.last_joined_at is not None
        and (participant.left_at is None or participant.left_at < participant.last_joined_at)
        and participant.last_seen_at is not None
        and participant.last_seen_at >= now - timedelta(seconds=PRESENT_SECONDS)
    )


def present(visit: Visit, now: datetime | None = None) -> list[VisitParticipant]:
    return [p for p in visit.participants if p.removed_at is None and is_present(p, now)]


def describe(participant: VisitParticipant) -> dict:
    return {
        "id": participant.id,
        "role": participant.role.value,
        "display_name": participant.display_name,
    }


def join(participant: VisitParticipant, client: str) -> list[VisitParticipant]:
    """Mark the participant present and tell the others; returns the peers present, to
    whom the newcomer sends offers."""
    if client not in CLIENTS:
        raise InvalidInput(N_("unknown client"), field="client")
    may_join_call(participant)
    now = utcnow()
    visit = participant.visit
    peers = [p for p in present(visit, now) if p.id != participant.id]
    participant.first_joined_at = participant.first_joined_at or now
    participant.last_joined_at = participant.last_seen_at = now
    participant.client = client
    if participant.role == ParticipantRole.DOCTOR and visit.status == VisitStatus.BOOKED:
        visit.status, visit.started_at = VisitStatus.IN_PROGRESS, now
        record_event(
            "visit",
            visit.id,
            "visit.started",
            VisitStatus.BOOKED,
            VisitStatus.IN_PROGRESS,
            actor=_user(participant),
        )
    record_event(
        "visit",
        visit.id,
        "visit.joined",
        actor=_user(participant),
        data={"participant": participant.id, "role": participant.role.value, "client": client},
    )
    for peer in peers:
        signalling.send(visit, peer.id, None, "joined", {"peer": describe(participant)})
    if participant.role == ParticipantRole.RECORDER:
        from telecall import recording

        recording.recorder_joined(participant)
    return peers


def _user(participant: VisitParticipant) -> User | None:
    return db.session.get(User, participant.user_id) if participant.user_id else None


def leave(participant: VisitParticipant) -> None:
    now = utcnow()
    if participant.left_at and participant.left_at >= (participant.last_joined_at or now):
        return  # already gone
    participant.left_at = now
    record_event(
        "visit",
        participant.visit_id,
        "visit.left",
        actor=_user(participant),
        data={"participant": participant.id, "role": participant.role.value},
    )
    for peer in present(participant.visit, now):
        if peer.id != participant.id:
            signalling.send(participant.visit, peer.id, None, "left", {"peer_id": participant.id})


def touch(participant_id: int) -> None:
    """The participant's stream is still open (called from the stream's heartbeat)."""
    db.session.execute(
        sa.update(VisitParticipant)
        .where(VisitParticipant.id == participant_id)
        .values(last_seen_at=utcnow())
    )


def invite(actor: User, visit: Visit, role: ParticipantRole, name: str, user: User | None):
    from telecall import notices
    from telecall.booking import _add_participant

    if visit.status not in OPEN_STATUSES:
        raise Conflict(N_("only an open visit takes more participants"), current=visit.status.value)
    if role not in (
        ParticipantRole.CAREGIVER,
        ParticipantRole.INTERPRETER,
        ParticipantRole.SPECIALIST,
    ):
        raise InvalidInput(N_("invite a caregiver, an interpreter or a specialist"), field="role")
    active = [
        p for p in visit.participants if p.removed_at is None and p.role != ParticipantRole.RECORDER
    ]
    if len(active) >= 4:
        raise Conflict(N_("a visit takes at most four participants"), current=visit.status.value)
    name = (name or (user.display_name if user else "")).strip()
    if not name:
        raise InvalidInput(N_("give the participant's name"), field="display_name")
    participant = _add_participant(visit, role, name[:100], user, by=actor)
    db.session.flush()
    record_event(
        "visit",
        visit.id,
        "visit.invited",
        actor=actor,
        data={"participant": participant.id, "role": role.value},
    )
    if user is not None:
        notices.invited(visit, participant, user)
    return participant


def remove(actor: User, participant: VisitParticipant) -> None:
    if participant.role in (ParticipantRole.RESIDENT, ParticipantRole.DOCTOR):
        raise InvalidInput(
            N_("the resident and the doctor cannot be removed"), field="participant_id"
        )
    if participant.removed_at is None:
        participant.removed_at = utcnow()
        participant.token_nonce = new_nonce()
        record_event(
            "visit",
            participant.visit_id,
            "visit.participant_removed",
            actor=actor,
            data={"participant": participant.id},
        )
        leave(participant)


def new_link(actor: User, participant: VisitParticipant) -> VisitParticipant:
    participant.token_nonce = new_nonce()
    record_event(
        "visit",
        participant.visit_id,
        "visit.link_renewed",
        actor=actor,
        data={"participant": participant.id},
    )
    return participant


def end(actor: User | None, visit: Visit, now: datetime | None = None) -> Visit:
    """The doctor ends the visit (or the platform, once its time is long over)."""
    from telecall.followup_link import count_toward_schedule

    if visit.status != VisitStatus.IN_PROGRESS:
        raise Conflict(N_("only a visit in progress can be ended"), current=visit.status.value)
    now = now or utcnow()
    visit.status, visit.ended_at = VisitStatus.COMPLETED, now
    record_event(
        "visit",
        visit.id,
        "visit.completed",
        VisitStatus.IN_PROGRESS,
        VisitStatus.COMPLETED,
        actor=actor,
    )
    for participant in present(visit, now):
        signalling.send(visit, participant.id, None, "ended", {})
    if visit.visit_type == VisitType.REMOTE_FOLLOW_UP:
        count_toward_schedule(visit, actor)
    from telecall import recording

    recording.stop_all(visit, actor)
    return visit


def seconds_in_call(visit: Visit) -> int | None:
    if visit.started_at and visit.ended_at:
        return int((visit.ended_at - visit.started_at).total_seconds())
    return None
