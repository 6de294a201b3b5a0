"""A video-visit world: a team whose lead doctor takes visits every day 08:00-18:00 (Shanghai),
a signed resident with an account and a caregiver (care scope), and a second resident of the
same team's neighbourhood who is not signed."""

from datetime import UTC, datetime, time, timedelta

import pytest

from app.accounts.models import Role
from app.extensions import db
from app.timeutil import local_today
from telecall import availability, booking
from telecall.models import ParticipantRole, VisitType


@pytest.fixture
def clinic(make_team, make_resident, make_resident_user, make_link, make_user, make_contract):
    team = make_team()
    doctor = team.lead
    resident = make_resident(neighbourhood=team.neighbourhoods[0])
    account = make_resident_user(resident)
    carer = make_link(resident).caregiver
    unsigned = make_resident(neighbourhood=team.neighbourhoods[0])
    make_contract(resident, team, account)
    windows = [{"weekday": d, "start_time": time(8), "end_time": time(18)} for d in range(7)]
    availability.set_weekly(doctor, doctor, team.id, windows)
    db.session.flush()
    return {
        "team": team,
        "doctor": doctor,
        "nurse": next(m.user for m in team.members if m.user.role == Role.NURSE),
        "resident": resident,
        "account": account,
        "carer": carer,
        "unsigned": unsigned,
        "outsider": make_user(Role.DOCTOR),
    }


def local_at(days: int, hour: int, minute: int = 0) -> datetime:
    """A time `days` from today at hour:minute Shanghai time, in UTC."""
    day = local_today() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), availability.local_zone()).astimezone(UTC)


@pytest.fixture
def booked(clinic):
    """A video consult booked by the resident for tomorrow 09:00."""

    def _book(when=None, visit_type=VisitType.VIDEO_CONSULT, by=None):
        return booking.book(
            by or clinic["account"],
            clinic["resident"],
            {
                "doctor_id": clinic["doctor"].id,
                "visit_type": visit_type,
                "starts_at": when or local_at(1, 9),
            },
        )

    return _book


def seat(visit, role=ParticipantRole.RESIDENT):
    return next(p for p in visit.participants if p.role == role)
