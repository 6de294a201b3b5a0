"""Page forms of family-doctor contracts.

The forms check only what a browser can get wrong; the rules (who may, which state, which
hospitals, a full panel) stay in services.py, whose DomainErrors `show_error` puts next to
the field they name.
"""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.accounts.models import Organisation, OrganisationKind, Team
from app.contracts.models import ContractStatus, ServicePackage
from app.extensions import db
from app.labels import choices
from app.residents.forms import (
    REASON_MAX,
    REQUIRED,
    FormWithServiceErrors,
    InRange,
    optional_int,
    strip,
)


def optional_enum(enum_cls):
    def coerce(value):
        return None if value in (None, "", "None") else enum_cls(value)

    return coerce


def active_teams() -> list[Team]:
    """Active family-doctor teams of community health service centres."""
    query = (
        sa.select(Team)
        .join(Organisation, Organisation.id == Team.centre_id)
        .where(Team.active.is_(True), Organisation.kind == OrganisationKind.COMMUNITY_CENTRE)
        .order_by(Team.name)
    )
    return list(db.session.scalars(query).all())


def hospital_choices(kind: OrganisationKind) -> list[tuple[str | int, str]]:
    query = sa.select(Organisation).where(Organisation.kind == kind, Organisation.active.is_(True))
    hospitals = db.session.scalars(query.order_by(Organisation.name)).all()
    return [("", str(_l("No hospital")))] + [(h.id, h.name) for h in hospitals]


class TermsForm(FormWithServiceErrors):
    """The terms of a contract: a resident's request, or the team's draft."""

    team_id = RadioField(
        _l("Family-doctor team"),
        coerce=int,
        validate_choice=False,
        validators=[InputRequired(message=REQUIRED)],
    )
    package = RadioField(
        _l("Service package"),
        coerce=ServicePackage,
        validators=[InputRequired(message=REQUIRED)],
    )
    district_hospital_id = SelectField(
        _l("District hospital (optional)"), coerce=optional_int, validate_choice=False
    )
    municipal_hospital_id = SelectField(
        _l("Municipal hospital (optional)"), coerce=optional_int, validate_choice=False
    )

    def setup(self, teams: list[Team], package=None, team_id=None, current=None):
        """Choices and defaults: the team and package given, or the current contract's."""
        self.team_id.choices = [(t.id, t.name) for t in teams]
        self.package.choices = choices(ServicePackage)
        self.district_hospital_id.choices = hospital_choices(OrganisationKind.DISTRICT_HOSPITAL)
        self.municipal_hospital_id.choices = hospital_choices(OrganisationKind.MUNICIPAL_HOSPITAL)
        if not self.is_submitted():
            self.team_id.data = team_id
            self.package.data = package
            if current is not None:
                self.district_hospital_id.data = current.district_hospital_id
                self.municipal_hospital_id.data = current.municipal_hospital_id
        return self

    def service_data(self) -> dict:
        return {
            "team_id": self.team_id.data,
            "package": self.package.data,
            "district_hospital_id": self.district_hospital_id.data,
            "municipal_hospital_id": self.municipal_hospital_id.data,
        }


class EndForm(FormWithServiceErrors):
    """Why the team declines a request or ends a contract (the service requires it).

    Named `end_reason`, since `reason` is an administrator's reason for access.
    """

    service_fields = {"reason": "end_reason"}

    end_reason = TextAreaField(_l("Reason"), filters=[strip], validators=[Length(max=REASON_MAX)])


class ContractSearchForm(FlaskForm):
    """The contract list's filters (GET, no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), coerce=optional_enum(ContractStatus))
    team_id = SelectField(_l("Family-doctor team"), coerce=optional_int)
    package = SelectField(_l("Service package"), coerce=optional_enum(ServicePackage))
    neighbourhood_id = SelectField(_l("Neighbourhood committee"), coerce=optional_int)
    ends_within_days = IntegerField(
        _l("Ends within (days)"), validators=[Optional(), InRange(min=0, max=400)]
    )
    reason = StringField(
        _l("Reason for access"), filters=[strip], validators=[Length(max=REASON_MAX)]
    )

    def setup(self, is_admin: bool) -> "ContractSearchForm":
        every = [("", str(_l("All")))]
        self.status.choices = every + choices(ContractStatus)
        self.team_id.choices = every + [(t.id, t.name) for t in active_teams()]
        self.package.choices = every + choices(ServicePackage)
        query = sa.select(Organisation).where(
            Organisation.kind == OrganisationKind.NEIGHBOURHOOD_COMMITTEE,
            Organisation.active.is_(True),
        )
        neighbourhoods = db.session.scalars(query.order_by(Organisation.name)).all()
        self.neighbourhood_id.choices = every + [(n.id, n.name) for n in neighbourhoods]
        if not is_admin:
            del self.reason
        return self

    def filters(self) -> dict:
        return {
            "status": self.status.data,
            "team_id": self.team_id.data,
            "package": self.package.data,
            "neighbourhood_id": self.neighbourhood_id.data,
            "ends_within_days": self.ends_within_days.data,
        }
