"""Finding referrals: inboxes, lists, open loops; and who comes to see whom through them."""

import sqlalchemy as sa

from app.accounts.models import Role, TeamMember, User
from app.policy import register_resident_source, require_admin_reason, visible_resident_ids
from referral.models import Referral, ReferralReturn, ReferralStatus

S = ReferralStatus
OPEN_LOOP = (S.ACCEPTED, S.ADMITTED, S.COMPLETED, S.RETURNED, S.RETURN_ACCEPTED)


@register_resident_source
def residents_referred_to_my_department(user: User):
    """A specialist sees the residents referred to their department (never drafts)."""
    if user.role != Role.SPECIALIST or user.organisation_id is None:
        return None
    return sa.select(Referral.resident_id).where(
        Referral.department_id == user.organisation_id, Referral.status != S.DRAFT
    )


def _my_teams(user: User) -> sa.Select:
    return sa.select(TeamMember.team_id).where(TeamMember.user_id == user.id)


def search(user: User, args: dict, reason: str | None = None) -> sa.Select:
    """Referrals the user may see: their team's, their department's, or (resident,
    caregiver, admin with a reason) those of residents they may see."""
    query = sa.select(Referral)
    if user.role in (Role.DOCTOR, Role.NURSE):
        query = query.where(Referral.team_id.in_(_my_teams(user)))
    elif user.role == Role.SPECIALIST:
        query = query.where(
            Referral.department_id == user.organisation_id, Referral.status != S.DRAFT
        )
    else:
        require_admin_reason(user, reason)
        visible = visible_resident_ids(user)
        query = query.where(Referral.status != S.DRAFT)
        if visible is not None:
            query = query.where(Referral.resident_id.in_(visible))
    for field in ("status", "urgency", "resident_id", "department_id", "hospital_id", "team_id"):
        if args.get(field) is not None:
            query = query.where(getattr(Referral, field) == args[field])
    if args.get("open_loop"):
        query = query.where(Referral.status.in_(OPEN_LOOP))
    if args.get("flagged"):
        flagged = sa.select(ReferralReturn.referral_id).where(
            ReferralReturn.overdue_flagged_at.is_not(None)
        )
        query = query.where(Referral.id.in_(flagged), Referral.status != S.CLOSED)
    return query.order_by(Referral.created_at.desc(), Referral.id.desc())
