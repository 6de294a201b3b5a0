"""The services' refusals, said in the page's language.

The services word their errors in English for the API and the logs; a page shows the
translation when it knows the message, else the message as it is.
"""

from flask_babel import gettext as _

from app.accounts.models import Role, TeamMemberRole
from app.accounts.services import MIN_PASSWORD_LENGTH
from app.labels import label


def _known() -> dict[str, str]:
    known = {
        "a department belongs to a hospital or community health centre": _(
            "A department belongs to a hospital or community health centre."
        ),
        "a neighbourhood committee can only sit under a community health centre": _(
            "A neighbourhood committee can only sit under a community health centre."
        ),
        "only departments and neighbourhoods have a parent": _(
            "Only departments and neighbourhood committees have a parent organisation."
        ),
        "an organisation with this code exists already": _(
            "An organisation with this code exists already."
        ),
        "no such organisation": _("No such organisation."),
        f"must be at least {MIN_PASSWORD_LENGTH} characters": _(
            "Must be at least %(n)s characters.", n=MIN_PASSWORD_LENGTH
        ),
        "another account uses this username": _("Another account uses this username."),
        "another account uses this phone": _("Another account uses this phone number."),
        "a specialist belongs to a department": _("A specialist belongs to a department."),
        "a team belongs to a community health centre": _(
            "A team belongs to a community health service centre."
        ),
        "no such active user": _("No such enabled account."),
        "this user is in the team already": _("This person is in the team already."),
        "the team has a lead already; change the lead instead": _(
            "The team has a lead already; change the lead instead."
        ),
        "not a member of this team": _("Not a member of this team."),
        "the lead cannot leave; make another doctor the lead first": _(
            "The team lead cannot leave; make another doctor the lead first."
        ),
    }
    for member_role in TeamMemberRole:
        role = Role.NURSE if member_role == TeamMemberRole.NURSE else Role.DOCTOR
        known[f"a {member_role.value} must have the role {role.value}"] = _(
            "Only an account with the role “%(role)s” can be “%(member)s” in a team.",
            member=label(member_role),
            role=label(role),
        )
    return known


def service_message(message: str) -> str:
    return _known().get(message, message)
