"""Demo data for a first look: Gaohang's community health service centre, two hospitals,
three neighbourhood committees, two family-doctor teams, residents and a caregiver.

Names and ID numbers are invented (valid check digits, Pudong area code 310115).
"""

from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app

from app import idcard
from app.accounts import services as accounts
from app.accounts.models import Organisation, OrganisationKind, Role, TeamMemberRole, User
from app.contracts import lifecycle
from app.contracts import services as contracts
from app.contracts.models import ConsentMethod, ServicePackage
from app.extensions import db
from app.residents import services as residents
from app.residents.models import (
    CaregiverRelationship,
    CaregiverScope,
    ChronicCondition,
    Mobility,
    Sex,
)
from app.timeutil import LOCAL_TZ, local_today

DEMO_PASSWORD = "kangyang2026"  # noqa: S105  (demo only; seed-demo is refused in production)
MARKER_CODE = "GH-CHC"

LOGINS = [
    ("admin", Role.ADMIN, "系统管理员"),
    ("dr.wang", Role.DOCTOR, "王建国 (家庭医生团队长)"),
    ("nurse.li", Role.NURSE, "李敏 (社区护士)"),
    ("dr.zhao", Role.DOCTOR, "赵磊 (公卫医生)"),
    ("dr.chen", Role.DOCTOR, "陈静 (家庭医生团队长)"),
    ("sp.liu", Role.SPECIALIST, "刘洋 (第七人民医院心内科)"),
    ("zhang.guiying", Role.RESIDENT, "张桂英 (居民, 78岁)"),
    ("wang.deming", Role.RESIDENT, "王德明 (居民, 未签约)"),
    ("li.ming", Role.CAREGIVER, "李明 (张桂英之子)"),
]


def logins_text() -> str:
    lines = [f"Demo logins (password for all: {DEMO_PASSWORD}):"]
    lines += [f"  {username:<15} {role.value:<11} {who}" for username, role, who in LOGINS]
    return "\n".join(lines)


def _org(code, name, kind, parent=None, **extra) -> Organisation:
    return accounts.create_organisation(
        {
            "code": code,
            "name": name,
            "kind": kind,
            "parent_id": parent.id if parent else None,
            **extra,
        }
    )


def _organisations() -> dict:
    centre = _org(
        MARKER_CODE,
        "高行镇社区卫生服务中心",
        OrganisationKind.COMMUNITY_CENTRE,
        address="上海市浦东新区高行镇东靖路",
        phone="021-58620000",
    )
    seventh = _org(
        "SH7H", "上海市第七人民医院", OrganisationKind.DISTRICT_HOSPITAL, phone="021-58670561"
    )
    renji = _org("RJ-EAST", "仁济医院东院", OrganisationKind.MUNICIPAL_HOSPITAL)
    return {
        "centre": centre,
        "seventh": seventh,
        "renji": renji,
        "cardiology": _org("SH7H-CARD", "心内科", OrganisationKind.DEPARTMENT, seventh),
        "endocrine": _org("SH7H-ENDO", "内分泌科", OrganisationKind.DEPARTMENT, seventh),
        "renji_cardiology": _org("RJ-CARD", "心内科", OrganisationKind.DEPARTMENT, renji),
        "n1": _org("GH-NC-DG1", "东沟一村居委会", OrganisationKind.NEIGHBOURHOOD_COMMITTEE, centre),
        "n2": _org("GH-NC-LZ", "高行绿洲居委会", OrganisationKind.NEIGHBOURHOOD_COMMITTEE, centre),
        "n3": _org("GH-NC-SL", "森兰花园居委会", OrganisationKind.NEIGHBOURHOOD_COMMITTEE, centre),
    }


def _user(username, role, name, org=None, phone=None, **extra):
    return accounts.create_user(
        {
            "username": username,
            "role": role,
            "display_name": name,
            "phone": phone,
            "organisation_id": org.id if org else None,
            "password": DEMO_PASSWORD,
            **extra,
        }
    )


def _people(orgs) -> dict:
    centre = orgs["centre"]
    people = {
        "admin": _user("admin", Role.ADMIN, "系统管理员", centre),
        "wang": _user("dr.wang", Role.DOCTOR, "王建国", centre, "13900000001"),
        "li": _user("nurse.li", Role.NURSE, "李敏", centre, "13900000002"),
        "zhao": _user("dr.zhao", Role.DOCTOR, "赵磊", centre, "13900000003"),
        "chen": _user("dr.chen", Role.DOCTOR, "陈静", centre, "13900000004"),
        "zhou": _user("nurse.zhou", Role.NURSE, "周洁", centre, "13900000005"),
        "liu": _user("sp.liu", Role.SPECIALIST, "刘洋", orgs["cardiology"], "13900000006"),
        "li_ming": _user("li.ming", Role.CAREGIVER, "李明", None, "13800000001"),
    }
    team1 = accounts.create_team(
        {
            "name": "王建国家庭医生团队",
            "centre_id": centre.id,
            "lead_id": people["wang"].id,
            "neighbourhood_ids": [orgs["n1"].id, orgs["n2"].id],
            "capacity": 600,
        }
    )
    accounts.add_member(team1, people["li"].id, TeamMemberRole.NURSE)
    accounts.add_member(team1, people["zhao"].id, TeamMemberRole.PUBLIC_HEALTH)
    team2 = accounts.create_team(
        {
            "name": "陈静家庭医生团队",
            "centre_id": centre.id,
            "lead_id": people["chen"].id,
            "neighbourhood_ids": [orgs["n3"].id],
            "capacity": 600,
        }
    )
    accounts.add_member(team2, people["zhou"].id, TeamMemberRole.NURSE)
    return people


# name, sex, birth date, neighbourhood, living alone, mobility, conditions
RESIDENTS = [
    (
        "张桂英",
        Sex.FEMALE,
        date(1948, 3, 12),
        "n1",
        True,
        Mobility.NEEDS_ASSISTANCE,
        [ChronicCondition.HYPERTENSION],
    ),
    (
        "王德明",
        Sex.MALE,
        date(1945, 7, 2),
        "n1",
        False,
        Mobility.WHEELCHAIR,
        [ChronicCondition.HYPERTENSION, ChronicCondition.TYPE2_DIABETES],
    ),
    (
        "陈秀兰",
        Sex.FEMALE,
        date(1950, 11, 20),
        "n1",
        False,
        Mobility.INDEPENDENT,
        [ChronicCondition.TYPE2_DIABETES],
    ),
    ("刘志强", Sex.MALE, date(1958, 1, 5), "n2", True, Mobility.INDEPENDENT, []),
    (
        "孙美华",
        Sex.FEMALE,
        date(1940, 9, 30),
        "n2",
        True,
        Mobility.BEDRIDDEN,
        [ChronicCondition.STROKE, ChronicCondition.HYPERTENSION],
    ),
    (
        "周建华",
        Sex.MALE,
        date(1962, 4, 18),
        "n3",
        False,
        Mobility.INDEPENDENT,
        [ChronicCondition.COPD],
    ),
    (
        "吴玉珍",
        Sex.FEMALE,
        date(1952, 12, 1),
        "n3",
        False,
        Mobility.INDEPENDENT,
        [ChronicCondition.HYPERTENSION],
    ),
]


def _residents(orgs, people) -> list:
    admin = people["admin"]
    household = residents.create_household(
        admin,
        {"code": "GH-DG1-0101", "address": "东沟一村1号101室", "neighbourhood_id": orgs["n1"].id},
    )
    created = []
    for seq, (name, sex, born, n, alone, mobility, conditions) in enumerate(RESIDENTS, start=1):
        # The 17th digit of a Chinese ID is odd for men and even for women.
        order = f"{seq:02d}{1 if sex == Sex.MALE else 2}"
        number = idcard.make(f"310115{born:%Y%m%d}{order}")
        created.append(
            residents.register_resident(
                admin,
                {
                    "name": name,
                    "sex": sex,
                    "birth_date": born,
                    "national_id": number,
                    "phone": f"1370000{seq:04d}",
                    "address": f"高行镇示范路{seq}号",
                    "neighbourhood_id": orgs[n].id,
                    "household_id": household.id if seq == 1 else None,
                    "living_alone": alone,
                    "mobility": mobility,
                    "conditions": conditions,
                },
            )
        )
    return created


def seed() -> bool:
    """Load the demo data unless it is there already; True when something was added.

    Appointment slots are topped up on every run, so an older demo database still has
    free slots in the coming days."""
    if db.session.scalar(sa.select(Organisation.id).where(Organisation.code == MARKER_CODE)):
        added_slots = _referral_slots() > 0
        return _demo_alert() | _demo_visits() | _demo_follow_ups() or added_slots
    orgs = _organisations()
    people = _people(orgs)
    demo_residents = _residents(orgs, people)
    zhang = demo_residents[0]
    _user("zhang.guiying", Role.RESIDENT, "张桂英", None, "13700000001", resident_id=zhang.id)
    # A resident with an account and no contract, to try signing with.
    wang = demo_residents[1]
    _user("wang.deming", Role.RESIDENT, "王德明", None, "13700000002", resident_id=wang.id)
    residents.grant_caregiver(
        people["wang"],
        zhang,
        {
            "caregiver_id": people["li_ming"].id,
            "relationship_kind": CaregiverRelationship.FAMILY_MEMBER,
            "scope": CaregiverScope.PROXY,
            "ends_on": local_today() + timedelta(days=365),
            "priority": 1,
        },
    )
    _contracts(orgs, people, demo_residents)
    _follow_up_history(people, demo_residents)
    _referral_slots()
    _demo_alert()
    _demo_visits()
    _demo_follow_ups()
    _demo_reports()
    db.session.flush()
    return True


def _demo_reports() -> None:
    """Last week's check and last month's review, as the scheduler would have made them."""
    from app.reports import jobs

    jobs.weekly_check()
    jobs.monthly_review()


def _follow_up_history(people, demo_residents) -> None:
    """A year of recorded chronic follow-ups of the signed residents (app/followups/demo.py)."""
    from app.followups.demo import seed_history

    lead = {"team1": people["wang"], "team2": people["chen"]}
    signed = []
    for index, team_key, _package, _days in CONTRACTS:
        resident = demo_residents[index]
        conditions = [row.condition.value for row in resident.condition_rows]
        signed.append((resident.id, lead[team_key], conditions))
    seed_history(signed)


def _demo_follow_ups() -> bool:
    """What the follow-up jobs would plan tonight: the chronic-disease schedules and the
    yearly checks of the signed residents, so the team's worklist has something to show."""
    from app.followups import schedule

    return schedule.plan_schedules() + schedule.plan_annual_checks() > 0


def _demo_visits() -> bool:
    from telecall.demo import seed_visits

    return seed_visits()


def _demo_alert() -> bool:
    """One open alert for 张桂英 (high blood pressure), so the alert pages have something to
    show; added once: an alert resolved in the demo stays resolved. True when added."""
    from app.alerts import services as alerts
    from app.alerts.models import Alert, Severity
    from app.errors import N_
    from app.timeutil import utcnow

    account = sa.select(User.resident_id).where(User.username == "zhang.guiying")
    resident_id = db.session.scalar(account)
    if resident_id is None:
        return False
    if db.session.scalar(sa.select(Alert.id).where(Alert.resident_id == resident_id).limit(1)):
        return False
    now = utcnow()
    evidence = [
        {"metric": "systolic_bp", "value": value, "observed_at": now - timedelta(minutes=ago)}
        for value, ago in ((182, 25), (186, 10))
    ]
    alerts.raise_alert(
        resident_id,
        "threshold:systolic_bp:high",
        Severity.HIGH,
        # the threshold rule's own message (wearables/rules/messages.py)
        N_("Systolic blood pressure %(value)s mmHg, at or above %(limit)s"),
        {"value": 186, "limit": 180},
        evidence,
        now=now,
    )
    db.session.flush()
    return True


# resident index, team key, package, days until the end (None: a full term from today)
CONTRACTS = [
    (0, "team1", ServicePackage.HYPERTENSION, None),
    (2, "team1", ServicePackage.DIABETES, None),
    (4, "team1", ServicePackage.HOME_BED, 20),  # ending soon: on the worklist
    (6, "team2", ServicePackage.ELDERLY, None),
]


def _contracts(orgs, people, demo_residents) -> None:
    """A few signed residents, so the worklist and the signing rates have something to show."""
    admin = people["admin"]
    teams = {
        "team1": people["wang"].memberships[0].team,
        "team2": people["chen"].memberships[0].team,
    }
    version = current_app.config["CONSENT_TEXT_VERSION"]
    for index, team_key, package, days_left in CONTRACTS:
        terms = {
            "team_id": teams[team_key].id,
            "package": package,
            "district_hospital_id": orgs["seventh"].id,
            "municipal_hospital_id": orgs["renji"].id,
        }
        contract = contracts.draft_contract(admin, demo_residents[index], terms)
        contracts.accept(admin, contract)
        contracts.record_consent(admin, contract, ConsentMethod.IN_PERSON, version)
        if days_left is not None:
            contract.end_date = contract.active_until = local_today() + timedelta(days=days_left)
    lifecycle.mark_expiring_and_expired()


SLOT_DAYS = 10  # free cardiology slots for referrals over the coming days
SLOTS_A_DAY = 8  # of 15 minutes from 09:00 each weekday; half kept for referrals


def _referral_slots() -> int:
    """Slots of the Seventh People's Hospital's cardiology (心内科), whose lead is sp.liu, for
    the next SLOT_DAYS days. A day that has slots already is left alone. Returns how many
    slots were added."""
    from referral.models import AppointmentSlot
    from referral.slots import publish_series

    cardiology = db.session.scalar(sa.select(Organisation).where(Organisation.code == "SH7H-CARD"))
    liu = db.session.scalar(sa.select(User).where(User.username == "sp.liu"))
    if cardiology is None or liu is None:
        return 0
    cardiology.lead_user_id = liu.id
    added = 0
    for offset in range(1, SLOT_DAYS + 1):
        day = local_today() + timedelta(days=offset)
        if day.weekday() >= 5:  # Saturday, Sunday
            continue
        start = datetime.combine(day, time(9, 0), tzinfo=LOCAL_TZ).astimezone(UTC)
        taken = sa.select(AppointmentSlot.id).where(
            AppointmentSlot.department_id == cardiology.id,
            AppointmentSlot.starts_at >= start,
            AppointmentSlot.starts_at < start + timedelta(days=1),
        )
        if db.session.scalar(taken.limit(1)) is not None:
            continue
        series = {
            "department_id": cardiology.id,
            "specialist_id": liu.id,
            "starts_at": start,
            "count": SLOTS_A_DAY,
            "minutes": 15,
            "reserved_share": 0.5,
        }
        added += len(publish_series(liu, series))
    db.session.flush()
    return added
