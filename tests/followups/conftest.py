"""A seeded population whose follow-up answers are known by construction.

One team; a district hospital the residents sign with, with a cardiology, an endocrinology
and an orthopaedics department; residents under 65 (so the yearly check leaves them alone
unless a test says otherwise):

- `hyper`     signed, hypertension
- `diabetic`  signed, type-2 diabetes
- `both`      signed, hypertension and type-2 diabetes
- `copd`      signed, COPD only (no chronic-disease schedule)
- `healthy`   signed, no condition
- `unsigned`  hypertension, no contract
- `expired`   hypertension, a contract that ended yesterday
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from app.accounts.models import OrganisationKind
from app.contracts.models import ContractStatus
from app.extensions import db
from app.followups.schemas import FollowUpFormSchema
from app.residents.models import ChronicCondition
from app.timeutil import local_today
from tests.telecall.conftest import booked, clinic  # noqa: F401 (a video-visit world)

HT = ChronicCondition.HYPERTENSION
T2D = ChronicCondition.TYPE2_DIABETES
UNDER_65 = date(1975, 3, 8)


def a_form(classification: str, condition: str = "hypertension", **extra) -> dict:
    """The national follow-up form as the schema loads it (dates as dates)."""
    raw = {"condition": condition, "classification": classification, **extra}
    if condition == "hypertension":
        raw = {"systolic": 152, "diastolic": 96, **raw}
    else:
        raw = {"fasting_glucose": 8.4, **raw}
    if classification == "side_effects":
        raw = {"side_effects": True, "side_effects_detail": "dry cough", **raw}
    return FollowUpFormSchema().load(raw)


def at_local_noon(day: date) -> datetime:
    """Noon in Shanghai on `day`, in UTC (04:00Z), so the local date is `day`."""
    return datetime(day.year, day.month, day.day, 4, tzinfo=UTC)


@pytest.fixture
def hospital(make_org):
    """The district hospital the population signs with, and its departments by specialty."""
    district = make_org(OrganisationKind.DISTRICT_HOSPITAL, name="浦东区人民医院")
    departments = {
        "orthopaedics": make_org(OrganisationKind.DEPARTMENT, parent=district, name="骨科"),
        "cardiology": make_org(OrganisationKind.DEPARTMENT, parent=district, name="心内科"),
        "endocrinology": make_org(OrganisationKind.DEPARTMENT, parent=district, name="内分泌科"),
    }
    return district, departments


@pytest.fixture
def sign(make_contract):
    """Sign `resident` with `team` (and a district hospital), in force from today."""

    def _sign(resident, team, district=None, **kw):
        contract = make_contract(
            resident,
            team,
            team.lead,
            district_hospital_id=district.id if district else None,
            **kw,
        )
        db.session.flush()
        return contract

    return _sign


@pytest.fixture
def population(make_team, make_resident, sign, hospital):
    district, departments = hospital
    team = make_team()
    area = team.neighbourhoods[0]

    def resident(conditions=(), **kw):
        return make_resident(neighbourhood=area, birth_date=UNDER_65, conditions=conditions, **kw)

    people = {
        "hyper": resident((HT,)),
        "diabetic": resident((T2D,)),
        "both": resident((HT, T2D)),
        "copd": resident((ChronicCondition.COPD,)),
        "healthy": resident(),
        "unsigned": resident((HT,)),
        "expired": resident((HT,)),
    }
    for key in ("hyper", "diabetic", "both", "copd", "healthy"):
        sign(people[key], team, district)
    ended = sign(people["expired"], team, district)
    ended.status = ContractStatus.EXPIRED
    ended.active_from = local_today() - timedelta(days=365)
    ended.active_until = local_today()  # exclusive: it was in force until yesterday
    db.session.flush()
    return {
        "team": team,
        "doctor": team.lead,
        "district": district,
        "departments": departments,
        **people,
    }
