"""Page forms of the alert pages. Each alert's forms carry a prefix (`a<id>-<action>`), so
several alerts' forms sit on one page with distinct field ids; the services decide the rest."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length

from app.alerts.schemas import NOTE_MAX
from app.residents.forms import REQUIRED, FormWithServiceErrors, strip

SNOOZE_CHOICES = [
    SelectChoice(15, _l("15 minutes")),
    SelectChoice(30, _l("30 minutes")),
    SelectChoice(60, _l("1 hour")),
    SelectChoice(120, _l("2 hours")),
    SelectChoice(240, _l("4 hours")),
]


def prefix(alert_id: int, action: str) -> str:
    """Distinct per alert and action, so that no two fields of a page share an id."""
    return f"a{alert_id}-{action}"


class ActForm(FormWithServiceErrors):
    # where the page that sent the form was (a local path), and an administrator's reason
    next = HiddenField()
    reason = HiddenField()


class AcknowledgeForm(ActForm):
    pass


class ResolveForm(ActForm):
    note = TextAreaField(
        _l("What was done"),
        validators=[InputRequired(REQUIRED), Length(max=NOTE_MAX)],
        filters=[strip],
    )


class SnoozeForm(ActForm):
    service_fields = {"until": "minutes"}
    minutes = SelectField(_l("Put off for"), choices=SNOOZE_CHOICES, coerce=int, default=30)


FORMS = {"acknowledge": AcknowledgeForm, "resolve": ResolveForm, "snooze": SnoozeForm}


def forms_for(alert_id: int, back: str, reason: str | None = None) -> dict:
    """The three forms of one alert as a page first shows them."""
    data = {"next": back, "reason": reason or ""}
    return {
        name: form_class(formdata=None, prefix=prefix(alert_id, name), data=data)
        for name, form_class in FORMS.items()
    }
