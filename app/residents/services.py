"""The residents' register and caregiver links: the rules."""

import sqlalchemy as sa

from app import crypto, idcard
from app.accounts.models import Organisation, OrganisationKind, Role, User
from app.audit.services import record_access, record_event
from app.errors import N_, Conflict, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.policy import may_grant_caregivers, neighbourhood_ids_served
from app.residents.models import (
    CaregiverLink,
    Household,
    LinkStatus,
    Resident,
    ResidentCondition,
)
from app.timeutil import local_today, utcnow


def national_id(resident: Resident) -> str:
    return crypto.decrypt(resident.national_id_ciphertext)


def masked_national_id(resident: Resident) -> str:
    return idcard.mask(national_id(resident))


def _set_national_id(resident: Resident, number: str) -> None:
    try:
        number = idcard.normalise(number)
    except idcard.InvalidIdNumber as exc:
        raise InvalidInput(exc.args[0], field="national_id") from None
    digest = crypto.digest(number)
    query = sa.select(Resident.id).where(Resident.national_id_digest == digest)
    if resident.id is not None:
        query = query.where(Resident.id != resident.id)
    if db.session.scalar(query) is not None:
        raise Conflict(
            N_("a resident with this national ID is registered already"), field="national_id"
        )
    resident.national_id_ciphertext = crypto.encrypt(number)
    resident.national_id_digest = digest


def _check_neighbourhood(user: User, neighbourhood_id: int) -> None:
    org = db.session.get(Organisation, neighbourhood_id)
    if org is None or org.kind != OrganisationKind.NEIGHBOURHOOD_COMMITTEE:
        raise InvalidInput(N_("no such neighbourhood committee"), field="neighbourhood_id")
    served = neighbourhood_ids_served(user)
    if served is not None and neighbourhood_id not in served:
        raise InvalidInput(
            N_("your teams do not serve this neighbourhood"), field="neighbourhood_id"
        )


def _check_household(household_id: int | None, neighbourhood_id: int) -> None:
    if household_id is None:
        return
    household = db.session.get(Household, household_id)
    if household is None:
        raise InvalidInput(N_("no such household"), field="household_id")
    if household.neighbourhood_id != neighbourhood_id:
        raise InvalidInput(N_("the household is in another neighbourhood"), field="household_id")


def _check_birth_date(birth_date) -> None:
    if birth_date > local_today():
        raise InvalidInput(N_("cannot be in the future"), field="birth_date")


def _set_conditions(resident: Resident, conditions) -> None:
    wanted = set(conditions)
    resident.condition_rows = [r for r in resident.condition_rows if r.condition in wanted]
    have = {r.condition for r in resident.condition_rows}
    resident.condition_rows += [ResidentCondition(condition=c) for c in sorted(wanted - have)]


def register_resident(user: User, data: dict) -> Resident:
    data = dict(data)
    _check_neighbourhood(user, data["neighbourhood_id"])
    _check_household(data.get("household_id"), data["neighbourhood_id"])
    _check_birth_date(data["birth_date"])
    conditions = data.pop("conditions", [])
    number = data.pop("national_id")
    resident = Resident(**data)
    _set_national_id(resident, number)
    if idcard.birth_date(idcard.normalise(number)) != data["birth_date"]:
        raise InvalidInput(
            N_("does not match the birth date in the national ID"), field="birth_date"
        )
    _set_conditions(resident, conditions)
    db.session.add(resident)
    db.session.flush()
    record_event("resident", resident.id, "resident.registered", actor=user)
    record_access("create", resident.id, actor=user)
    return resident


def update_resident(user: User, resident: Resident, data: dict) -> Resident:
    data = dict(data)
    if "neighbourhood_id" in data:
        _check_neighbourhood(user, data["neighbourhood_id"])
    neighbourhood_id = data.get("neighbourhood_id", resident.neighbourhood_id)
    if "household_id" in data or "neighbourhood_id" in data:
        _check_household(data.get("household_id", resident.household_id), neighbourhood_id)
    if "birth_date" in data:
        _check_birth_date(data["birth_date"])
    if "national_id" in data:
        _set_national_id(resident, data.pop("national_id"))
    if "conditions" in data:
        _set_conditions(resident, data.pop("conditions"))
    for key, value in data.items():
        setattr(resident, key, value)
    db.session.flush()
    record_event(
        "resident", resident.id, "resident.updated", data={"fields": sorted(data)}, actor=user
    )
    record_access("update", resident.id, actor=user)
    return resident


# --- households ----------------------------------------------------------------------------


def create_household(user: User, data: dict) -> Household:
    _check_neighbourhood(user, data["neighbourhood_id"])
    if db.session.scalar(sa.select(Household.id).where(Household.code == data["code"])):
        raise Conflict(N_("a household with this code exists already"), field="code")
    household = Household(**data)
    db.session.add(household)
    db.session.flush()
    record_event("household", household.id, "household.created", actor=user)
    return household


def households(user: User):
    query = sa.select(Household).order_by(Household.code)
    served = neighbourhood_ids_served(user)
    if served is not None:
        query = query.where(Household.neighbourhood_id.in_(served))
    return db.session.scalars(query).all()


# --- caregiver links -----------------------------------------------------------------------


def grant_caregiver(user: User, resident: Resident, data: dict) -> CaregiverLink:
    if not may_grant_caregivers(user, resident):
        raise Forbidden(N_("only the resident or their family doctor can grant access"))
    caregiver = db.session.get(User, data["caregiver_id"])
    if caregiver is None or caregiver.role != Role.CAREGIVER or not caregiver.active:
        raise InvalidInput(N_("no such active caregiver account"), field="caregiver_id")
    if data["ends_on"] < local_today():
        raise InvalidInput(N_("cannot be in the past"), field="ends_on")
    if any(link.caregiver_id == caregiver.id for link in resident.active_caregiver_links):
        raise Conflict(
            N_("this caregiver is linked already; revoke the link first"), field="caregiver_id"
        )
    link = CaregiverLink(resident=resident, granted_by_id=user.id, status=LinkStatus.ACTIVE, **data)
    db.session.add(link)
    db.session.flush()
    record_event(
        "caregiver_link",
        link.id,
        "caregiver_link.granted",
        None,
        LinkStatus.ACTIVE,
        data={"resident_id": resident.id, "caregiver_id": caregiver.id, "scope": link.scope},
        actor=user,
    )
    record_access("grant_caregiver", resident.id, "caregiver_link", link.id, actor=user)
    return link


def get_link(resident: Resident, link_id: int) -> CaregiverLink:
    link = db.session.get(CaregiverLink, link_id)
    if link is None or link.resident_id != resident.id:
        raise NotFound(N_("caregiver link not found"))
    return link


_ENDED = {
    LinkStatus.REVOKED: N_("the link is revoked already"),
    LinkStatus.EXPIRED: N_("the link has expired already"),
}


def revoke_caregiver(user: User, link: CaregiverLink, reason: str | None = None) -> CaregiverLink:
    if not may_grant_caregivers(user, link.resident):
        raise Forbidden(N_("only the resident or their family doctor can revoke access"))
    if link.status != LinkStatus.ACTIVE:
        raise Conflict(_ENDED[link.status], field="status", current=link.status.value)
    link.status, link.ended_at = LinkStatus.REVOKED, utcnow()
    db.session.flush()
    record_event(
        "caregiver_link",
        link.id,
        "caregiver_link.revoked",
        LinkStatus.ACTIVE,
        LinkStatus.REVOKED,
        reason=reason,
        actor=user,
    )
    record_access("revoke_caregiver", link.resident_id, "caregiver_link", link.id, actor=user)
    return link


def expire_caregiver_links() -> int:
    """Scheduled: links past their end date become expired (access already stopped by date)."""
    due = db.session.scalars(
        sa.select(CaregiverLink).where(
            CaregiverLink.status == LinkStatus.ACTIVE, CaregiverLink.ends_on < local_today()
        )
    ).all()
    for link in due:
        link.status, link.ended_at = LinkStatus.EXPIRED, utcnow()
        record_event(
            "caregiver_link",
            link.id,
            "caregiver_link.expired",
            LinkStatus.ACTIVE,
            LinkStatus.EXPIRED,
            reason="end date passed",
        )
    db.session.flush()
    return len(due)


def linked_residents(caregiver: User) -> list[Resident]:
    return [link.resident for link in caregiver_links_of(caregiver)]


def caregiver_links_of(caregiver: User) -> list[CaregiverLink]:
    links = db.session.scalars(
        sa.select(CaregiverLink)
        .where(
            CaregiverLink.caregiver_id == caregiver.id, CaregiverLink.status == LinkStatus.ACTIVE
        )
        .order_by(CaregiverLink.priority)
    ).all()
    return [link for link in links if link.in_force]
