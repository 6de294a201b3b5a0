"""A referral world: team A with a signed resident, a district hospital with two departments,
their specialists, and future slots (some reserved for referrals)."""

from datetime import timedelta

import pytest

from app.accounts.models import OrganisationKind, Role
from app.contracts.models import Contract, ContractStatus, ServicePackage
from app.extensions import db
from app.timeutil import local_today, utcnow
from referral.models import AppointmentSlot


@pytest.fixture
def loop(make_team, make_org, make_user, make_resident, make_resident_user, make_link, api_token):
    team = make_team()
    hospital = make_org(OrganisationKind.DISTRICT_HOSPITAL, name="上海市第七人民医院")
    cardiology = make_org(OrganisationKind.DEPARTMENT, parent=hospital, name="心内科")
    endocrine = make_org(OrganisationKind.DEPARTMENT, parent=hospital, name="内分泌科")
    specialist = make_user(Role.SPECIALIST, organisation_id=cardiology.id)
    cardiology.lead_user_id = make_user(Role.SPECIALIST, organisation_id=cardiology.id).id
    other_specialist = make_user(Role.SPECIALIST, organisation_id=endocrine.id)
    resident = make_resident(neighbourhood=team.neighbourhoods[0])
    account = make_resident_user(resident)
    carer = make_link(resident).caregiver
    db.session.add(
        Contract(
            resident=resident,
            team=team,
            package=ServicePackage.ELDERLY,
            status=ContractStatus.ACTIVE,
            start_date=local_today(),
            end_date=local_today() + timedelta(days=365),
            active_from=local_today(),
            active_until=local_today() + timedelta(days=365),
            district_hospital_id=hospital.id,
            requested_by_id=account.id,
        )
    )
    start = utcnow().replace(microsecond=0) + timedelta(days=3)
    slots = [
        AppointmentSlot(
            department=cardiology,
            starts_at=start + timedelta(minutes=15 * i),
            ends_at=start + timedelta(minutes=15 * (i + 1)),
            reserved_for_referrals=i < 2,
        )
        for i in range(4)
    ]
    db.session.add_all(slots)
    db.session.flush()
    return {
        "team": team,
        "hospital": hospital,
        "cardiology": cardiology,
        "endocrine": endocrine,
        "resident": resident,
        "account": account,
        "carer": carer,
        "slots": slots,
        "lead": cardiology.lead_user_id,
        "doctor": api_token(team.lead),
        "specialist": api_token(specialist),
        "other_specialist": api_token(other_specialist),
        "nurse": api_token(next(m.user for m in team.members if m.user.role == Role.NURSE)),
        "resident_headers": api_token(account),
        "carer_headers": api_token(carer),
    }


@pytest.fixture
def referral_body(loop):
    return {
        "resident_id": loop["resident"].id,
        "department_id": loop["cardiology"].id,
        "urgency": "urgent",
        "reason": "血压控制不佳，胸闷",
        "clinical_summary": "近两周血压 170/100 左右。",
        "current_medication": "氨氯地平 5mg qd",
    }
