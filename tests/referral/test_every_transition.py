"""Every action from every state: allowed ones move, all others are refused with the
current state. And every state reads as valid FHIR (fhir.resources, R4B)."""

import pytest
from fhir.resources.R4B.bundle import Bundle

from app.accounts.models import Role
from app.extensions import db
from referral import services
from referral.fhir import TASK_STATUS, referral_bundle
from referral.models import ReferralReturn, ReferralStatus
from referral.services import TRANSITIONS, WrongState

RETURN = {"discharge_summary": "好转", "diagnoses": "高血压", "care_plan": "随访"}


def actions(loop):
    """Each action as a call by the person allowed to take it."""
    doctor = loop["team"].lead
    nurse = next(m.user for m in loop["team"].members if m.user.role == Role.NURSE)
    specialist = loop["specialist_user"]
    return {
        "send": lambda r: services.send(doctor, r),
        "mark_seen": lambda r: services.mark_seen(specialist, r),
        "ask_info": lambda r: services.ask_info(specialist, r, "请补充"),
        "answer": lambda r: services.answer(doctor, r, "已补充"),
        "accept": lambda r: services.accept(specialist, r, loop["slots"][3].id),
        "reject": lambda r: services.reject(specialist, r, "不需要"),
        "cancel": lambda r: services.cancel(doctor, r),
        "admit": lambda r: services.admit(specialist, r),
        "complete": lambda r: services.complete(specialist, r),
        "return": lambda r: services.return_to_community(specialist, r, dict(RETURN)),
        "accept_return": lambda r: services.accept_return(nurse, r),
        "acknowledge": lambda r: services.acknowledge(doctor, r),
    }


@pytest.fixture
def specialist_loop(loop, make_user):
    loop["specialist_user"] = make_user(Role.SPECIALIST, organisation_id=loop["cardiology"].id)
    return loop


def referral_in(state, loop, referral_body):
    """A referral put straight into `state`, with what that state implies."""
    data = {k: v for k, v in referral_body.items() if k != "resident_id"}
    referral = services.draft_referral(loop["team"].lead, loop["resident"], data)
    referral.status = state
    if state in (ReferralStatus.RETURNED, ReferralStatus.RETURN_ACCEPTED, ReferralStatus.CLOSED):
        db.session.add(
            ReferralReturn(referral=referral, returned_by_id=loop["team"].lead.id, **RETURN)
        )
    db.session.flush()
    return referral


CASES = [(state, action) for state in ReferralStatus for action in TRANSITIONS]


@pytest.mark.parametrize(("state", "action"), CASES, ids=lambda v: getattr(v, "value", v))
def test_action_from_state(state, action, specialist_loop, referral_body):
    referral = referral_in(state, specialist_loop, referral_body)
    allowed_from, to = TRANSITIONS[action]
    call = actions(specialist_loop)[action]
    if state in allowed_from:
        call(referral)
        assert referral.status == to
    else:
        with pytest.raises(WrongState) as refused:
            call(referral)
        assert refused.value.extra["current"] == state.value
        assert referral.status == state


@pytest.mark.parametrize("state", list(ReferralStatus), ids=lambda s: s.value)
def test_every_state_is_valid_fhir(state, specialist_loop, referral_body):
    referral = referral_in(state, specialist_loop, referral_body)
    bundle = Bundle.model_validate(referral_bundle(referral))
    task = next(e.resource for e in bundle.entry if e.resource.get_resource_type() == "Task")
    request = next(
        e.resource for e in bundle.entry if e.resource.get_resource_type() == "ServiceRequest"
    )
    assert task.status == TASK_STATUS[state]
    assert task.basedOn[0].reference == f"ServiceRequest/{request.id}"
    assert request.subject.reference == f"Patient/{specialist_loop['resident'].id}"
