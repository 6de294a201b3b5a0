"""Factory fixtures: each builds one valid object with sensible defaults, overridable."""

import itertools
from datetime import date, timedelta

import pytest

from app import crypto, idcard
from app.accounts.models import (
    Organisation,
    OrganisationKind,
    Role,
    Team,
    TeamMember,
    TeamMemberRole,
    User,
)
from app.auth.services import hash_password
from app.extensions import db
from app.residents.models import (
    CaregiverLink,
    CaregiverRelationship,
    CaregiverScope,
    Household,
    Resident,
    ResidentCondition,
    Sex,
)
from app.timeutil import local_today

PASSWORD = "correct-horse-9"
_seq = itertools.count(1)


def national_id_for(birth: date, sex: Sex = Sex.FEMALE, seq: int | None = None) -> str:
    seq = next(_seq) if seq is None else seq
    order = f"{seq % 100:02d}{1 if sex == Sex.MALE else 2}"
    return idcard.make(f"310115{birth:%Y%m%d}{order}")


@pytest.fixture
def make_org():
    def _make(kind=OrganisationKind.COMMUNITY_CENTRE, parent=None, **kw) -> Organisation:
        n = next(_seq)
        org = Organisation(
            code=kw.pop("code", f"ORG{n}"),
            name=kw.pop("name", f"Organisation {n}"),
            kind=kind,
            parent=parent,
            **kw,
        )
        db.session.add(org)
        db.session.flush()
        return org

    return _make


@pytest.fixture
def make_user():
    _hash = None

    def _make(role=Role.DOCTOR, **kw) -> User:
        nonlocal _hash
        if _hash is None:
            _hash = hash_password(PASSWORD)  # hashed once per test: argon2 is slow on purpose
        n = next(_seq)
        user = User(
            username=kw.pop("username", f"{role.value}{n}"),
            display_name=kw.pop("display_name", f"{role.value.title()} {n}"),
            password_hash=kw.pop("password_hash", _hash),
            role=role,
            **kw,
        )
        db.session.add(user)
        db.session.flush()
        return user

    return _make


@pytest.fixture
def make_neighbourhood(make_org):
    def _make(**kw) -> Organisation:
        return make_org(OrganisationKind.NEIGHBOURHOOD_COMMITTEE, **kw)

    return _make


@pytest.fixture
def make_team(make_org, make_user, make_neighbourhood):
    def _make(lead=None, neighbourhoods=None, nurses=1, centre=None, **kw) -> Team:
        centre = centre or make_org(OrganisationKind.COMMUNITY_CENTRE)
        lead = lead or make_user(Role.DOCTOR, organisation_id=centre.id)
        team = Team(
            name=kw.pop("name", f"Team {next(_seq)}"),
            centre=centre,
            neighbourhoods=neighbourhoods if neighbourhoods is not None else [make_neighbourhood()],
            **kw,
        )
        db.session.add(team)
        team.members.append(TeamMember(user=lead, member_role=TeamMemberRole.LEAD))
        for _ in range(nurses):
            nurse = make_user(Role.NURSE, organisation_id=centre.id)
            team.members.append(TeamMember(user=nurse, member_role=TeamMemberRole.NURSE))
        db.session.flush()
        return team

    return _make


@pytest.fixture
def make_resident(make_neighbourhood):
    def _make(
        neighbourhood=None, birth_date=date(1950, 5, 17), sex=Sex.FEMALE, conditions=(), **kw
    ):
        neighbourhood = neighbourhood or make_neighbourhood()
        number = kw.pop("national_id", None) or national_id_for(birth_date, sex)
        resident = Resident(
            name=kw.pop("name", f"居民{next(_seq)}"),
            sex=sex,
            birth_date=birth_date,
            address=kw.pop("address", "高行镇测试路1号"),
            neighbourhood=neighbourhood,
            national_id_ciphertext=crypto.encrypt(number),
            national_id_digest=crypto.digest(number),
            condition_rows=[ResidentCondition(condition=c) for c in conditions],
            **kw,
        )
        db.session.add(resident)
        db.session.flush()
        return resident

    return _make


@pytest.fixture
def make_household(make_neighbourhood):
    def _make(neighbourhood=None, **kw) -> Household:
        neighbourhood = neighbourhood or make_neighbourhood()
        household = Household(
            code=kw.pop("code", f"HH{next(_seq)}"),
            address=kw.pop("address", "测试路2号"),
            neighbourhood=neighbourhood,
            **kw,
        )
        db.session.add(household)
        db.session.flush()
        return household

    return _make


@pytest.fixture
def make_link(make_user):
    def _make(resident, caregiver=None, scope=CaregiverScope.CARE, granted_by=None, **kw):
        caregiver = caregiver or make_user(Role.CAREGIVER)
        link = CaregiverLink(
            resident=resident,
            caregiver=caregiver,
            scope=scope,
            relationship_kind=kw.pop("relationship_kind", CaregiverRelationship.FAMILY_MEMBER),
            ends_on=kw.pop("ends_on", local_today() + timedelta(days=180)),
            granted_by=granted_by or caregiver,
            **kw,
        )
        db.session.add(link)
        db.session.flush()
        return link

    return _make


@pytest.fixture
def make_resident_user(make_user):
    def _make(resident, **kw) -> User:
        return make_user(Role.RESIDENT, resident_id=resident.id, **kw)

    return _make


@pytest.fixture
def make_contract():
    def _make(resident, team, requested_by, days: int = 365, **kw):
        """A contract in force from today for `days` (the figures read its active days)."""
        from app.contracts.models import Contract, ContractStatus, ServicePackage

        ends = local_today() + timedelta(days=days)
        contract = Contract(
            resident=resident,
            team=team,
            package=kw.pop("package", ServicePackage.ELDERLY),
            status=ContractStatus.ACTIVE,
            start_date=local_today(),
            end_date=ends,
            active_from=local_today(),
            active_until=ends,
            requested_by_id=requested_by.id,
            **kw,
        )
        db.session.add(contract)
        return contract

    return _make
