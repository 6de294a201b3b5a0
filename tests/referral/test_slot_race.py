"""Two doctors book the same reserved slot at the same moment: exactly one gets it."""

import threading
from datetime import date, timedelta

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
from app.errors import Conflict
from app.extensions import db
from app.residents.models import Resident, Sex
from app.timeutil import utcnow
from referral import services
from referral.models import AppointmentSlot, Referral, ReferralStatus, Urgency
from tests.factories import national_id_for


def _population() -> tuple[list[int], list[int], int]:
    centre = Organisation(code="C", name="中心", kind=OrganisationKind.COMMUNITY_CENTRE)
    area = Organisation(code="N", name="居委会", kind=OrganisationKind.NEIGHBOURHOOD_COMMITTEE)
    hospital = Organisation(code="H", name="医院", kind=OrganisationKind.DISTRICT_HOSPITAL)
    department = Organisation(
        code="D", name="心内科", kind=OrganisationKind.DEPARTMENT, parent=hospital
    )
    team = Team(name="团队", centre=centre, neighbourhoods=[area])
    db.session.add_all([centre, area, hospital, department, team])
    doctors = [
        User(username=f"doc{i}", display_name="医生", password_hash="x", role=Role.DOCTOR)
        for i in range(2)
    ]
    db.session.add_all(doctors)
    team.members.append(TeamMember(user=doctors[0], member_role=TeamMemberRole.LEAD))
    team.members.append(TeamMember(user=doctors[1], member_role=TeamMemberRole.DOCTOR))
    start = utcnow().replace(microsecond=0) + timedelta(days=2)
    slot = AppointmentSlot(
        department=department,
        starts_at=start,
        ends_at=start + timedelta(minutes=15),
        reserved_for_referrals=True,
    )
    db.session.add(slot)
    referrals = []
    for i in range(2):
        number = national_id_for(date(1950, 1, 1 + i), Sex.MALE, seq=i + 1)
        resident = Resident(
            name=f"居民{i}",
            sex=Sex.MALE,
            birth_date=date(1950, 1, 1 + i),
            address="路",
            neighbourhood=area,
            national_id_ciphertext=crypto.encrypt(number),
            national_id_digest=crypto.digest(number),
        )
        referral = Referral(
            resident=resident,
            team=team,
            hospital=hospital,
            department=department,
            urgency=Urgency.URGENT,
            status=ReferralStatus.DRAFT,
            reason="胸痛",
            clinical_summary="胸痛 2 天",
        )
        db.session.add_all([resident, referral])
        referrals.append(referral)
    db.session.commit()
    return [r.id for r in referrals], [d.id for d in doctors], slot.id


@pytest.mark.own_app
def test_one_slot_two_doctors_one_booking(fresh_database):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=fresh_database)
    with app.app_context():
        upgrade()
        referral_ids, doctor_ids, slot_id = _population()
    barrier = threading.Barrier(2, timeout=10)
    outcomes = []

    def send(referral_id, doctor_id):
        with app.app_context():
            doctor = db.session.get(User, doctor_id)
            referral = db.session.get(Referral, referral_id)
            _ = doctor.memberships
            # End the reading transaction: on SQLite it holds the write lock (BEGIN IMMEDIATE)
            # and the other thread could not reach the barrier.
            db.session.commit()
            barrier.wait()
            try:
                services.send(doctor, referral, slot_id)
                db.session.commit()
                outcomes.append("booked")
            except (Conflict, sa.exc.IntegrityError):
                db.session.rollback()
                outcomes.append("refused")

    threads = [
        threading.Thread(target=send, args=(rid, did))
        for rid, did in zip(referral_ids, doctor_ids, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["booked", "refused"]
    with app.app_context():
        slot = db.session.get(AppointmentSlot, slot_id)
        assert slot.referral_id in referral_ids
        assert (
            db.session.scalar(
                sa.select(sa.func.count(Referral.id)).where(Referral.status == ReferralStatus.SENT)
            )
            == 1
        )  # the refused send left its referral a draft
        db.engine.dispose()
