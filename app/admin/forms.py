"""The administrator's forms. Field names are the services' names, so a service's error
(DomainError.field) lands next to the field it is about. Each form fills its own choices."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from app.accounts import services
from app.accounts.models import (
    CARE_PROVIDER_KINDS,
    Organisation,
    OrganisationKind,
    Role,
    Team,
    TeamMemberRole,
    User,
)
from app.labels import choices, label

# --- helpers -------------------------------------------------------------------------------


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _blank_to_none(value):
    return value or None


def optional_int(value):
    """A select's id; the empty option means none."""
    return None if value in (None, "", "None") else int(value)


def optional_enum(enum_cls):
    def coerce(value):
        return None if value in (None, "", "None") else enum_cls(value)

    return coerce


EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def text_field(text, max_length: int, required: bool = True) -> StringField:
    if required:
        return StringField(
            text, validators=[DataRequired(), Length(max=max_length)], filters=[_strip]
        )
    return StringField(
        text, validators=[Optional(), Length(max=max_length)], filters=[_strip, _blank_to_none]
    )


def _none_option():
    return ("", "—")


def org_option(org: Organisation) -> tuple[int, str]:
    name = f"{org.parent.name} {org.name}" if org.parent else org.name
    return (org.id, f"{name} · {label(org.kind)}")


def user_option(user: User) -> tuple[int, str]:
    org = f" · {user.organisation.name}" if user.organisation else ""
    return (user.id, f"{user.display_name} ({user.username}){org}")


def _active_users(*roles: Role) -> list[User]:
    return [u for role in roles for u in services.users(role=role) if u.active]


# --- organisations -------------------------------------------------------------------------


class OrganisationFilterForm(FlaskForm):
    class Meta:
        csrf = False

    kind = SelectField(_l("Kind"), coerce=optional_enum(OrganisationKind))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [("", _l("All kinds")), *choices(OrganisationKind)]


def _parent_choices(org: Organisation | None) -> list:
    """Only a care provider has children: departments, and for a centre, committees."""
    parents = [o for o in services.organisations(active_only=True) if o.kind in CARE_PROVIDER_KINDS]
    if org is not None:
        parents = [o for o in parents if o.id != org.id]
        if org.parent is not None and org.parent not in parents:
            parents.append(org.parent)
    return [_none_option(), *map(org_option, parents)]


class _OrganisationFields(FlaskForm):
    code = text_field(_l("Code"), 32)
    name = text_field(_l("Organisation name"), 200)
    parent_id = SelectField(_l("Parent organisation"), coerce=optional_int)
    address = text_field(_l("Address"), 300, required=False)
    phone = text_field(_l("Phone"), 32, required=False)

    def service_data(self) -> dict:
        return {name: field.data for name, field in self._fields.items() if name != "csrf_token"}


class OrganisationForm(_OrganisationFields):
    kind = SelectField(_l("Kind"), coerce=OrganisationKind)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = choices(OrganisationKind)
        self.parent_id.choices = _parent_choices(None)


class OrganisationEditForm(_OrganisationFields):
    """The kind stays as created: teams, specialists and residents hang on it."""

    active = BooleanField(_l("Enabled"))

    def __init__(self, *args, org: Organisation, **kwargs):
        kwargs.setdefault("obj", org)
        super().__init__(*args, **kwargs)
        self.parent_id.choices = _parent_choices(org)


# --- users ---------------------------------------------------------------------------------


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False

    role = SelectField(_l("Role"), coerce=optional_enum(Role))
    q = StringField(
        _l("Search (username, name or phone)"),
        validators=[Optional(), Length(max=100)],
        filters=[_strip],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [("", _l("All roles")), *choices(Role)]


def _organisation_choices(current: Organisation | None) -> list:
    orgs = [
        o
        for o in services.organisations(active_only=True)
        if o.kind != OrganisationKind.NEIGHBOURHOOD_COMMITTEE
    ]
    if current is not None and current not in orgs:
        orgs.append(current)
    return [_none_option(), *map(org_option, orgs)]


class UserEditForm(FlaskForm):
    display_name = text_field(_l("Display name"), 100)
    phone = text_field(_l("Mobile phone"), 20, required=False)
    email = StringField(
        _l("E-mail (alerts are sent here)"),
        validators=[
            Optional(),
            Length(max=200),
            Regexp(EMAIL_PATTERN, message=_l("Enter an e-mail address like name@example.com.")),
        ],
        filters=[_strip, _blank_to_none],
    )
    role = SelectField(_l("Role"), coerce=Role)
    organisation_id = SelectField(_l("Organisation"), coerce=optional_int)
    active = BooleanField(_l("Enabled"))
    password = PasswordField(
        _l("New password (leave empty to keep the current one)"),
        validators=[Optional(), Length(max=256)],
    )

    def __init__(self, *args, user: User | None = None, **kwargs):
        if user is not None:
            kwargs.setdefault("obj", user)
        super().__init__(*args, **kwargs)
        self.role.choices = choices(Role)
        self.organisation_id.choices = _organisation_choices(user.organisation if user else None)

    def service_data(self) -> dict:
        names = ("display_name", "phone", "email", "role", "organisation_id", "active", "password")
        return {name: self[name].data for name in names if name in self}


class UserCreateForm(UserEditForm):
    username = text_field(_l("Username"), 64)
    active = None
    password = PasswordField(
        _l("Initial password (at least 8 characters)"),
        validators=[DataRequired(), Length(max=256)],
    )

    def service_data(self) -> dict:
        return {"username": self.username.data, **super().service_data()}


class UnlockForm(FlaskForm):
    """Only the CSRF token: re-enabling the account also clears a sign-in lock."""


# --- teams ---------------------------------------------------------------------------------


def _neighbourhood_choices() -> list:
    committees = services.organisations(OrganisationKind.NEIGHBOURHOOD_COMMITTEE, active_only=True)
    return [(n.id, f"{n.name} · {n.parent.name}" if n.parent else n.name) for n in committees]


class TeamCreateForm(FlaskForm):
    name = text_field(_l("Team name"), 100)
    centre_id = SelectField(
        _l("Community health service centre"), coerce=optional_int, validators=[DataRequired()]
    )
    lead_id = SelectField(
        _l("Team lead (a doctor)"), coerce=optional_int, validators=[DataRequired()]
    )
    neighbourhood_ids = SelectMultipleField(_l("Neighbourhood committees served"), coerce=int)
    capacity = IntegerField(
        _l("Panel size (residents under contract; empty for no limit)"),
        validators=[Optional(), NumberRange(min=1, max=100000)],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        centres = services.organisations(OrganisationKind.COMMUNITY_CENTRE, active_only=True)
        self.centre_id.choices = [_none_option(), *((c.id, c.name) for c in centres)]
        self.lead_id.choices = [_none_option(), *map(user_option, _active_users(Role.DOCTOR))]
        self.neighbourhood_ids.choices = _neighbourhood_choices()

    def service_data(self) -> dict:
        names = ("name", "centre_id", "lead_id", "neighbourhood_ids", "capacity")
        return {name: self[name].data for name in names}


class TeamEditForm(FlaskForm):
    name = text_field(_l("Team name"), 100)
    active = BooleanField(_l("Enabled"))
    neighbourhood_ids = SelectMultipleField(_l("Neighbourhood committees served"), coerce=int)
    capacity = IntegerField(
        _l("Panel size (residents under contract; empty for no limit)"),
        validators=[Optional(), NumberRange(min=1, max=100000)],
    )

    def __init__(self, *args, team: Team, **kwargs):
        kwargs.setdefault("name", team.name)
        kwargs.setdefault("active", team.active)
        kwargs.setdefault("neighbourhood_ids", [n.id for n in team.neighbourhoods])
        kwargs.setdefault("capacity", team.capacity)
        super().__init__(*args, **kwargs)
        self.neighbourhood_ids.choices = _neighbourhood_choices()

    def service_data(self) -> dict:
        names = ("name", "active", "neighbourhood_ids", "capacity")
        return {name: self[name].data for name in names}


class AddMemberForm(FlaskForm):
    user_id = SelectField(_l("Doctor or nurse"), coerce=optional_int, validators=[DataRequired()])
    member_role = SelectField(
        _l("Role in the team"), coerce=optional_enum(TeamMemberRole), validators=[DataRequired()]
    )

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        in_team = {m.user_id for m in team.members}
        candidates = [u for u in _active_users(Role.DOCTOR, Role.NURSE) if u.id not in in_team]
        self.user_id.choices = [_none_option(), *map(user_option, candidates)]
        self.member_role.choices = [
            (r.value, label(r)) for r in TeamMemberRole if r != TeamMemberRole.LEAD
        ]


class ChangeLeadForm(FlaskForm):
    lead_id = SelectField(_l("New team lead"), coerce=optional_int, validators=[DataRequired()])

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        lead = team.lead
        doctors = [u for u in _active_users(Role.DOCTOR) if lead is None or u.id != lead.id]
        self.lead_id.choices = [_none_option(), *map(user_option, doctors)]


class RemoveMemberForm(FlaskForm):
    """Only the CSRF token: the member is in the URL."""
