"""The referral state machine. Every transition happens here and is recorded as an event.

draft -> sent -> seen -> (info_requested <-> seen) -> accepted -> admitted -> completed
accepted | admitted | completed -> returned -> return_accepted -> closed (the loop)
sent | seen | info_requested -> rejected (reason); draft ... accepted -> cancelled
"""

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.accounts.models import HOSPITAL_KINDS, Organisation, OrganisationKind, Role, User
from app.audit.services import record_access, record_event
from app.contracts.services import current_contract
from app.errors import N_, Conflict, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.followups import services as followups
from app.followups.models import FollowUpMode, FollowUpSource
from app.policy import can_see_resident, is_team_member, require_admin_reason
from app.residents.models import Resident
from app.timeutil import local_today, utcnow
from referral.models import (
    MessageKind,
    Referral,
    ReferralMessage,
    ReferralReturn,
    ReferralSource,
    ReferralStatus,
)
from referral.slots import book_slot, release_slot

S = ReferralStatus
TRANSITIONS = {
    "send": ({S.DRAFT}, S.SENT),
    "mark_seen": ({S.SENT}, S.SEEN),
    "ask_info": ({S.SENT, S.SEEN}, S.INFO_REQUESTED),
    "answer": ({S.INFO_REQUESTED}, S.SEEN),
    "accept": ({S.SENT, S.SEEN}, S.ACCEPTED),
    "reject": ({S.SENT, S.SEEN, S.INFO_REQUESTED}, S.REJECTED),
    "cancel": ({S.DRAFT, S.SENT, S.SEEN, S.INFO_REQUESTED, S.ACCEPTED}, S.CANCELLED),
    "admit": ({S.ACCEPTED}, S.ADMITTED),
    "complete": ({S.ACCEPTED, S.ADMITTED}, S.COMPLETED),
    "return": ({S.ACCEPTED, S.ADMITTED, S.COMPLETED}, S.RETURNED),
    "accept_return": ({S.RETURNED}, S.RETURN_ACCEPTED),
    "acknowledge": ({S.RETURN_ACCEPTED}, S.CLOSED),
}
WAITING_FOR_HOSPITAL = (S.SENT, S.SEEN, S.INFO_REQUESTED)


class WrongState(Conflict):
    def __init__(self, referral: Referral, action: str):
        super().__init__(
            N_("not allowed (%(action)s) while the referral is %(status)s"),
            field="status",
            params={"status": referral.status.value, "action": action},
            current=referral.status.value,
        )


def _move(referral: Referral, action: str, actor: User | None, reason=None, data=None) -> None:
    allowed_from, to = TRANSITIONS[action]
    if referral.status not in allowed_from:
        raise WrongState(referral, action)
    before, referral.status = referral.status, to
    db.session.flush()
    record_event("referral", referral.id, f"referral.{to.value}", before, to, reason, data, actor)


def _required(value: str | None, field: str) -> str:
    if not (value and value.strip()):
        raise InvalidInput(N_("this is required"), field=field)
    return value.strip()


# --- who may do what -----------------------------------------------------------------------


def is_hospital_side(user: User, referral: Referral) -> bool:
    return user.role == Role.SPECIALIST and user.organisation_id == referral.department_id


def is_referring_side(user: User, referral: Referral) -> bool:
    return user.role in (Role.DOCTOR, Role.NURSE) and is_team_member(user, referral.team_id)


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise Forbidden(message)


def _require_hospital(user: User, referral: Referral) -> None:
    _require(is_hospital_side(user, referral), N_("only the receiving department can do this"))


def _require_referring_doctor(user: User, referral: Referral) -> None:
    allowed = user.role == Role.DOCTOR and is_team_member(user, referral.team_id)
    _require(allowed, N_("only a doctor of the referring team can do this"))


def get_referral(user: User, referral_id: int, reason: str | None = None) -> Referral:
    """The referral if `user` may see it (audited); otherwise NotFound."""
    referral = db.session.get(Referral, referral_id)
    if referral is None:
        raise NotFound(N_("referral not found"))
    visible = is_referring_side(user, referral) or (
        is_hospital_side(user, referral) and referral.status != S.DRAFT
    )
    if not visible and user.role in (Role.RESIDENT, Role.CAREGIVER, Role.ADMIN):
        visible = referral.status != S.DRAFT and can_see_resident(user, referral.resident_id)
    if not visible:
        raise NotFound(N_("referral not found"))
    require_admin_reason(user, reason)
    record_access("view", referral.resident_id, "referral", referral.id, reason=reason, actor=user)
    return referral


# --- drafting and sending ------------------------------------------------------------------


def _check_destination(resident: Resident, data: dict) -> tuple[Organisation, Organisation]:
    department = db.session.get(Organisation, data["department_id"])
    if (
        department is None
        or department.kind != OrganisationKind.DEPARTMENT
        or not department.active
    ):
        raise InvalidInput(N_("no such hospital department"), field="department_id")
    hospital = department.parent
    if hospital is None or hospital.kind not in HOSPITAL_KINDS:
        raise InvalidInput(N_("this department is not in a hospital"), field="department_id")
    contract = current_contract(resident.id)
    signed = {contract.district_hospital_id, contract.municipal_hospital_id} if contract else set()
    if hospital.id not in signed and not (data.get("other_hospital_reason") or "").strip():
        raise InvalidInput(
            N_("the resident did not sign with this hospital: give the reason for choosing it"),
            field="other_hospital_reason",
        )
    return hospital, department


def draft_referral(
    user: User, resident: Resident, data: dict, source: ReferralSource = ReferralSource.DOCTOR
) -> Referral:
    """A referral written by a doctor of the resident's team (or proposed by the system:
    then `user` is None and a doctor must review and send it)."""
    team_id = data.pop("team_id", None)
    if user is not None:
        team_id = _team_of(user, resident, team_id)
    hospital, department = _check_destination(resident, data)
    referral = Referral(
        resident=resident,
        team_id=team_id,
        hospital=hospital,
        department=department,
        status=S.DRAFT,
        source=source,
        referring_doctor_id=user.id if user else None,
        urgency=data["urgency"],
        reason=_required(data.get("reason"), "reason"),
        clinical_summary=_required(data.get("clinical_summary"), "clinical_summary"),
        current_medication=data.get("current_medication"),
        other_hospital_reason=data.get("other_hospital_reason"),
        vitals=data.get("vitals"),
    )
    db.session.add(referral)
    db.session.flush()
    record_event(
        "referral",
        referral.id,
        "referral.draft",
        None,
        S.DRAFT,
        actor=user,
        data={"source": source.value},
    )
    record_access("create", resident.id, "referral", referral.id, actor=user)
    return referral


def _team_of(user: User, resident: Resident, team_id: int | None) -> int:
    """The referring team: the one given, if the doctor is in it, else the doctor's team that
    serves the resident."""
    if user.role != Role.DOCTOR:
        raise Forbidden(N_("only a family doctor can refer a resident"))
    teams = [m.team for m in user.memberships if m.team.active]
    if team_id is not None:
        if not any(t.id == team_id for t in teams):
            raise InvalidInput(N_("you are not a member of this team"), field="team_id")
        return team_id
    serving = [t for t in teams if resident.neighbourhood_id in {n.id for n in t.neighbourhoods}]
    chosen = (serving or teams)[:1]
    if not chosen:
        raise InvalidInput(N_("you are not in a family-doctor team"), field="team_id")
    return chosen[0].id


def send(user: User, referral: Referral, slot_id: int | None = None) -> Referral:
    """A doctor sends the referral (nothing is sent without one), booking a reserved slot."""
    _require_referring_doctor(user, referral)
    _move(referral, "send", user, data={"slot_id": slot_id})
    referral.sent_at = utcnow()
    referral.referring_doctor_id = user.id
    if slot_id is not None:
        book_slot(referral, slot_id, reserved_only=True)
    return referral


# --- the hospital side ---------------------------------------------------------------------


def mark_seen(user: User, referral: Referral) -> Referral:
    _require_hospital(user, referral)
    _move(referral, "mark_seen", user)
    return referral


def _message(user: User, referral: Referral, kind: MessageKind, body: str, field: str):
    db.session.add(
        ReferralMessage(
            referral=referral, author_id=user.id, kind=kind, body=_required(body, field)
        )
    )


def ask_info(user: User, referral: Referral, question: str) -> Referral:
    _require_hospital(user, referral)
    _message(user, referral, MessageKind.QUESTION, question, "body")
    _move(referral, "ask_info", user)
    return referral


def answer(user: User, referral: Referral, body: str) -> Referral:
    _require_referring_doctor(user, referral)
    _message(user, referral, MessageKind.ANSWER, body, "body")
    _move(referral, "answer", user)
    return referral


def accept(user: User, referral: Referral, slot_id: int | None = None) -> Referral:
    """Accept with an appointment: the slot booked at referral, or one offered now."""
    _require_hospital(user, referral)
    if referral.status not in TRANSITIONS["accept"][0]:
        raise WrongState(referral, "accept")
    if referral.slot is None:
        if slot_id is None:
            raise InvalidInput(N_("choose an appointment slot to offer"), field="slot_id")
        book_slot(referral, slot_id, reserved_only=False)
    referral.accepted_at = utcnow()
    _move(referral, "accept", user, data={"slot_id": referral.slot.id})
    from referral.notices import tell_resident_of_appointment

    tell_resident_of_appointment(referral)
    return referral


def reject(user: User, referral: Referral, reason: str | None) -> Referral:
    _require_hospital(user, referral)
    referral.rejection_reason = _required(reason, "reason")
    _move(referral, "reject", user, referral.rejection_reason)
    release_slot(referral)
    return referral


def cancel(user: User, referral: Referral, reason: str | None = None) -> Referral:
    _require_referring_doctor(user, referral)
    _move(referral, "cancel", user, reason)
    release_slot(referral)
    return referral


def admit(user: User, referral: Referral) -> Referral:
    _require_hospital(user, referral)
    _move(referral, "admit", user)
    return referral


def complete(user: User, referral: Referral) -> Referral:
    _require_hospital(user, referral)
    _move(referral, "complete", user)
    return referral


def return_to_community(user: User, referral: Referral, data: dict) -> Referral:
    """The down-referral: discharge summary, diagnoses, medication changes, care plan."""
    _require_hospital(user, referral)
    if referral.status not in TRANSITIONS["return"][0]:
        raise WrongState(referral, "return")
    actions = data.get("follow_up_actions") or [
        {
            "action": "follow-up after referral",
            "due_in_days": default_follow_up_days(),
            "mode": "clinic",
        }
    ]
    db.session.add(
        ReferralReturn(
            referral=referral,
            returned_by_id=user.id,
            follow_up_actions=actions,
            discharge_summary=_required(data.get("discharge_summary"), "discharge_summary"),
            diagnoses=_required(data.get("diagnoses"), "diagnoses"),
            medication_changes=data.get("medication_changes"),
            long_prescription=bool(data.get("long_prescription")),
            care_plan=_required(data.get("care_plan"), "care_plan"),
        )
    )
    _move(referral, "return", user)
    return referral


def default_follow_up_days() -> int:
    return current_app.config["REFERRAL_FOLLOW_UP_DAYS"]


# --- back in the community -----------------------------------------------------------------


def accept_return(user: User, referral: Referral) -> Referral:
    """The team takes the resident back: the follow-ups the care plan asks for are planned."""
    _require(is_referring_side(user, referral), N_("only the referring team can do this"))
    _move(referral, "accept_return", user)
    discharge = referral.discharge
    discharge.accepted_by_id, discharge.accepted_at = user.id, utcnow()
    for item in discharge.follow_up_actions:
        followups.plan(
            referral.resident_id,
            referral.team_id,
            local_today() + timedelta(days=int(item.get("due_in_days", default_follow_up_days()))),
            item.get("action") or "follow-up after referral",
            FollowUpSource.REFERRAL_RETURN,
            referral.id,
            FollowUpMode(item.get("mode", "clinic")),
            actor=user,
        )
    return referral


def acknowledge(user: User, referral: Referral) -> Referral:
    """The referring doctor has read the return: the loop is closed."""
    _require_referring_doctor(user, referral)
    _move(referral, "acknowledge", user)
    referral.closed_at = utcnow()
    referral.discharge.acknowledged_by_id = user.id
    referral.discharge.acknowledged_at = referral.closed_at
    return referral


def thread(referral: Referral) -> list[ReferralMessage]:
    query = sa.select(ReferralMessage).where(ReferralMessage.referral_id == referral.id)
    return list(db.session.scalars(query.order_by(ReferralMessage.created_at)).all())
