"""The contract state machine. Every transition happens here and is recorded as an event.

requested | drafted -> pending_consent -> active -> expiring -> renewed | expired
active | expiring -> terminated (reason required); requested -> rejected (reason required);
requested | drafted | pending_consent -> cancelled. A new contract with another team ends
the old one when it becomes active (terminated, "changed team"); a renewal takes over from
the old one at its end date (the old one becomes renewed).
"""

from datetime import date

import sqlalchemy as sa
from flask import current_app

from app.accounts.models import HOSPITAL_KINDS, Organisation, OrganisationKind, Role, Team, User
from app.audit.services import record_access, record_event
from app.contracts.models import (
    IN_FORCE,
    OPEN,
    ConsentMethod,
    Contract,
    ContractConsent,
    ContractStatus,
)
from app.errors import N_, Conflict, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.policy import can_see_resident, is_team_member
from app.residents.models import CaregiverScope, Resident
from app.timeutil import add_months, local_today

S = ContractStatus
TRANSITIONS = {
    "accept": ({S.REQUESTED, S.DRAFTED}, S.PENDING_CONSENT),
    "consent": ({S.PENDING_CONSENT}, S.ACTIVE),
    "reject": ({S.REQUESTED}, S.REJECTED),
    "cancel": ({S.REQUESTED, S.DRAFTED, S.PENDING_CONSENT}, S.CANCELLED),
    "terminate": ({S.ACTIVE, S.EXPIRING}, S.TERMINATED),
    "mark_expiring": ({S.ACTIVE}, S.EXPIRING),
    "expire": ({S.ACTIVE, S.EXPIRING}, S.EXPIRED),
    "renewed": ({S.ACTIVE, S.EXPIRING}, S.RENEWED),
}


# Reasons the platform itself gives (translated where shown, like any message id).
CHANGED_TEAM = N_("changed team")
END_DATE_REACHED = N_("end date reached")
RENEWAL_WINDOW = N_("within the renewal window")


class WrongState(Conflict):
    def __init__(self, contract: Contract, action: str):
        super().__init__(
            N_("not allowed (%(action)s) while the contract is %(status)s"),
            field="status",
            params={"status": contract.status.value, "action": action},
            current=contract.status.value,
        )


def _move(contract: Contract, action: str, actor: User | None, reason=None, data=None) -> None:
    allowed_from, to = TRANSITIONS[action]
    if contract.status not in allowed_from:
        raise WrongState(contract, action)
    before, contract.status = contract.status, to
    db.session.flush()  # the partial unique indexes judge each step
    record_event("contract", contract.id, f"contract.{to.value}", before, to, reason, data, actor)


def _require_reason(reason: str | None) -> str:
    if not (reason and reason.strip()):
        raise InvalidInput(N_("a reason is required"), field="reason")
    return reason.strip()


# --- who may do what -----------------------------------------------------------------------


def may_act_for_team(user: User, contract: Contract) -> bool:
    return user.role == Role.ADMIN or (
        user.role in (Role.DOCTOR, Role.NURSE) and is_team_member(user, contract.team_id)
    )


def may_request_for(user: User, resident: Resident) -> bool:
    """The resident themself, or a caregiver whose link has proxy scope."""
    if user.role == Role.RESIDENT:
        return user.resident_id == resident.id
    return user.role == Role.CAREGIVER and can_see_resident(user, resident.id, CaregiverScope.PROXY)


def _require_team(user: User, contract: Contract) -> None:
    if not may_act_for_team(user, contract):
        raise Forbidden(N_("only the contract's family-doctor team can do this"))


# --- look-ups ------------------------------------------------------------------------------


def get_contract(user: User, contract_id: int, reason: str | None = None) -> Contract:
    """The contract if `user` may see its resident (audited); otherwise NotFound."""
    contract = db.session.get(Contract, contract_id)
    if contract is None or not (
        can_see_resident(user, contract.resident_id) or may_act_for_team(user, contract)
    ):
        raise NotFound(N_("contract not found"))
    if user.role == Role.ADMIN and not (reason and reason.strip()):
        raise Forbidden(
            N_("an administrator must give a reason to read a resident's record"), field="reason"
        )
    record_access("view", contract.resident_id, "contract", contract.id, reason=reason, actor=user)
    return contract


def current_contract(resident_id: int, on: date | None = None) -> Contract | None:
    """The contract in force on a date (today by default), from its active days."""
    on = on or local_today()
    return db.session.scalars(
        sa.select(Contract).where(
            Contract.resident_id == resident_id,
            Contract.active_from <= on,
            Contract.active_until > on,
        )
    ).first()


def open_contract(resident_id: int) -> Contract | None:
    return db.session.scalars(
        sa.select(Contract).where(Contract.resident_id == resident_id, Contract.status.in_(OPEN))
    ).first()


def team_load(team_id: int) -> int:
    """Residents under contract with the team (in force or consented to start later)."""
    query = sa.select(sa.func.count(Contract.id)).where(
        Contract.team_id == team_id, Contract.status.in_(IN_FORCE)
    )
    return db.session.scalar(query) or 0


def team_loads() -> dict[int, int]:
    """team id -> residents under contract with it, for every team at once."""
    query = (
        sa.select(Contract.team_id, sa.func.count(Contract.id))
        .where(Contract.status.in_(IN_FORCE))
        .group_by(Contract.team_id)
    )
    return dict(db.session.execute(query).all())


def _check_capacity(team: Team) -> None:
    if team.capacity is not None and team_load(team.id) >= team.capacity:
        raise Conflict(
            N_("the team's panel is full (%(capacity)s residents); choose another team"),
            field="team_id",
            params={"capacity": team.capacity},
        )


# --- creating requests and drafts ------------------------------------------------------------


def _check_terms(data: dict) -> Team:
    team = db.session.get(Team, data["team_id"])
    if team is None or not team.active:
        raise InvalidInput(N_("no such active team"), field="team_id")
    for field, kind in (
        ("district_hospital_id", OrganisationKind.DISTRICT_HOSPITAL),
        ("municipal_hospital_id", OrganisationKind.MUNICIPAL_HOSPITAL),
    ):
        org_id = data.get(field)
        if org_id is None:
            continue
        org = db.session.get(Organisation, org_id)
        if org is None or org.kind != kind or org.kind not in HOSPITAL_KINDS or not org.active:
            raise InvalidInput(N_("not a hospital of that level"), field=field)
    return team


def _new_contract(user: User, resident: Resident, data: dict, status: S) -> Contract:
    team = _check_terms(data)
    if open_contract(resident.id) is not None:
        raise Conflict(
            N_("this resident already has a contract waiting to be signed"), field="resident_id"
        )
    current = current_contract(resident.id)
    renews = current if current is not None and current.team_id == team.id else None
    start = current.active_until if renews is not None else local_today()
    end = add_months(start, current_app.config["CONTRACT_TERM_MONTHS"])
    contract = Contract(
        resident=resident,
        team=team,
        status=status,
        start_date=start,
        end_date=end,
        package=data["package"],
        district_hospital_id=data.get("district_hospital_id"),
        municipal_hospital_id=data.get("municipal_hospital_id"),
        renews=renews,
        requested_by_id=user.id,
    )
    db.session.add(contract)
    db.session.flush()
    record_event(
        "contract",
        contract.id,
        f"contract.{status.value}",
        None,
        status,
        actor=user,
        data={"team_id": team.id, "renews_id": renews.id if renews else None},
    )
    record_access("create", resident.id, "contract", contract.id, actor=user)
    return contract


def request_contract(user: User, resident: Resident, data: dict) -> Contract:
    """Asked for online by the resident, or by a caregiver with proxy consent."""
    if not may_request_for(user, resident):
        raise Forbidden(N_("only the resident or a proxy caregiver can request signing"))
    return _new_contract(user, resident, data, S.REQUESTED)


def draft_contract(user: User, resident: Resident, data: dict) -> Contract:
    """Prepared by the team (or an administrator) for the resident to consent to."""
    contract = _new_contract(user, resident, data, S.DRAFTED)
    _require_team(user, contract)
    return contract


# --- transitions ---------------------------------------------------------------------------


def accept(user: User, contract: Contract) -> Contract:
    _require_team(user, contract)
    if contract.status in TRANSITIONS["accept"][0]:
        _check_capacity(contract.team)
    _move(contract, "accept", user)
    return contract


def reject(user: User, contract: Contract, reason: str | None) -> Contract:
    _require_team(user, contract)
    contract.end_reason = _require_reason(reason)
    _move(contract, "reject", user, contract.end_reason)
    return contract


def cancel(user: User, contract: Contract, reason: str | None = None) -> Contract:
    if not (may_act_for_team(user, contract) or may_request_for(user, contract.resident)):
        raise Forbidden(N_("only the resident, a proxy caregiver or the team can cancel"))
    contract.end_reason = reason
    _move(contract, "cancel", user, reason)
    return contract


def _consent_method_allowed(user: User, contract: Contract, method: ConsentMethod) -> bool:
    if method == ConsentMethod.ONLINE:
        return user.role == Role.RESIDENT and user.resident_id == contract.resident_id
    if method == ConsentMethod.PROXY:
        return user.role == Role.CAREGIVER and may_request_for(user, contract.resident)
    return may_act_for_team(user, contract)  # in person, recorded by the team


def record_consent(user: User, contract: Contract, method: ConsentMethod, text_version: str):
    """The resident's consent makes the contract active, ending or renewing the old one."""
    if not _consent_method_allowed(user, contract, method):
        raise Forbidden(N_("this consent cannot be given or recorded by you"))
    if contract.status not in TRANSITIONS["consent"][0]:
        raise WrongState(contract, "consent")
    if text_version != current_app.config["CONSENT_TEXT_VERSION"]:
        raise InvalidInput(
            N_("the agreement text has changed (now version %(version)s); read it again"),
            field="text_version",
            params={"version": current_app.config["CONSENT_TEXT_VERSION"]},
        )
    _check_capacity(contract.team)
    _end_current(user, contract)
    today = local_today()
    contract.active_from = max(contract.start_date, today)
    contract.active_until = contract.end_date
    given_by = None if method == ConsentMethod.IN_PERSON else user.id
    db.session.add(
        ContractConsent(
            contract=contract,
            method=method,
            given_by_id=given_by,
            recorded_by_id=user.id,
            text_version=text_version,
        )
    )
    _move(contract, "consent", user, data={"method": method.value})
    return contract


def _end_current(user: User, contract: Contract) -> None:
    old = db.session.scalars(
        sa.select(Contract).where(
            Contract.resident_id == contract.resident_id, Contract.status.in_(IN_FORCE)
        )
    ).first()
    if old is None:
        return
    if contract.renews_id == old.id:
        _move(old, "renewed", user, data={"renewed_by": contract.id})
        return
    old.active_until = min(old.active_until, local_today())
    old.end_reason = CHANGED_TEAM
    _move(old, "terminate", user, CHANGED_TEAM, data={"replaced_by": contract.id})
    contract.start_date = max(contract.start_date, local_today())


def terminate(user: User, contract: Contract, reason: str | None) -> Contract:
    _require_team(user, contract)
    contract.end_reason = _require_reason(reason)
    if contract.status in TRANSITIONS["terminate"][0]:
        contract.active_until = min(contract.active_until, local_today())
    _move(contract, "terminate", user, contract.end_reason)
    return contract
