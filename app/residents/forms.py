"""Page forms of the residents' register and the caregiver links.

The forms check only what a browser can get wrong (a missing field, a malformed date); the
rules themselves (check digit, served neighbourhoods, duplicates) stay in services.py, whose
DomainErrors are put next to the field they name by `show_error`.
"""

from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from app.accounts.models import Organisation, OrganisationKind, Role, User
from app.errors import DomainError
from app.extensions import db
from app.labels import choices
from app.policy import neighbourhood_ids_served
from app.residents import services
from app.residents.models import (
    CaregiverRelationship,
    CaregiverScope,
    ChronicCondition,
    Mobility,
    Resident,
    Sex,
)
from app.schemas_common import PHONE_RE
from app.timeutil import local_today

REQUIRED = _l("Please fill in this field.")
REASON_MAX = 500

# The grant form's answer when no caregiver account matches, worded as the service words it.
UNKNOWN_CAREGIVER = _l("no such active caregiver account")


def message_for(exc: DomainError) -> str:
    return exc.translated()


def strip(value):
    return value.strip() if isinstance(value, str) else value


def optional_int(value):
    return None if value in (None, "", "None") else int(value)


def optional_text(value):
    return value or None


class InRange(NumberRange):
    """NumberRange that stays quiet when the field already says "not a number"."""

    def __call__(self, form, field):
        if field.data is not None:
            super().__call__(form, field)


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes, each with its own label."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class FormWithServiceErrors(FlaskForm):
    # service field name -> form field name, where they differ
    service_fields: dict[str, str] = {}

    def show_error(self, exc: DomainError) -> str | None:
        """Put the service's message next to its field; return it if no field fits."""
        name = self.service_fields.get(exc.field, exc.field)
        target = self._fields.get(name) if name else None
        message = message_for(exc)
        if target is None:
            return message
        target.errors = [*target.errors, message]
        return None


# --- choices -------------------------------------------------------------------------------


def neighbourhood_choices(user: User, current_id: int | None = None) -> list[tuple[int, str]]:
    """Neighbourhood committees `user` may choose (those their teams serve; all for admin)."""
    query = sa.select(Organisation).where(
        Organisation.kind == OrganisationKind.NEIGHBOURHOOD_COMMITTEE,
        sa.or_(Organisation.active.is_(True), Organisation.id == current_id),
    )
    served = neighbourhood_ids_served(user)
    if served is not None:
        query = query.where(Organisation.id.in_([*served, current_id or -1]))
    return [(o.id, o.name) for o in db.session.scalars(query.order_by(Organisation.name))]


def household_choices(user: User, current=None) -> list[tuple[str | int, str]]:
    found = list(services.households(user))
    if current is not None and current not in found:
        found.append(current)
    return [("", str(_l("No household")))] + [(h.id, f"{h.code} · {h.address}") for h in found]


# --- the register --------------------------------------------------------------------------


class SearchForm(FlaskForm):
    """The register's search (GET, no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(_l("Name contains"), filters=[strip], validators=[Length(max=100)])
    neighbourhood_id = SelectField(_l("Neighbourhood committee"), coerce=optional_int)
    condition = SelectField(_l("Chronic condition"), coerce=optional_text)
    min_age = IntegerField(_l("Aged at least"), validators=[Optional(), InRange(min=0, max=130)])
    living_alone = BooleanField(_l("Only residents living alone"))
    reason = StringField(
        _l("Reason for access"), filters=[strip], validators=[Length(max=REASON_MAX)]
    )

    def setup(self, user: User) -> "SearchForm":
        self.neighbourhood_id.choices = [("", str(_l("All")))] + neighbourhood_choices(user)
        self.condition.choices = [("", str(_l("Any")))] + choices(ChronicCondition)
        if user.role != Role.ADMIN:
            del self.reason
        return self

    def filters(self) -> dict:
        return {
            "q": self.q.data or None,
            "neighbourhood_id": self.neighbourhood_id.data,
            "condition": ChronicCondition(self.condition.data) if self.condition.data else None,
            "min_age": self.min_age.data,
            "living_alone": True if self.living_alone.data else None,
        }


class ReasonForm(FlaskForm):
    """An administrator's reason to open a record (GET, carried in the address)."""

    class Meta:
        csrf = False

    reason = StringField(
        _l("Reason for access"),
        filters=[strip],
        validators=[InputRequired(message=REQUIRED), Length(max=REASON_MAX)],
    )


class ResidentForm(FormWithServiceErrors):
    name = StringField(
        _l("Name"), filters=[strip], validators=[InputRequired(message=REQUIRED), Length(max=100)]
    )
    sex = SelectField(_l("Sex"), coerce=Sex, validators=[InputRequired(message=REQUIRED)])
    birth_date = DateField(_l("Birth date"), validators=[InputRequired(message=REQUIRED)])
    national_id = StringField(
        _l("National ID number"),
        filters=[strip],
        validators=[
            InputRequired(message=REQUIRED),
            Length(min=18, max=18, message=_l("A national ID number has 18 characters.")),
        ],
    )
    phone = StringField(
        _l("Phone"),
        filters=[strip],
        validators=[
            Optional(),
            Regexp(
                PHONE_RE,
                message=_l("A mobile number of 11 digits, or a landline like 021-58620000."),
            ),
        ],
    )
    address = StringField(
        _l("Address"),
        filters=[strip],
        validators=[InputRequired(message=REQUIRED), Length(max=300)],
    )
    # The service says which neighbourhoods and households may be chosen, and why not.
    neighbourhood_id = SelectField(
        _l("Neighbourhood committee"),
        coerce=int,
        validate_choice=False,
        validators=[InputRequired(message=REQUIRED)],
    )
    household_id = SelectField(_l("Household"), coerce=optional_int, validate_choice=False)
    living_alone = BooleanField(_l("Lives alone"))
    mobility = SelectField(_l("Mobility"), coerce=Mobility, default=Mobility.INDEPENDENT)
    conditions = MultiCheckboxField(_l("Chronic conditions"), coerce=ChronicCondition)

    PLAIN_FIELDS = (
        "name",
        "sex",
        "birth_date",
        "address",
        "neighbourhood_id",
        "household_id",
        "living_alone",
        "mobility",
    )

    def setup(self, user: User, resident: Resident | None = None):
        self.sex.choices = choices(Sex)
        self.mobility.choices = choices(Mobility)
        self.conditions.choices = choices(ChronicCondition)
        self.neighbourhood_id.choices = neighbourhood_choices(
            user, resident.neighbourhood_id if resident else None
        )
        self.household_id.choices = household_choices(
            user, resident.household if resident else None
        )
        return self

    def service_data(self) -> dict:
        data = {name: getattr(self, name).data for name in self.PLAIN_FIELDS}
        data["phone"] = self.phone.data or None
        data["conditions"] = list(self.conditions.data or [])
        data["national_id"] = self.national_id.data
        return data


class EditResidentForm(ResidentForm):
    national_id = StringField(
        _l("New national ID number"),
        filters=[strip],
        validators=[
            Optional(),
            Length(min=18, max=18, message=_l("A national ID number has 18 characters.")),
        ],
    )
    reason = HiddenField()

    def changes(self, resident: Resident) -> dict:
        """Only what differs from the record; the national ID only when a new one is given."""
        data = self.service_data()
        number = data.pop("national_id")
        changed = {
            key: value
            for key, value in data.items()
            if key != "conditions" and getattr(resident, key) != value
        }
        if set(data["conditions"]) != set(resident.conditions):
            changed["conditions"] = data["conditions"]
        if number:
            changed["national_id"] = number
        return changed


class HouseholdForm(FormWithServiceErrors):
    code = StringField(
        _l("Household code"),
        filters=[strip],
        validators=[InputRequired(message=REQUIRED), Length(max=32)],
    )
    address = StringField(
        _l("Address"),
        filters=[strip],
        validators=[InputRequired(message=REQUIRED), Length(max=300)],
    )
    # The service says which neighbourhoods and households may be chosen, and why not.
    neighbourhood_id = SelectField(
        _l("Neighbourhood committee"),
        coerce=int,
        validate_choice=False,
        validators=[InputRequired(message=REQUIRED)],
    )

    def setup(self, user: User):
        self.neighbourhood_id.choices = neighbourhood_choices(user)
        return self

    def service_data(self) -> dict:
        return {
            "code": self.code.data,
            "address": self.address.data,
            "neighbourhood_id": self.neighbourhood_id.data,
        }


# --- caregiver links -----------------------------------------------------------------------


def one_year_from_today() -> date:
    today = local_today()
    try:
        return today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        return today + timedelta(days=365)


class GrantCaregiverForm(FormWithServiceErrors):
    service_fields = {"caregiver_id": "caregiver", "relationship_kind": "relationship"}

    caregiver = StringField(
        _l("Caregiver's username or phone number"),
        filters=[strip],
        validators=[InputRequired(message=REQUIRED), Length(max=64)],
    )
    relationship = RadioField(
        _l("Relationship"),
        coerce=CaregiverRelationship,
        default=CaregiverRelationship.FAMILY_MEMBER,
        validators=[InputRequired(message=REQUIRED)],
    )
    scope = RadioField(
        _l("What the caregiver may do"),
        coerce=CaregiverScope,
        default=CaregiverScope.VIEW,
        validators=[InputRequired(message=REQUIRED)],
    )
    ends_on = DateField(
        _l("Valid until"), default=one_year_from_today, validators=[InputRequired(message=REQUIRED)]
    )
    priority = IntegerField(
        _l("Call order"),
        default=1,
        validators=[InputRequired(message=REQUIRED), InRange(min=1, max=9)],
    )

    def setup(self):
        self.relationship.choices = choices(CaregiverRelationship)
        self.scope.choices = choices(CaregiverScope)
        return self

    def service_data(self, caregiver_id: int) -> dict:
        return {
            "caregiver_id": caregiver_id,
            "relationship_kind": self.relationship.data,
            "scope": self.scope.data,
            "ends_on": self.ends_on.data,
            "priority": self.priority.data,
        }


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (optional)"), filters=[strip], validators=[Length(max=REASON_MAX)]
    )
