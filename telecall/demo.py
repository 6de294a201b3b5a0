"""Demo video visits: dr.wang (王建国) takes visits on weekday mornings and afternoons, with
extra hours today from now on, and 张桂英 has a video consult booked in the next slot, so the
join link, the waiting room and the call work straight after `make run`. Topped up on each
seeding: a demo database whose visit is over gets a new one."""

from __future__ import annotations

from datetime import time, timedelta

import sqlalchemy as sa

from app.accounts.models import User
from app.extensions import db
from app.residents.models import Resident
from app.timeutil import local_today, to_local, utcnow
from telecall import availability, booking
from telecall.models import (
    OPEN_STATUSES,
    Availability,
    AvailabilityException,
    ExceptionKind,
    Visit,
    VisitType,
)

WEEKLY = [(time(8, 30), time(11, 30)), (time(13, 30), time(16, 30))]


def _doctor_and_resident() -> tuple[User, Resident] | None:
    doctor = db.session.scalar(sa.select(User).where(User.username == "dr.wang"))
    account = db.session.scalar(sa.select(User).where(User.username == "zhang.guiying"))
    if doctor is None or account is None or not doctor.team_ids:
        return None
    return doctor, db.session.get(Resident, account.resident_id)


def _ensure_hours(doctor: User, team_id: int) -> None:
    has_pattern = db.session.scalar(
        sa.select(Availability.id).where(Availability.doctor_id == doctor.id).limit(1)
    )
    if not has_pattern:
        windows = [
            {"weekday": day, "start_time": start, "end_time": end}
            for day in range(5)
            for start, end in WEEKLY
        ]
        availability.set_weekly(doctor, doctor, team_id, windows)
    today = local_today()
    has_extra = db.session.scalar(
        sa.select(AvailabilityException.id).where(
            AvailabilityException.doctor_id == doctor.id, AvailabilityException.on_date == today
        )
    )
    now_local = to_local(utcnow())
    if not has_extra and now_local.hour < 21:
        availability.add_exception(
            doctor,
            doctor,
            team_id,
            {
                "on_date": today,
                "kind": ExceptionKind.EXTRA,
                "start_time": time(now_local.hour),
                "end_time": time(min(now_local.hour + 3, 23)),
                "reason": "demo",
            },
        )


def seed_visits() -> bool:
    found = _doctor_and_resident()
    if found is None:
        return False
    doctor, resident = found
    team_id = booking.own_team_id(resident)
    _ensure_hours(doctor, team_id)
    has_open = db.session.scalar(
        sa.select(Visit.id).where(Visit.resident_id == resident.id, Visit.status.in_(OPEN_STATUSES))
    )
    if has_open:
        return False
    today = local_today()
    starts = availability.free_starts(
        doctor.id, team_id, VisitType.VIDEO_CONSULT, today, today + timedelta(days=7)
    )
    if not starts:
        return False
    data = {"doctor_id": doctor.id, "visit_type": VisitType.VIDEO_CONSULT, "starts_at": starts[0]}
    booking.book(doctor, resident, {**data, "reason": "血压控制复查"})
    return True
