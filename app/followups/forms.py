"""Page forms of the follow-up pages. They check only what a browser can get wrong (a
missing field, a number out of the paper form's range); the national form's own rules are
FollowUpFormSchema's and the rest the services', whose errors land next to their field."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from marshmallow import ValidationError, validate
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    FloatField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from app.followups import schemas
from app.followups.labels import FORM_FIELDS, MODE_LABELS, value_label
from app.followups.models import FollowUpMode
from app.followups.schemas import FollowUpFormSchema
from app.residents.forms import (
    REQUIRED,
    FormWithServiceErrors,
    InRange,
    MultiCheckboxField,
    optional_int,
    strip,
)
from app.timeutil import LOCAL_TZ

CHOOSE = SelectChoice("", _l("— choose —"))
MODE_CHOICES = [SelectChoice(m.value, MODE_LABELS[m]) for m in FollowUpMode]
# FollowUpFormSchema's own messages (cross-field rules), in the reader's language.
SCHEMA_MESSAGES = {
    "give both pressures or neither": _l("Give both pressures or neither."),
    "must be below the systolic pressure": _l("Must be below the systolic pressure."),
    "say which side effects": _l("Say which side effects."),
}
CHECK_VALUE = _l("Please check this value.")


def _choices(key: str, values) -> list:
    return [CHOOSE] + [SelectChoice(v, value_label(key, v)) for v in values]


def _number(name: str, whole: bool = True):
    """A number field with the paper form's range (read from the schema, not repeated)."""
    bounds = next(
        v
        for v in FollowUpFormSchema._declared_fields[name].validators
        if isinstance(v, validate.Range)
    )
    kind = IntegerField if whole else FloatField
    return kind(
        FORM_FIELDS[name],
        validators=[Optional(), InRange(min=bounds.min, max=bounds.max)],
        render_kw={"inputmode": "numeric" if whole else "decimal", "step": "1" if whole else "0.1"},
    )


def _select(name: str, values):
    return SelectField(FORM_FIELDS[name], choices=_choices(name, values), validators=[Optional()])


NUMBERS = (
    ("systolic", True),
    ("diastolic", True),
    ("heart_rate", True),
    ("weight_kg", False),
    ("target_weight_kg", False),
    ("fasting_glucose", False),
    ("cigarettes_per_day", True),
    ("alcohol_liang_per_day", False),
    ("exercise_times_per_week", True),
    ("exercise_minutes", True),
)
CHOICES = (
    ("salt_intake", schemas.SALT),
    ("psychological_adjustment", schemas.LEVELS),
    ("compliance", schemas.LEVELS),
    ("medication_adherence", schemas.ADHERENCE),
)


class ResultForm(FormWithServiceErrors):
    """The contact: how and when, then the national follow-up form (its fields carry the
    schema's names, so the schema's errors land next to them)."""

    mode = SelectField(_l("How did the contact take place?"), choices=MODE_CHOICES)
    done_at = DateTimeLocalField(
        _l("When (empty: now)"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    condition = _select("condition", schemas.CONDITIONS)
    symptoms = MultiCheckboxField(
        FORM_FIELDS["symptoms"],
        choices=[SelectChoice(v, value_label("symptoms", v)) for v in schemas.SYMPTOMS],
    )
    other_symptoms = StringField(
        FORM_FIELDS["other_symptoms"], filters=[strip], validators=[Length(max=300)]
    )
    side_effects = BooleanField(FORM_FIELDS["side_effects"])
    side_effects_detail = StringField(
        FORM_FIELDS["side_effects_detail"], filters=[strip], validators=[Length(max=300)]
    )
    classification = _select("classification", schemas.CLASSIFICATIONS)
    next_visit_date = DateField(FORM_FIELDS["next_visit_date"], validators=[Optional()])

    def form_fields(self) -> list:
        return [self[name] for name in FORM_FIELDS]

    def when(self):
        """The contact's time, read as local time; None for now."""
        value = self.done_at.data
        return value.replace(tzinfo=LOCAL_TZ) if isinstance(value, datetime) else None

    def national_form(self) -> dict | None:
        """The form's answers checked by FollowUpFormSchema; None when nothing is filled in
        (the service says whether this follow-up needs it). False when the schema refused
        a field (its error is on the field)."""
        given = {}
        for field in self.form_fields():
            value = field.data
            if value in (None, "", [], False):
                continue
            given[field.name] = value.isoformat() if field.name == "next_visit_date" else value
        if set(given) <= {"condition"}:
            return None
        try:
            return FollowUpFormSchema().load(given)
        except ValidationError as exc:
            for name, messages in exc.messages.items():
                self._place(name, messages)
            return False

    def _place(self, name: str, messages) -> None:
        target = self._fields.get(name) or self.classification
        if isinstance(messages, dict):  # a list's items: say it once
            messages = [m for items in messages.values() for m in items]
        for message in messages:
            if message == "Missing data for required field.":
                text = REQUIRED
            else:
                text = SCHEMA_MESSAGES.get(message, CHECK_VALUE)
            target.errors = [*target.errors, str(text)]


# The numbers and choices of the paper form, each made from the schema's own rules.
for _name, _whole in NUMBERS:
    setattr(ResultForm, _name, _number(_name, _whole))
for _name, _values in CHOICES:
    setattr(ResultForm, _name, _select(_name, _values))


class CancelForm(FormWithServiceErrors):
    reason = TextAreaField(
        _l("Why is the follow-up cancelled?"),
        filters=[strip],
        validators=[InputRequired(REQUIRED), Length(max=500)],
    )


class PlanForm(FormWithServiceErrors):
    resident_id = HiddenField()
    team_id = SelectField(_l("Team"), coerce=optional_int, validate_choice=False)
    due_date = DateField(_l("Due date"), validators=[InputRequired(REQUIRED)])
    mode = SelectField(_l("How"), choices=MODE_CHOICES, default=FollowUpMode.CLINIC.value)
    purpose = StringField(
        _l("What is it for?"),
        filters=[strip],
        validators=[InputRequired(REQUIRED), Length(max=500)],
    )
    condition = SelectField(
        _l("Chronic condition (if it is part of the schedule)"),
        choices=[SelectChoice("", _l("None"))]
        + [SelectChoice(v, value_label("condition", v)) for v in schemas.CONDITIONS],
        validators=[Optional()],
    )


class FilterForm(FlaskForm):
    """The worklist's filters (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    team_id = SelectField(_l("Team"), coerce=optional_int, validate_choice=False)
    mode = SelectField(
        _l("How"),
        choices=[SelectChoice("", _l("Every way")), *MODE_CHOICES],
        validators=[Optional()],
    )
