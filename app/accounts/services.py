"""Organisations, user accounts and family-doctor teams: the administrator's rules."""

import sqlalchemy as sa

from app.accounts.models import (
    CARE_PROVIDER_KINDS,
    Organisation,
    OrganisationKind,
    Role,
    Team,
    TeamMember,
    TeamMemberRole,
    User,
)
from app.audit.services import record_event
from app.auth.services import hash_password
from app.errors import N_, Conflict, InvalidInput, NotFound
from app.extensions import db

MIN_PASSWORD_LENGTH = 8


# --- organisations -----------------------------------------------------------------------


def _check_parent(kind: OrganisationKind, parent: Organisation | None) -> None:
    if kind == OrganisationKind.DEPARTMENT:
        if parent is None or parent.kind not in CARE_PROVIDER_KINDS:
            raise InvalidInput(
                N_("a department belongs to a hospital or community health centre"),
                field="parent_id",
            )
    elif kind == OrganisationKind.NEIGHBOURHOOD_COMMITTEE:
        if parent is not None and parent.kind != OrganisationKind.COMMUNITY_CENTRE:
            raise InvalidInput(
                N_("a neighbourhood committee can only sit under a community health centre"),
                field="parent_id",
            )
    elif parent is not None:
        raise InvalidInput(
            N_("only departments and neighbourhoods have a parent"), field="parent_id"
        )


def get_organisation(org_id: int) -> Organisation:
    org = db.session.get(Organisation, org_id)
    if org is None:
        raise NotFound(N_("organisation not found"))
    return org


def _unique_code(code: str, exclude_id: int | None = None) -> None:
    query = sa.select(Organisation.id).where(Organisation.code == code)
    if exclude_id is not None:
        query = query.where(Organisation.id != exclude_id)
    if db.session.scalar(query) is not None:
        raise Conflict(N_("an organisation with this code exists already"), field="code")


def create_organisation(data: dict) -> Organisation:
    parent = get_parent(data.get("parent_id"))
    _check_parent(data["kind"], parent)
    _unique_code(data["code"])
    org = Organisation(**data)
    db.session.add(org)
    db.session.flush()
    record_event("organisation", org.id, "organisation.created", to_state="active")
    return org


def get_parent(parent_id: int | None) -> Organisation | None:
    if parent_id is None:
        return None
    parent = db.session.get(Organisation, parent_id)
    if parent is None:
        raise InvalidInput(N_("no such organisation"), field="parent_id")
    return parent


def update_organisation(org: Organisation, data: dict) -> Organisation:
    if "code" in data:
        _unique_code(data["code"], exclude_id=org.id)
    if "parent_id" in data:
        _check_parent(org.kind, get_parent(data["parent_id"]))
    was_active = org.active
    for key, value in data.items():
        setattr(org, key, value)
    db.session.flush()
    if org.active != was_active:
        state = "active" if org.active else "inactive"
        record_event("organisation", org.id, f"organisation.{state}", str(was_active), state)
    return org


def organisations(kind: OrganisationKind | None = None, active_only: bool = False):
    query = sa.select(Organisation).order_by(Organisation.kind, Organisation.name)
    if kind is not None:
        query = query.where(Organisation.kind == kind)
    if active_only:
        query = query.where(Organisation.active.is_(True))
    return db.session.scalars(query).all()


# --- users ---------------------------------------------------------------------------------


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            N_("must be at least %(n)s characters"),
            field="password",
            params={"n": MIN_PASSWORD_LENGTH},
        )


_TAKEN = {
    "username": N_("another account uses this username"),
    "phone": N_("another account uses this phone number"),
}


def _check_unique_user(username: str | None, phone: str | None, exclude_id=None) -> None:
    for field, value in (("username", username), ("phone", phone)):
        if not value:
            continue
        query = sa.select(User.id).where(getattr(User, field) == value)
        if exclude_id is not None:
            query = query.where(User.id != exclude_id)
        if db.session.scalar(query) is not None:
            raise Conflict(_TAKEN[field], field=field)


def _check_organisation_for_role(role: Role, organisation_id: int | None) -> None:
    if organisation_id is None:
        if role == Role.SPECIALIST:
            raise InvalidInput(N_("a specialist belongs to a department"), field="organisation_id")
        return
    org = db.session.get(Organisation, organisation_id)
    if org is None:
        raise InvalidInput(N_("no such organisation"), field="organisation_id")
    if role == Role.SPECIALIST and org.kind != OrganisationKind.DEPARTMENT:
        raise InvalidInput(N_("a specialist belongs to a department"), field="organisation_id")


def create_user(data: dict) -> User:
    data = dict(data)
    password = data.pop("password")
    _check_password(password)
    _check_unique_user(data["username"], data.get("phone"))
    _check_organisation_for_role(data["role"], data.get("organisation_id"))
    if data.get("resident_id") is not None and data["role"] != Role.RESIDENT:
        raise InvalidInput(N_("only a resident's account links to a resident"), field="resident_id")
    user = User(password_hash=hash_password(password), **data)
    db.session.add(user)
    db.session.flush()
    record_event("user", user.id, "user.created", to_state="active", data={"role": user.role})
    return user


def update_user(user: User, data: dict) -> User:
    data = dict(data)
    _check_unique_user(data.get("username"), data.get("phone"), exclude_id=user.id)
    if "role" in data or "organisation_id" in data:
        _check_organisation_for_role(
            data.get("role", user.role), data.get("organisation_id", user.organisation_id)
        )
    if data.get("password"):
        _check_password(data["password"])
        user.password_hash = hash_password(data.pop("password"))
        record_event("user", user.id, "user.password_set")
    data.pop("password", None)
    if "active" in data and data["active"] != user.active:
        set_active(user, data.pop("active"))
    if "role" in data and data["role"] != user.role:
        _check_not_last_admin(user)
        record_event("user", user.id, "user.role_changed", user.role, data["role"])
    for key, value in data.items():
        setattr(user, key, value)
    db.session.flush()
    return user


def _check_not_last_admin(user: User) -> None:
    """The platform always keeps one active administrator, or nobody could manage it."""
    if user.role != Role.ADMIN or not user.active:
        return
    others = sa.select(sa.func.count(User.id)).where(
        User.role == Role.ADMIN, User.active.is_(True), User.id != user.id
    )
    if db.session.scalar(others) == 0:
        raise Conflict(
            N_("the last active administrator cannot be disabled or changed"), field="active"
        )


def set_active(user: User, active: bool, reason: str | None = None) -> User:
    if not active:
        _check_not_last_admin(user)
    before = "active" if user.active else "inactive"
    user.active = active
    if active:
        user.failed_logins, user.locked_until = 0, None
    after = "active" if active else "inactive"
    record_event("user", user.id, f"user.{after}", before, after, reason)
    db.session.flush()
    return user


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(N_("user not found"))
    return user


def users(role: Role | None = None, search: str | None = None):
    query = sa.select(User).order_by(User.role, User.username)
    if role is not None:
        query = query.where(User.role == role)
    if search:
        like = f"%{search}%"
        query = query.where(
            sa.or_(User.username.ilike(like), User.display_name.ilike(like), User.phone == search)
        )
    return db.session.scalars(query).all()


def set_preferences(user: User, locale: str | None = None, large_text: bool | None = None):
    if locale is not None:
        user.locale = locale
    if large_text is not None:
        user.large_text = large_text
    db.session.flush()


# --- teams ---------------------------------------------------------------------------------


def get_team(team_id: int) -> Team:
    team = db.session.get(Team, team_id)
    if team is None:
        raise NotFound(N_("team not found"))
    return team


def _check_centre(centre_id: int) -> None:
    centre = db.session.get(Organisation, centre_id)
    if centre is None or centre.kind != OrganisationKind.COMMUNITY_CENTRE:
        raise InvalidInput(N_("a team belongs to a community health centre"), field="centre_id")


def _neighbourhoods(ids: list[int]) -> list[Organisation]:
    found = db.session.scalars(sa.select(Organisation).where(Organisation.id.in_(ids))).all()
    bad = set(ids) - {o.id for o in found if o.kind == OrganisationKind.NEIGHBOURHOOD_COMMITTEE}
    if bad:
        raise InvalidInput(
            N_("not neighbourhood committees: %(ids)s"),
            field="neighbourhood_ids",
            params={"ids": ", ".join(map(str, sorted(bad)))},
        )
    return list(found)


def create_team(data: dict) -> Team:
    data = dict(data)
    _check_centre(data["centre_id"])
    lead = get_user_for_team(data.pop("lead_id"), TeamMemberRole.LEAD)
    neighbourhoods = _neighbourhoods(data.pop("neighbourhood_ids", []))
    team = Team(**data, neighbourhoods=neighbourhoods)
    db.session.add(team)
    team.members.append(TeamMember(user=lead, member_role=TeamMemberRole.LEAD))
    db.session.flush()
    record_event("team", team.id, "team.created", to_state="active", data={"lead_id": lead.id})
    return team


def update_team(team: Team, data: dict) -> Team:
    data = dict(data)
    if "centre_id" in data:
        _check_centre(data["centre_id"])
    if "neighbourhood_ids" in data:
        team.neighbourhoods = _neighbourhoods(data.pop("neighbourhood_ids"))
    if "active" in data and data["active"] != team.active:
        after = "active" if data["active"] else "inactive"
        record_event("team", team.id, f"team.{after}", str(team.active), after)
    for key, value in data.items():
        setattr(team, key, value)
    db.session.flush()
    return team


_ROLE_FOR_MEMBER = {
    TeamMemberRole.LEAD: (Role.DOCTOR,),
    TeamMemberRole.DOCTOR: (Role.DOCTOR,),
    TeamMemberRole.PUBLIC_HEALTH: (Role.DOCTOR,),
    TeamMemberRole.NURSE: (Role.NURSE,),
}


_WRONG_ROLE = {
    TeamMemberRole.LEAD: N_("only an account with the role doctor can lead a team"),
    TeamMemberRole.DOCTOR: N_("only an account with the role doctor can be a team doctor"),
    TeamMemberRole.PUBLIC_HEALTH: N_(
        "only an account with the role doctor can be a public-health doctor"
    ),
    TeamMemberRole.NURSE: N_("only an account with the role nurse can be a team nurse"),
}


def get_user_for_team(user_id: int, member_role: TeamMemberRole) -> User:
    user = db.session.get(User, user_id)
    field = "lead_id" if member_role == TeamMemberRole.LEAD else "user_id"
    if user is None or not user.active:
        raise InvalidInput(N_("no such active user"), field=field)
    if user.role not in _ROLE_FOR_MEMBER[member_role]:
        raise InvalidInput(
            _WRONG_ROLE[member_role],
            field=field,
        )
    return user


def add_member(team: Team, user_id: int, member_role: TeamMemberRole) -> TeamMember:
    user = get_user_for_team(user_id, member_role)
    if any(m.user_id == user.id for m in team.members):
        raise Conflict(N_("this user is in the team already"), field="user_id")
    if member_role == TeamMemberRole.LEAD and team.lead is not None:
        raise Conflict(
            N_("the team has a lead already; change the lead instead"), field="member_role"
        )
    member = TeamMember(user=user, member_role=member_role)
    team.members.append(member)
    db.session.flush()
    record_event(
        "team", team.id, "team.member_added", data={"user_id": user.id, "role": member_role}
    )
    return member


def remove_member(team: Team, user_id: int) -> None:
    member = next((m for m in team.members if m.user_id == user_id), None)
    if member is None:
        raise NotFound(N_("not a member of this team"))
    if member.member_role == TeamMemberRole.LEAD:
        raise Conflict(
            N_("the lead cannot leave; make another doctor the lead first"), field="user_id"
        )
    team.members.remove(member)
    db.session.flush()
    record_event("team", team.id, "team.member_removed", data={"user_id": user_id})


def change_lead(team: Team, user_id: int) -> Team:
    new_lead = get_user_for_team(user_id, TeamMemberRole.LEAD)
    old = next((m for m in team.members if m.member_role == TeamMemberRole.LEAD), None)
    if old is not None and old.user_id == new_lead.id:
        return team
    if old is not None:
        old.member_role = TeamMemberRole.DOCTOR
        db.session.flush()  # the one-lead index must see the old lead demoted first
    member = next((m for m in team.members if m.user_id == new_lead.id), None)
    if member is None:
        team.members.append(TeamMember(user=new_lead, member_role=TeamMemberRole.LEAD))
    else:
        member.member_role = TeamMemberRole.LEAD
    db.session.flush()
    record_event(
        "team",
        team.id,
        "team.lead_changed",
        str(old.user_id) if old else None,
        str(new_lead.id),
    )
    return team


def teams(centre_id: int | None = None):
    query = sa.select(Team).order_by(Team.name)
    if centre_id is not None:
        query = query.where(Team.centre_id == centre_id)
    return db.session.scalars(query).all()
