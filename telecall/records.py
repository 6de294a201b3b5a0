"""The visit record: who may see a visit and act on it, the lists people work from, what the
doctor writes (notes, the follow-up form) and the call quality the browsers sampled."""

from __future__ import annotations

import statistics
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from app.accounts.models import Role, User
from app.audit.services import record_access, record_event
from app.errors import N_, Conflict, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.policy import can_see_resident, is_team_member, require_admin_reason, visible_resident_ids
from app.timeutil import utcnow
from telecall.availability import CLINICIAN_ROLES, local_zone
from telecall.calls import is_present, seconds_in_call
from telecall.models import (
    OPEN_STATUSES,
    ParticipantRole,
    QualitySample,
    Recording,
    Visit,
    VisitParticipant,
    VisitStatus,
)
from telecall.recording import consents


def _is_participant_user(user: User, visit: Visit) -> bool:
    return any(p.user_id == user.id and p.removed_at is None for p in visit.participants)


def may_see(user: User, visit: Visit) -> bool:
    if user.role == Role.ADMIN:
        return True
    if user.role in CLINICIAN_ROLES and is_team_member(user, visit.team_id):
        return True
    return _is_participant_user(user, visit) or can_see_resident(user, visit.resident_id)


def may_run(user: User, visit: Visit) -> bool:
    """Runs the visit: its doctor, or a doctor or nurse of its team."""
    return user.role in CLINICIAN_ROLES and (
        user.id == visit.doctor_id or is_team_member(user, visit.team_id)
    )


def get_visit(user: User, visit_id: int, reason: str | None = None, running=False) -> Visit:
    visit = db.session.get(Visit, visit_id)
    if visit is None or not may_see(user, visit):
        raise NotFound(N_("visit not found"))
    require_admin_reason(user, reason)
    if running and not may_run(user, visit):
        raise Forbidden(N_("only the resident's team runs this visit"))
    record_access("view", visit.resident_id, "visit", visit.id, reason=reason, actor=user)
    return visit


def search(user: User, args: dict) -> sa.Select:
    query = sa.select(Visit).order_by(Visit.starts_at)
    if user.role in CLINICIAN_ROLES:
        query = query.where(Visit.team_id.in_(user.team_ids or [-1]))
    elif user.role != Role.ADMIN:
        query = query.where(Visit.resident_id.in_(visible_resident_ids(user)))
    if args.get("resident_id"):
        query = query.where(Visit.resident_id == args["resident_id"])
    if args.get("status"):
        query = query.where(Visit.status == args["status"])
    zone = local_zone()
    if args.get("first"):
        query = query.where(
            Visit.starts_at >= datetime.combine(args["first"], datetime.min.time(), zone)
        )
    if args.get("last"):
        end = datetime.combine(args["last"] + timedelta(days=1), datetime.min.time(), zone)
        query = query.where(Visit.starts_at < end)
    return query


def upcoming_for_resident_side(user: User) -> list[Visit]:
    ids = visible_resident_ids(user)
    query = (
        sa.select(Visit)
        .where(Visit.resident_id.in_(ids), Visit.status.in_(OPEN_STATUSES))
        .order_by(Visit.starts_at)
    )
    return list(db.session.scalars(query))


def doctor_day(user: User, day: date) -> list[Visit]:
    """The doctor's visits of one local day (the workbench), open ones and done ones."""
    zone = local_zone()
    start = datetime.combine(day, datetime.min.time(), zone)
    query = (
        sa.select(Visit)
        .where(
            Visit.doctor_id == user.id,
            Visit.starts_at >= start,
            Visit.starts_at < start + timedelta(days=1),
            Visit.status != VisitStatus.CANCELLED,
        )
        .order_by(Visit.starts_at)
    )
    return list(db.session.scalars(query))


def waiting(visit: Visit, now=None) -> list[VisitParticipant]:
    """Who is in the visit room now, apart from the doctor and the recorder."""
    return [
        p
        for p in visit.participants
        if p.removed_at is None
        and p.role not in (ParticipantRole.DOCTOR, ParticipantRole.RECORDER)
        and is_present(p, now)
    ]


def _require_running(user: User, visit: Visit) -> None:
    if not may_run(user, visit):
        raise Forbidden(N_("only the resident's team runs this visit"))
    if visit.status not in (VisitStatus.IN_PROGRESS, VisitStatus.COMPLETED):
        raise Conflict(N_("the visit has not started"), current=visit.status.value)


def save_form(user: User, visit: Visit, form: dict) -> Visit:
    _require_running(user, visit)
    stored = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in form.items()}
    visit.form = stored
    record_event(
        "visit",
        visit.id,
        "visit.form_saved",
        actor=user,
        data={"classification": form["classification"]},
    )
    return visit


def save_notes(user: User, visit: Visit, notes: str) -> Visit:
    _require_running(user, visit)
    visit.notes = notes
    record_event("visit", visit.id, "visit.notes_saved", actor=user)
    return visit


def add_quality(participant: VisitParticipant, data: dict) -> QualitySample:
    peer = db.session.get(VisitParticipant, data["peer_id"]) if data.get("peer_id") else None
    if data.get("peer_id") and (peer is None or peer.visit_id != participant.visit_id):
        # samples about another visit's peer would skew this visit's quality
        raise InvalidInput(N_("no such participant in this visit"), field="peer_id")
    sample = QualitySample(
        visit_id=participant.visit_id, participant_id=participant.id, measured_at=utcnow(), **data
    )
    db.session.add(sample)
    return sample


def quality_summary(visit: Visit) -> dict:
    rows = db.session.scalars(
        sa.select(QualitySample).where(QualitySample.visit_id == visit.id)
    ).all()

    def values(name):
        return [getattr(r, name) for r in rows if getattr(r, name) is not None]

    def mean(name):
        found = values(name)
        return round(statistics.fmean(found), 1) if found else None

    rtts = values("rtt_ms")
    return {
        "samples": len(rows),
        "rtt_ms_median": round(statistics.median(rtts), 1) if rtts else None,
        "loss_percent_mean": mean("loss_percent"),
        "bitrate_kbps_mean": mean("bitrate_kbps"),
        "audio_only_share": round(sum(r.audio_only for r in rows) / len(rows), 2) if rows else None,
    }


def detail(visit: Visit) -> dict:
    """The visit with what happened in it, for the API and the record page."""
    now = utcnow()
    recordings = db.session.scalars(
        sa.select(Recording).where(Recording.visit_id == visit.id).order_by(Recording.id)
    ).all()
    participants = [p for p in visit.participants if p.role != ParticipantRole.RECORDER]
    for p in participants:
        p.present = is_present(p, now)
    visit.duration_seconds = seconds_in_call(visit)
    visit.recordings = recordings
    visit.quality = quality_summary(visit)
    visit.consents = sorted(role.value for role in consents(visit))
    visit.participants_shown = participants
    return visit
