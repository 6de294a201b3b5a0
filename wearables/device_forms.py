"""Forms of the device pages. Field names are the services' names, so a service's refusal
(DomainError.field, e.g. a duplicate `serial`) lands next to the field it is about.

The forms check only what a browser can get wrong (a missing serial, a box not ticked); the
rules (duplicates, who may bind to whom, what a lost device may do) stay in wearables.devices.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.labels import choices
from app.residents.forms import REQUIRED, FormWithServiceErrors, optional_text, strip
from wearables.models import DeadLetterReason, DeviceKind

SERIAL_MAX = 64
TEXT_MAX = 100


def serial_field() -> StringField:
    return StringField(
        _l("Serial number"),
        filters=[strip],
        validators=[InputRequired(message=REQUIRED), Length(max=SERIAL_MAX)],
    )


def optional_field(text) -> StringField:
    return StringField(
        text, filters=[strip, optional_text], validators=[Optional(), Length(max=TEXT_MAX)]
    )


class RegisterDeviceForm(FormWithServiceErrors):
    """A new device, bound to the resident whose page it is sent from."""

    serial = serial_field()
    kind = SelectField(_l("Kind of device"), coerce=DeviceKind)
    model = optional_field(_l("Model"))
    vendor = optional_field(_l("Maker"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = choices(DeviceKind)

    def service_data(self, resident_id: int) -> dict:
        return {
            "serial": self.serial.data,
            "kind": self.kind.data,
            "model": self.model.data,
            "vendor": self.vendor.data,
            "resident_id": resident_id,
        }


class BindDeviceForm(FormWithServiceErrors):
    """A device registered earlier (and not bound to anyone), found by its serial number."""

    serial = serial_field()

    def __init__(self, *args, **kwargs):
        # The register form on the same page has a `serial` too: keep the ids apart.
        super().__init__(*args, prefix="bind", **kwargs)


class DeviceActionForm(FormWithServiceErrors):
    """Unbind or issue a new token: the button says what happens; only the CSRF token."""


class LostForm(FormWithServiceErrors):
    """Marking a device lost cannot be undone, so a box must be ticked first."""

    confirm = BooleanField(
        _l("Yes, this device is lost or stolen. Its token stops working for good."),
        validators=[DataRequired(message=_l("Tick the box to confirm that the device is lost."))],
    )


class DeadLetterFilterForm(FlaskForm):
    """The dead-letter list's filter (GET, no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    reason = SelectField(_l("Reason"), coerce=optional_text)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reason.choices = [("", _l("All reasons")), *choices(DeadLetterReason)]

    def chosen(self) -> DeadLetterReason | None:
        return DeadLetterReason(self.reason.data) if self.reason.data else None
