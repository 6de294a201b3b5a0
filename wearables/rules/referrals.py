"""Urgent-referral criteria (national follow-up rules): a reading that meets one raises its
alert and also puts a system-drafted referral on the team's worklist, which a doctor
reviews and sends (nothing is sent by the platform).

At most one draft per alert (the alert's events say whether it has one), and none while a
system draft for the resident still waits for review (one BP measurement breaks both the
systolic and the diastolic criterion: one draft, linked to both alerts).

Destination: referral/destinations.py, with the specialty that fits the criterion
(cardiology for blood pressure and heart rate, endocrinology for glucose and fever in
diabetes).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext

from app.alerts.models import Alert
from app.audit.models import Event
from app.audit.services import record_event
from app.contracts.services import current_contract
from app.errors import N_, DomainError
from app.extensions import db
from app.labels import label
from app.timeutil import to_local
from referral.destinations import choose_destination
from referral.models import Referral, ReferralSource, ReferralStatus, Urgency
from referral.services import draft_referral
from wearables.metrics import METRICS
from wearables.rules import messages
from wearables.rules.context import Context, NewReading
from wearables.rules.defaults import Limit
from wearables.rules.guard import writing

SPECIALTY = {
    "systolic_bp": "cardiology",
    "diastolic_bp": "cardiology",
    "heart_rate": "cardiology",
    "blood_glucose": "endocrinology",
    "body_temperature": "endocrinology",
}
LINK_EVENTS = ("alert.referral_drafted", "alert.referral_linked")
NO_TEAM = N_("no family-doctor team serves the resident")
NO_DEPARTMENT = N_("no hospital department to refer to")
DISPLAY_UNITS = {"mm[Hg]": "mmHg", "Cel": "°C"}


def draft_for(ctx: Context, alert: Alert, limit: Limit, readings: list[NewReading]) -> None:
    writing()
    if _has_referral(alert):
        return
    pending = _pending_system_draft(ctx.resident_id)
    if pending is not None:
        _link(alert, "alert.referral_linked", pending)
        return
    if ctx.team_id is None:
        _not_drafted(alert, NO_TEAM)
        return
    hospital, department = choose_destination(
        ctx.resident_id, ctx.team_id, SPECIALTY.get(limit.metric)
    )
    if department is None:
        _not_drafted(alert, NO_DEPARTMENT)
        return
    data = _referral_data(ctx, alert, hospital, department, readings)
    try:
        with db.session.begin_nested():
            referral = draft_referral(None, ctx.resident, data, ReferralSource.SYSTEM)
    except DomainError as exc:  # the destination was refused: say so, keep the alert
        _not_drafted(alert, exc.message_id)
        return
    _link(alert, "alert.referral_drafted", referral)


def _has_referral(alert: Alert) -> bool:
    query = sa.select(Event.id).where(
        Event.entity_type == "alert", Event.entity_id == alert.id, Event.name.in_(LINK_EVENTS)
    )
    return db.session.scalar(query.limit(1)) is not None


def _pending_system_draft(resident_id: int) -> Referral | None:
    query = sa.select(Referral).where(
        Referral.resident_id == resident_id,
        Referral.source == ReferralSource.SYSTEM,
        Referral.status == ReferralStatus.DRAFT,
    )
    return db.session.scalars(query.order_by(Referral.id).limit(1)).first()


def _link(alert: Alert, name: str, referral: Referral) -> None:
    record_event("alert", alert.id, name, data={"referral_id": referral.id})


def _not_drafted(alert: Alert, reason: str) -> None:
    record_event("alert", alert.id, "alert.referral_not_drafted", reason=reason)


# --- what it says ---------------------------------------------------------------------------


def _reading_line(row: NewReading) -> str:
    unit = METRICS[row.metric].unit
    when = to_local(row.measured_at).strftime("%Y-%m-%d %H:%M")
    value = messages.number(row.value)
    return f"{label(row.metric, 'Metric')} {value} {DISPLAY_UNITS.get(unit, unit)} ({when})"


def _referral_data(ctx, alert, hospital_id, department, readings) -> dict:
    # A document the doctor reads, edits and sends on: written in the platform's language.
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        lines = "; ".join(_reading_line(row) for row in readings[:10])
        data = {
            "team_id": ctx.team_id,
            "department_id": department.id,
            "urgency": Urgency.URGENT,
            "reason": gettext(alert.message, **alert.params)[:500],
            "clinical_summary": gettext(messages.REFERRAL_SUMMARY, readings=lines),
            "vitals": [_vital(row) for row in readings[:10]],
        }
        contract = current_contract(ctx.resident_id)
        signed = (
            {contract.district_hospital_id, contract.municipal_hospital_id} if contract else set()
        )
        if hospital_id not in signed:
            data["other_hospital_reason"] = gettext(messages.REFERRAL_OTHER_HOSPITAL)
    return data


def _vital(row: NewReading) -> dict:
    return {
        "metric": row.metric,
        "value": row.value,
        "unit": METRICS[row.metric].unit,
        "measured_at": row.measured_at.isoformat(),
    }
