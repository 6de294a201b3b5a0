"""When a doctor takes video visits: a weekly pattern of windows plus dated exceptions (closed
or extra), in Shanghai wall-clock time; and the free start times that leaves for a visit type.

Every visit holds the booking-grid steps (VISIT_SLOT_MINUTES) it covers as SlotClaim rows; a
start is free when the steps it needs are inside a window, unclaimed and not in the past.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from app.accounts.models import Role, User
from app.audit.services import record_event
from app.errors import N_, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.policy import is_team_member
from app.timeutil import utcnow
from telecall.models import (
    Availability,
    AvailabilityException,
    ExceptionKind,
    SlotClaim,
    VisitType,
)

CLINICIAN_ROLES = (Role.DOCTOR, Role.NURSE)
LEAD_MINUTES = 10  # a visit cannot be booked to start sooner than this


@dataclass(frozen=True)
class Window:
    starts_at: datetime
    ends_at: datetime


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])


def grid() -> timedelta:
    return timedelta(minutes=current_app.config["VISIT_SLOT_MINUTES"])


def length_of(visit_type: VisitType) -> timedelta:
    return timedelta(minutes=current_app.config["VISIT_LENGTH_MINUTES"][visit_type.value])


def steps(starts_at: datetime, length: timedelta) -> list[datetime]:
    """The grid steps a visit from `starts_at` of `length` covers."""
    step = grid()
    count = -(-length // step)  # ceiling
    return [starts_at + i * step for i in range(count)]


def _check_times(start: time, end: time, field: str) -> None:
    minutes = current_app.config["VISIT_SLOT_MINUTES"]
    if end <= start:
        raise InvalidInput(N_("the end must be after the start"), field=field)
    for value in (start, end):
        if value.second or value.minute % minutes:
            raise InvalidInput(
                N_("times must be on a %(minutes)s-minute step"),
                field=field,
                params={"minutes": minutes},
            )


def _require_clinician(actor: User, doctor: User, team_id: int) -> None:
    if doctor.role not in CLINICIAN_ROLES or not is_team_member(doctor, team_id):
        raise InvalidInput(N_("only a doctor or nurse of the team takes video visits"), "doctor_id")
    if actor.id != doctor.id and actor.role != Role.ADMIN:
        raise Forbidden(N_("only the doctor sets their own availability"))


def set_weekly(actor: User, doctor: User, team_id: int, windows: list[dict]) -> list[Availability]:
    """Replace the doctor's weekly pattern for a team with `windows`
    ({weekday, start_time, end_time}); overlapping windows are refused."""
    _require_clinician(actor, doctor, team_id)
    by_day: dict[int, list[tuple[time, time]]] = {}
    for index, window in enumerate(windows):
        field = f"windows.{index}"
        _check_times(window["start_time"], window["end_time"], field)
        day = by_day.setdefault(window["weekday"], [])
        if any(window["start_time"] < e and s < window["end_time"] for s, e in day):
            raise InvalidInput(N_("this window overlaps another on the same day"), field=field)
        day.append((window["start_time"], window["end_time"]))
    db.session.execute(
        sa.delete(Availability).where(
            Availability.doctor_id == doctor.id, Availability.team_id == team_id
        )
    )
    rows = [Availability(doctor_id=doctor.id, team_id=team_id, **w) for w in windows]
    db.session.add_all(rows)
    db.session.flush()
    record_event("user", doctor.id, "availability.set", actor=actor, data={"windows": len(rows)})
    return rows


def add_exception(actor: User, doctor: User, team_id: int, data: dict) -> AvailabilityException:
    _require_clinician(actor, doctor, team_id)
    start, end = data.get("start_time"), data.get("end_time")
    if (start is None) != (end is None):
        raise InvalidInput(N_("give both times, or neither for the whole day"), field="end_time")
    if start is not None:
        _check_times(start, end, "end_time")
    elif data["kind"] == ExceptionKind.EXTRA:
        raise InvalidInput(N_("extra hours need a start and an end"), field="start_time")
    row = AvailabilityException(doctor_id=doctor.id, team_id=team_id, **data)
    db.session.add(row)
    db.session.flush()
    record_event(
        "user", doctor.id, "availability.exception_added", actor=actor, data={"id": row.id}
    )
    return row


def remove_exception(actor: User, exception_id: int) -> None:
    row = db.session.get(AvailabilityException, exception_id)
    if row is None or (actor.id != row.doctor_id and actor.role != Role.ADMIN):
        raise NotFound()
    db.session.delete(row)
    record_event("user", row.doctor_id, "availability.exception_removed", actor=actor)


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=local_zone()).astimezone(UTC)


def _subtract(windows: list[Window], cut: Window) -> list[Window]:
    out = []
    for w in windows:
        if cut.ends_at <= w.starts_at or cut.starts_at >= w.ends_at:
            out.append(w)
            continue
        if w.starts_at < cut.starts_at:
            out.append(Window(w.starts_at, cut.starts_at))
        if cut.ends_at < w.ends_at:
            out.append(Window(cut.ends_at, w.ends_at))
    return out


def windows_on(doctor_id: int, team_id: int, day: date) -> list[Window]:
    """The doctor's open windows on one local date, exceptions applied."""
    weekly = db.session.scalars(
        sa.select(Availability).where(
            Availability.doctor_id == doctor_id,
            Availability.team_id == team_id,
            Availability.weekday == day.weekday(),
        )
    )
    windows = [Window(_at(day, a.start_time), _at(day, a.end_time)) for a in weekly]
    exceptions = db.session.scalars(
        sa.select(AvailabilityException).where(
            AvailabilityException.doctor_id == doctor_id,
            AvailabilityException.team_id == team_id,
            AvailabilityException.on_date == day,
        )
    ).all()
    for row in sorted(exceptions, key=lambda r: r.kind != ExceptionKind.EXTRA):
        start = row.start_time or time(0)
        whole = Window(
            _at(day, start),
            _at(day, row.end_time) if row.end_time else _at(day + timedelta(days=1), time(0)),
        )
        if row.kind == ExceptionKind.EXTRA:
            windows.append(whole)
        else:
            windows = _subtract(windows, whole)
    return sorted(windows, key=lambda w: w.starts_at)


def _claimed(
    doctor_id: int, start: datetime, end: datetime, moving: int | None = None
) -> set[datetime]:
    """The doctor's claimed grid steps in [start, end), less those of the visit being moved
    (`moving`): its own time is free to the visit that holds it."""
    query = sa.select(SlotClaim.slot_start).where(
        SlotClaim.doctor_id == doctor_id, SlotClaim.slot_start >= start, SlotClaim.slot_start < end
    )
    if moving is not None:
        query = query.where(SlotClaim.visit_id != moving)
    return set(db.session.scalars(query))


def free_starts(
    doctor_id: int,
    team_id: int,
    visit_type: VisitType,
    first: date,
    last: date,
    now=None,
    moving: int | None = None,
) -> list[datetime]:
    """Free start times (UTC) for a visit of this type, from `first` to `last` (local dates).
    Candidates are each window's start stepped by the visit's length, plus the end of every
    booked stretch, so visits of different lengths pack without gaps. With `moving` (a visit
    being rescheduled), that visit's own time counts as free."""
    length = length_of(visit_type)
    earliest = (now or utcnow()) + timedelta(minutes=LEAD_MINUTES)
    found: list[datetime] = []
    day = first
    while day <= last:
        for window in windows_on(doctor_id, team_id, day):
            claimed = _claimed(doctor_id, window.starts_at, window.ends_at, moving)
            found += _free_in(window, length, claimed, earliest)
        day += timedelta(days=1)
    return sorted(set(found))


def _free_in(window: Window, length: timedelta, claimed: set, earliest: datetime) -> list:
    step = grid()
    candidates = set()
    start = window.starts_at
    while start + length <= window.ends_at:
        candidates.add(start)
        start += length
    candidates |= {c + step for c in claimed if c + step not in claimed}
    return [
        c
        for c in candidates
        if c >= earliest
        and c + length <= window.ends_at
        and not claimed.intersection(steps(c, length))
    ]


def is_free(doctor_id: int, team_id: int, visit_type: VisitType, starts_at: datetime) -> bool:
    local_day = starts_at.astimezone(local_zone()).date()
    return starts_at in free_starts(doctor_id, team_id, visit_type, local_day, local_day)
