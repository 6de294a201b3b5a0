"""A chronic-disease follow-up that calls for referral (two unsatisfactory in a row, or new or
worse complications: app/followups/rules.py) puts a system-drafted referral on the team's
worklist; a doctor reviews and sends it (nothing is sent by the platform). Registered with
app/followups/schedule.py, which knows nothing of referrals."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext

from app.accounts.models import User
from app.audit.services import record_event
from app.contracts.services import current_contract
from app.errors import N_, DomainError
from app.extensions import db
from app.followups.models import FollowUp
from app.followups.schedule import register_referral_drafter
from app.residents.models import Resident
from app.timeutil import to_local
from referral.destinations import choose_destination
from referral.models import Referral, ReferralSource, ReferralStatus, Urgency
from referral.services import draft_referral

SPECIALTY = {"hypertension": "cardiology", "type2_diabetes": "endocrinology"}
REASONS = {
    "complications": N_("Chronic-disease follow-up: new or worse complications"),
    "unsatisfactory": N_("Chronic-disease follow-up: not controlled twice in a row"),
}
SUMMARY = N_("Follow-up of %(date)s: %(findings)s")
OTHER_HOSPITAL = N_(
    "drafted by the platform: the resident signed with no hospital that has this department"
)


@register_referral_drafter
def draft_for(follow_up: FollowUp, actor: User | None) -> int | None:
    """The drafted referral's id; a system draft still waiting for review is reused (a third
    bad result in a row must not pile up drafts)."""
    pending = db.session.scalar(
        sa.select(Referral.id).where(
            Referral.resident_id == follow_up.resident_id,
            Referral.source == ReferralSource.SYSTEM,
            Referral.status == ReferralStatus.DRAFT,
        )
    )
    if pending is not None:
        return pending
    resident = db.session.get(Resident, follow_up.resident_id)
    hospital, department = choose_destination(
        resident.id, follow_up.team_id, SPECIALTY.get(follow_up.condition or "")
    )
    if department is None:
        _not_drafted(follow_up, N_("no hospital department to refer to"))
        return None
    try:
        with db.session.begin_nested():
            referral = draft_referral(
                None, resident, _data(follow_up, hospital, department.id), ReferralSource.SYSTEM
            )
    except DomainError as exc:
        _not_drafted(follow_up, exc.message_id)
        return None
    return referral.id


def _not_drafted(follow_up: FollowUp, why: str) -> None:
    record_event("follow_up", follow_up.id, "follow_up.referral_not_drafted", reason=why)


def _findings(form: dict) -> str:
    parts = []
    if form.get("systolic"):
        parts.append(f"BP {form['systolic']}/{form['diastolic']} mmHg")
    if form.get("fasting_glucose"):
        parts.append(f"FPG {form['fasting_glucose']} mmol/L")
    if form.get("heart_rate"):
        parts.append(f"HR {form['heart_rate']}/min")
    if form.get("side_effects_detail"):
        parts.append(form["side_effects_detail"])
    return "; ".join(parts) or "-"


def _data(follow_up: FollowUp, hospital_id: int, department_id: int) -> dict:
    # A document the doctor reads, edits and sends on: in the platform's language.
    key = "complications" if follow_up.classification == "complications" else "unsatisfactory"
    done = to_local(follow_up.done_at).date().isoformat() if follow_up.done_at else ""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        data = {
            "team_id": follow_up.team_id,
            "department_id": department_id,
            "urgency": Urgency.ROUTINE,
            "reason": gettext(REASONS[key]),
            "clinical_summary": gettext(
                SUMMARY, date=done, findings=_findings(follow_up.form or {})
            ),
        }
        contract = current_contract(follow_up.resident_id)
        signed = (
            {contract.district_hospital_id, contract.municipal_hospital_id} if contract else set()
        )
        if hospital_id not in signed:
            data["other_hospital_reason"] = gettext(OTHER_HOSPITAL)
    return data
