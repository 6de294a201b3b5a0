"""What each role sees on its home page."""

import sqlalchemy as sa

from app.accounts.models import Organisation, Role, Team, TeamMember, User
from app.audit.services import record_access
from app.extensions import db
from app.policy import residents_query
from app.residents import services as residents
from app.residents.models import Resident
from app.timeutil import born_on_or_before


def _teams_serving(resident: Resident) -> list[Team]:
    return [
        t
        for t in db.session.scalars(sa.select(Team).where(Team.active.is_(True))).all()
        if resident.neighbourhood_id in {n.id for n in t.neighbourhoods}
    ]


def _resident(user: User) -> tuple[str, dict]:
    resident = db.session.get(Resident, user.resident_id) if user.resident_id else None
    context = {"resident": resident, "teams": _teams_serving(resident) if resident else []}
    if resident:
        context["masked_id"] = residents.masked_national_id(resident)
        context["links"] = resident.active_caregiver_links
    return "home/resident.html", context


def _caregiver(user: User) -> tuple[str, dict]:
    links = residents.caregiver_links_of(user)
    for link in links:
        record_access("list", link.resident_id, actor=user)
    return "home/caregiver.html", {"links": links}


def _team_staff(user: User) -> tuple[str, dict]:
    teams = [m.team for m in user.memberships if m.team.active]
    query = residents_query(user).order_by(Resident.neighbourhood_id, Resident.name)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    elderly_query = query.where(Resident.birth_date <= born_on_or_before(65))
    elderly = db.session.scalar(sa.select(sa.func.count()).select_from(elderly_query.subquery()))
    return "home/team_staff.html", {
        "teams": teams,
        "resident_count": count,
        "elderly_count": elderly,
    }


def _specialist(user: User) -> tuple[str, dict]:
    visible = db.session.scalars(residents_query(user).order_by(Resident.name)).all()
    for resident in visible:
        record_access("list", resident.id, actor=user)
    return "home/specialist.html", {"department": user.organisation, "residents": visible}


def _admin(_user: User) -> tuple[str, dict]:
    counts = {
        "organisations": db.session.scalar(sa.select(sa.func.count(Organisation.id))),
        "users": db.session.scalar(sa.select(sa.func.count(User.id))),
        "teams": db.session.scalar(sa.select(sa.func.count(Team.id))),
        "team_members": db.session.scalar(sa.select(sa.func.count(TeamMember.id))),
    }
    return "home/admin.html", {"counts": counts}


_BY_ROLE = {
    Role.RESIDENT: _resident,
    Role.CAREGIVER: _caregiver,
    Role.DOCTOR: _team_staff,
    Role.NURSE: _team_staff,
    Role.SPECIALIST: _specialist,
    Role.ADMIN: _admin,
}


def context_for(user: User) -> tuple[str, dict]:
    return _BY_ROLE[user.role](user)
