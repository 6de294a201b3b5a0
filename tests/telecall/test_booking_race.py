"""Two people book the same doctor's time at the same moment, each on a database connection
of their own (a SQLite file or PostgreSQL): exactly one visit is made, the other gets a
Conflict naming starts_at. Also when the two visits only overlap (different lengths)."""

import threading
from datetime import time

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.accounts.models import User
from app.errors import Conflict
from app.extensions import db
from app.residents.models import Resident
from telecall import availability, booking
from telecall.models import SlotClaim, Visit, VisitType
from tests.telecall.conftest import local_at


def population(make_team, make_resident, make_resident_user, make_link, make_contract) -> dict:
    team = make_team()
    resident = make_resident(neighbourhood=team.neighbourhoods[0])
    account = make_resident_user(resident)
    carer = make_link(resident).caregiver
    make_contract(resident, team, account)
    windows = [{"weekday": d, "start_time": time(8), "end_time": time(18)} for d in range(7)]
    availability.set_weekly(team.lead, team.lead, team.id, windows)
    db.session.commit()
    return {
        "resident": resident.id,
        "doctor": team.lead.id,
        "doctor_username": team.lead.username,
        "bookers": [account.id, carer.id],
    }


@pytest.fixture
def race_app(
    fresh_database, make_team, make_resident, make_resident_user, make_link, make_contract
):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=fresh_database)
    with app.app_context():
        upgrade()
        world = population(make_team, make_resident, make_resident_user, make_link, make_contract)
    yield app, world
    with app.app_context():
        db.engine.dispose()


def _race(app, world, requests) -> list:
    """Each (booker, visit_type, starts_at) books in a thread of its own, all at once."""
    barrier = threading.Barrier(len(requests), timeout=10)
    outcomes = []

    def attempt(booker_id, visit_type, starts_at):
        with app.app_context():
            actor = db.session.get(User, booker_id)
            resident = db.session.get(Resident, world["resident"])
            _ = actor.memberships, resident.name
            # End the reading transaction: on SQLite it holds the write lock (BEGIN
            # IMMEDIATE) and the other thread could not reach the barrier.
            db.session.commit()
            barrier.wait()
            try:
                visit = booking.book(
                    actor,
                    resident,
                    {
                        "doctor_id": world["doctor"],
                        "visit_type": visit_type,
                        "starts_at": starts_at,
                    },
                )
                db.session.commit()
                outcomes.append(("booked", visit.id))
            except Conflict as refused:
                db.session.rollback()
                outcomes.append(("conflict", refused.field))

    threads = [threading.Thread(target=attempt, args=request) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def _visits_and_claims(app) -> tuple[int, int]:
    with app.app_context():
        visits = db.session.scalar(sa.select(sa.func.count(Visit.id)))
        claims = db.session.scalar(sa.select(sa.func.count(SlotClaim.id)))
        return visits, claims


@pytest.mark.own_app
def test_two_people_booking_the_same_slot_at_once_get_one_visit(race_app):
    app, world = race_app
    with app.app_context():
        when = local_at(1, 9)
    consult = VisitType.VIDEO_CONSULT
    outcomes = _race(app, world, [(booker, consult, when) for booker in world["bookers"]])
    assert sorted(kind for kind, _ in outcomes) == ["booked", "conflict"]
    assert ("conflict", "starts_at") in outcomes
    assert _visits_and_claims(app) == (1, 4)  # one 20-minute visit: four 5-minute steps


@pytest.mark.own_app
def test_two_overlapping_visits_of_different_lengths_get_one(race_app):
    app, world = race_app
    with app.app_context():
        consult_at, revisit_at = local_at(1, 9), local_at(1, 9, 15)
    account, carer = world["bookers"]
    outcomes = _race(
        app,
        world,
        [
            (account, VisitType.VIDEO_CONSULT, consult_at),  # 09:00-09:20
            (carer, VisitType.ONLINE_REVISIT, revisit_at),  # 09:15-09:30
        ],
    )
    assert sorted(kind for kind, _ in outcomes) == ["booked", "conflict"]
    assert ("conflict", "starts_at") in outcomes
    visits, claims = _visits_and_claims(app)
    assert visits == 1
    assert claims in (3, 4)  # the winner's steps only: nothing of the loser is left
