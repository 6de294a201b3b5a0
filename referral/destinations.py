"""Where a referral the platform drafts goes (an urgent reading, a chronic-disease follow-up
that calls for referral): the hospitals the resident signed with (district first, then
municipal), else (none signed, or no department registered in them) the hospital the team
refers to most, else the first active district hospital; in it the department that fits the
specialty (cardiology, endocrinology) when one exists, else the department the team refers
to most there, else its first department."""

from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import Organisation, OrganisationKind
from app.contracts.services import current_contract
from app.extensions import db
from referral.models import Referral

KEYWORDS = {
    "cardiology": ("心内", "心血管", "cardio"),
    "endocrinology": ("内分泌", "endocrin"),
}


def choose_destination(resident_id: int, team_id: int, specialty: str | None):
    """(hospital id, department) for a system draft; (None, None) when there is none."""
    contract = current_contract(resident_id)
    signed = (
        [h for h in (contract.district_hospital_id, contract.municipal_hospital_id) if h]
        if contract
        else []
    )
    departments = {h: _departments(h) for h in dict.fromkeys(signed)}
    if not any(departments.values()):  # none signed, or no department registered there yet
        fallback = [h for h in (_usual_hospital(team_id), _a_district_hospital()) if h]
        departments = {h: _departments(h) for h in dict.fromkeys(fallback)}
    for hospital, found in departments.items():
        fitting = [d for d in found if _fits(d, specialty)]
        if fitting:
            return hospital, fitting[0]
    for hospital, found in departments.items():
        if found:
            usual = _usual_department(team_id, hospital)
            return hospital, next((d for d in found if d.id == usual), found[0])
    return None, None


def _fits(department: Organisation, specialty: str | None) -> bool:
    text = f"{department.name} {department.code}".lower()
    return specialty is not None and any(word in text for word in KEYWORDS[specialty])


def _departments(hospital_id: int) -> list[Organisation]:
    query = sa.select(Organisation).where(
        Organisation.parent_id == hospital_id,
        Organisation.kind == OrganisationKind.DEPARTMENT,
        Organisation.active.is_(True),
    )
    return list(db.session.scalars(query.order_by(Organisation.id)))


def _most_referred(column, team_id: int, *where):
    query = (
        sa.select(column)
        .where(Referral.team_id == team_id, *where)
        .group_by(column)
        .order_by(sa.func.count().desc(), column)
        .limit(1)
    )
    return db.session.scalar(query)


def _usual_hospital(team_id: int) -> int | None:
    return _most_referred(Referral.hospital_id, team_id)


def _usual_department(team_id: int, hospital_id: int) -> int | None:
    return _most_referred(Referral.department_id, team_id, Referral.hospital_id == hospital_id)


def _a_district_hospital() -> int | None:
    query = sa.select(Organisation.id).where(
        Organisation.kind == OrganisationKind.DISTRICT_HOSPITAL, Organisation.active.is_(True)
    )
    return db.session.scalar(query.order_by(Organisation.id).limit(1))
