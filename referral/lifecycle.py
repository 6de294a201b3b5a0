"""Scheduled work on referrals: time limits. Each takes `now`, so tests control the clock."""

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.audit.services import record_event
from app.errors import N_
from app.extensions import db
from app.timeutil import utcnow
from referral.models import Referral, ReferralReturn, ReferralStatus, Urgency
from referral.notices import tell_escalation, tell_return_overdue
from referral.services import WAITING_FOR_HOSPITAL

# Reasons recorded on the events: message ids, translated where shown.
NOT_ACCEPTED_IN_TIME = N_("not accepted within the time limit")
NOT_ACKNOWLEDGED_IN_TIME = N_("return not acknowledged within the time limit")


def accept_within_hours() -> dict[Urgency, int]:
    config = current_app.config
    return {
        Urgency.URGENT: config["REFERRAL_URGENT_ACCEPT_HOURS"],
        Urgency.EMERGENCY: config["REFERRAL_EMERGENCY_ACCEPT_HOURS"],
    }


def escalate_unaccepted(now: datetime | None = None) -> int:
    """Urgent and emergency referrals not accepted in time go to the department lead, and
    the referring doctor is told. Once per referral."""
    now = now or utcnow()
    escalated = 0
    for urgency, hours in accept_within_hours().items():
        late = db.session.scalars(
            sa.select(Referral).where(
                Referral.urgency == urgency,
                Referral.status.in_(WAITING_FOR_HOSPITAL),
                Referral.escalated_at.is_(None),
                Referral.sent_at <= now - timedelta(hours=hours),
            )
        ).all()
        for referral in late:
            referral.escalated_at = now
            record_event(
                "referral",
                referral.id,
                "referral.escalated",
                referral.status,
                referral.status,
                reason=NOT_ACCEPTED_IN_TIME,
                data={"lead_id": referral.department.lead_user_id, "hours": hours},
            )
            tell_escalation(referral, hours)
            escalated += 1
    db.session.flush()
    return escalated


def flag_unacknowledged_returns(now: datetime | None = None) -> int:
    """Returns the community has not acknowledged within REFERRAL_RETURN_ACK_DAYS are
    flagged on the team's worklist, and the team is told. Once per return."""
    now = now or utcnow()
    days = current_app.config["REFERRAL_RETURN_ACK_DAYS"]
    overdue = db.session.scalars(
        sa.select(ReferralReturn)
        .join(Referral)
        .where(
            Referral.status.in_((ReferralStatus.RETURNED, ReferralStatus.RETURN_ACCEPTED)),
            ReferralReturn.overdue_flagged_at.is_(None),
            ReferralReturn.returned_at <= now - timedelta(days=days),
        )
    ).all()
    for discharge in overdue:
        discharge.overdue_flagged_at = now
        referral = discharge.referral
        record_event(
            "referral",
            referral.id,
            "referral.return_overdue",
            referral.status,
            referral.status,
            reason=NOT_ACKNOWLEDGED_IN_TIME,
            data={"days": days},
        )
        tell_return_overdue(referral, days)
    db.session.flush()
    return len(overdue)
