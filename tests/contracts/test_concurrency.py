"""Two signings at once: the database lets exactly one win, whichever checks ran first."""

import contextlib
import threading
from datetime import date

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app, crypto
from app.accounts.models import (
    Organisation,
    OrganisationKind,
    Role,
    Team,
    TeamMember,
    TeamMemberRole,
    User,
)
from app.contracts import services
from app.contracts.models import Contract, ServicePackage
from app.errors import Conflict
from app.extensions import db
from app.residents.models import Resident, Sex
from tests.factories import national_id_for


def _population() -> tuple[int, int, int]:
    centre = Organisation(code="C", name="中心", kind=OrganisationKind.COMMUNITY_CENTRE)
    area = Organisation(code="N", name="居委会", kind=OrganisationKind.NEIGHBOURHOOD_COMMITTEE)
    doctor = User(username="doc", display_name="医生", password_hash="x", role=Role.DOCTOR)
    team = Team(name="团队", centre=centre, neighbourhoods=[area])
    db.session.add_all([centre, area, doctor, team])
    team.members.append(TeamMember(user=doctor, member_role=TeamMemberRole.LEAD))
    born = date(1950, 1, 1)
    number = national_id_for(born, Sex.FEMALE)
    resident = Resident(
        name="居民",
        sex=Sex.FEMALE,
        birth_date=born,
        address="路",
        neighbourhood=area,
        national_id_ciphertext=crypto.encrypt(number),
        national_id_digest=crypto.digest(number),
    )
    db.session.add(resident)
    db.session.flush()
    account = User(
        username="res",
        display_name="居民",
        password_hash="x",
        role=Role.RESIDENT,
        resident_id=resident.id,
    )
    db.session.add(account)
    db.session.commit()
    return resident.id, account.id, team.id


@pytest.mark.own_app
def test_two_requests_at_once_one_wins(fresh_database, monkeypatch):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=fresh_database)
    with app.app_context():
        upgrade()
        resident_id, account_id, team_id = _population()

    # Both requests pass the application's own check before either writes, so only the
    # database's unique index can stop the second one.
    # (SQLite serialises writing transactions instead: there the second one waits for the
    # first, the barrier gives up, and the application's check refuses it.)
    barrier = threading.Barrier(2, timeout=3)
    original = services.open_contract

    def open_contract_then_wait(resident_id):
        found = original(resident_id)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return found

    monkeypatch.setattr(services, "open_contract", open_contract_then_wait)
    outcomes = []

    def sign():
        with app.app_context():
            try:
                user = db.session.get(User, account_id)
                resident = db.session.get(Resident, resident_id)
                data = {"team_id": team_id, "package": ServicePackage.BASIC}
                services.request_contract(user, resident, data)
                db.session.commit()
                outcomes.append("won")
            except (sa.exc.IntegrityError, Conflict):
                db.session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=sign) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["refused", "won"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Contract.id))) == 1
        db.engine.dispose()
