"""Access policy: who may see and do what. Every route asks here, nowhere else.

Need-to-know, for residents' records:
- a resident sees only themself;
- a caregiver sees residents linked to them, while the link is in force and within its scope;
- a doctor or nurse sees the residents of their teams (the neighbourhood committees a team
  serves), plus residents that features grant them (referrals, contracts) via sources;
- a specialist sees only residents referred to their department (granted by a source);
- an admin manages accounts and reads a resident's record only with a reason, which is logged.
Whatever a user may not see answers 404, so existence is not revealed.
"""

from collections.abc import Callable
from functools import wraps

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

from app.accounts.models import Role, Team, TeamMember, TeamMemberRole, User, team_neighbourhoods
from app.audit.services import record_access
from app.errors import N_, Forbidden, NotFound
from app.extensions import db
from app.residents.models import (
    CaregiverLink,
    CaregiverScope,
    LinkStatus,
    Resident,
)
from app.timeutil import local_today

# Features add further ways a staff member comes to see a resident (a referral to their
# department, a contract with their team). Each returns a SELECT of resident ids.
ResidentSource = Callable[[User], sa.Select | None]
_resident_sources: list[ResidentSource] = []


def register_resident_source(source: ResidentSource) -> ResidentSource:
    _resident_sources.append(source)
    return source


def _served_neighbourhood_ids(user: User) -> sa.Select:
    """Neighbourhoods served by the active teams `user` belongs to."""
    return (
        sa.select(team_neighbourhoods.c.neighbourhood_id)
        .join(TeamMember, TeamMember.team_id == team_neighbourhoods.c.team_id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.user_id == user.id, Team.active.is_(True))
    )


def _team_resident_ids(user: User) -> sa.Select:
    return sa.select(Resident.id).where(
        Resident.neighbourhood_id.in_(_served_neighbourhood_ids(user))
    )


def _caregiver_resident_ids(user: User, scope: CaregiverScope) -> sa.Select:
    from app.residents.models import SCOPE_ORDER

    allowed = [s.value for s in SCOPE_ORDER[SCOPE_ORDER.index(scope) :]]
    return sa.select(CaregiverLink.resident_id).where(
        CaregiverLink.caregiver_id == user.id,
        CaregiverLink.status == LinkStatus.ACTIVE,
        CaregiverLink.ends_on >= local_today(),
        CaregiverLink.scope.in_(allowed),
    )


def visible_resident_ids(user: User, scope: CaregiverScope = CaregiverScope.VIEW):
    """A SELECT of the ids of residents `user` may see; None means every resident (admin)."""
    if user.role == Role.ADMIN:
        return None
    if user.role == Role.RESIDENT:
        return sa.select(sa.literal(user.resident_id if user.resident_id else -1))
    if user.role == Role.CAREGIVER:
        return _caregiver_resident_ids(user, scope)
    selects = [_team_resident_ids(user)] if user.role in (Role.DOCTOR, Role.NURSE) else []
    selects += [s for s in (source(user) for source in _resident_sources) if s is not None]
    if not selects:
        return sa.select(Resident.id).where(sa.false())
    return sa.union(*selects)


def residents_query(user: User) -> sa.Select:
    ids = visible_resident_ids(user)
    query = sa.select(Resident)
    return query if ids is None else query.where(Resident.id.in_(ids))


def can_see_resident(user: User, resident_id: int, scope=CaregiverScope.VIEW) -> bool:
    ids = visible_resident_ids(user, scope)
    if ids is None:
        return True
    query = sa.select(sa.literal(True)).where(sa.literal(resident_id).in_(ids))
    return bool(db.session.scalar(query))


def require_admin_reason(user: User, reason: str | None) -> None:
    if user.role == Role.ADMIN and not (reason and reason.strip()):
        raise Forbidden(
            N_("an administrator must give a reason to read a resident's record"), field="reason"
        )


def get_resident(
    user: User,
    resident_id: int,
    action: str = "view",
    reason: str | None = None,
    scope: CaregiverScope = CaregiverScope.VIEW,
) -> Resident:
    """The resident, if `user` may see them; audited. Otherwise NotFound."""
    resident = db.session.get(Resident, resident_id)
    if resident is None or not can_see_resident(user, resident_id, scope):
        raise NotFound(N_("resident not found"))
    require_admin_reason(user, reason)
    record_access(action, resident.id, reason=reason, actor=user)
    return resident


def may_edit_resident(user: User) -> bool:
    return user.role in (Role.DOCTOR, Role.NURSE, Role.ADMIN)


def may_register_residents(user: User) -> bool:
    return user.role in (Role.DOCTOR, Role.NURSE, Role.ADMIN)


def may_grant_caregivers(user: User, resident: Resident) -> bool:
    """A resident for themself, or a doctor of one of the resident's teams."""
    if user.role == Role.RESIDENT:
        return user.resident_id == resident.id
    return user.role == Role.DOCTOR and can_see_resident(user, resident.id)


def neighbourhood_ids_served(user: User) -> list[int] | None:
    """Neighbourhoods where `user` may register residents; None means anywhere (admin)."""
    if user.role == Role.ADMIN:
        return None
    if user.role not in (Role.DOCTOR, Role.NURSE):
        return []
    return list(db.session.scalars(_served_neighbourhood_ids(user)).all())


def is_team_member(user: User, team_id: int) -> bool:
    return any(m.team_id == team_id and m.team.active for m in user.memberships)


def is_team_lead(user: User, team_id: int) -> bool:
    return any(
        m.team_id == team_id and m.member_role == TeamMemberRole.LEAD for m in user.memberships
    )


def roles_required(*roles: Role):
    """Route decorator: signed in with one of `roles`, else 403 (or the login redirect)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from app.extensions import login_manager

                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
