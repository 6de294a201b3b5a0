"""Page forms of referrals.

The forms check only what a browser can get wrong (a missing field, a number out of range);
the rules (who may, which state, which hospital, which slot) stay in services.py, whose
DomainErrors `show_error` puts next to the field they name.
"""

from datetime import UTC, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Length, Optional

from app.followups.models import FollowUpMode
from app.labels import choices
from app.residents.forms import (
    REQUIRED,
    FormWithServiceErrors,
    InRange,
    optional_int,
    optional_text,
    strip,
)
from app.templating import localtime
from app.timeutil import LOCAL_TZ
from referral.models import AppointmentSlot, ReferralStatus, Urgency

RESERVED = _l("reserved for referrals")
TEXT_MAX = 4000
LONG_TEXT_MAX = 20000


def optional_enum(enum_cls):
    def coerce(value):
        return None if value in (None, "", "None") else enum_cls(value)

    return coerce


def slot_label(slot: AppointmentSlot) -> str:
    """09:00–09:15 on a date, in Shanghai time, and whether it is kept for referrals."""
    starts = localtime(slot.starts_at, "yyyy-MM-dd (EEE) HH:mm")
    when = f"{starts}–{localtime(slot.ends_at, 'HH:mm')}"
    if slot.reserved_for_referrals:
        return when + " · " + str(RESERVED)
    return when


class ReferralForm(FormWithServiceErrors):
    """A doctor's referral of a resident to a hospital department (saved as a draft)."""

    department_id = SelectField(
        _l("Hospital department"),
        coerce=optional_int,
        validate_choice=False,
        validators=[InputRequired(message=REQUIRED)],
    )
    urgency = RadioField(
        _l("Urgency"), coerce=optional_enum(Urgency), validators=[InputRequired(message=REQUIRED)]
    )
    reason = StringField(
        _l("Reason for the referral"),
        filters=[strip],
        validators=[InputRequired(message=REQUIRED), Length(max=500)],
    )
    clinical_summary = TextAreaField(
        _l("Clinical summary"),
        filters=[strip],
        validators=[InputRequired(message=REQUIRED), Length(max=LONG_TEXT_MAX)],
    )
    current_medication = TextAreaField(
        _l("Current medication"),
        filters=[strip, optional_text],
        validators=[Optional(), Length(max=TEXT_MAX)],
    )
    other_hospital_reason = StringField(
        _l("Why this hospital (when the resident did not sign with it)"),
        filters=[strip, optional_text],
        validators=[Optional(), Length(max=500)],
    )

    def setup(self, department_ids: list[int]) -> "ReferralForm":
        self.department_id.choices = [(i, str(i)) for i in department_ids]
        self.urgency.choices = choices(Urgency)
        if not self.is_submitted():
            self.urgency.data = Urgency.ROUTINE
        return self

    def service_data(self) -> dict:
        return {
            "department_id": self.department_id.data,
            "urgency": self.urgency.data,
            "reason": self.reason.data,
            "clinical_summary": self.clinical_summary.data,
            "current_medication": self.current_medication.data,
            "other_hospital_reason": self.other_hospital_reason.data,
        }


class SlotChoiceForm(FormWithServiceErrors):
    """Send (a reserved slot, or none) or accept (any free slot) with an appointment."""

    slot_id = RadioField(_l("Appointment"), coerce=optional_int, validate_choice=False)

    def setup(self, slots: list[AppointmentSlot], none_label=None) -> "SlotChoiceForm":
        offered = [(s.id, slot_label(s)) for s in slots]
        self.slot_id.choices = ([("", str(none_label))] if none_label else []) + offered
        if not self.is_submitted():
            self.slot_id.data = offered[0][0] if offered else ""
        return self


class MessageForm(FormWithServiceErrors):
    """A question of the department, or the referring doctor's answer."""

    body = TextAreaField(
        _l("Message"),
        filters=[strip],
        validators=[InputRequired(message=REQUIRED), Length(max=TEXT_MAX)],
    )


class RejectForm(FormWithServiceErrors):
    """Why the department declines (required; the referring doctor and the resident see it)."""

    service_fields = {"reason": "rejection_reason"}

    rejection_reason = TextAreaField(
        _l("Reason for declining"), filters=[strip], validators=[Length(max=500)]
    )


class CancelForm(FormWithServiceErrors):
    service_fields = {"reason": "cancel_reason"}

    cancel_reason = StringField(
        _l("Why it is withdrawn (optional)"),
        filters=[strip, optional_text],
        validators=[Optional(), Length(max=500)],
    )


class AttachmentForm(FormWithServiceErrors):
    file = FileField(_l("File (PDF, PNG or JPEG)"))


class FollowUpRow(Form):
    """One follow-up the care plan asks of the community team (no CSRF of its own)."""

    action = StringField(
        _l("What to do"), filters=[strip, optional_text], validators=[Optional(), Length(max=300)]
    )
    due_in_days = IntegerField(
        _l("Within (days)"), validators=[Optional(), InRange(min=0, max=365)]
    )
    mode = SelectField(_l("Follow-up mode"), choices=[])


class ReturnForm(FormWithServiceErrors):
    """The down-referral: discharge summary, diagnoses, medication, care plan, follow-ups."""

    discharge_summary = TextAreaField(
        _l("Discharge summary"),
        filters=[strip],
        validators=[InputRequired(message=REQUIRED), Length(max=LONG_TEXT_MAX)],
    )
    diagnoses = TextAreaField(
        _l("Diagnoses"),
        filters=[strip],
        validators=[InputRequired(message=REQUIRED), Length(max=TEXT_MAX)],
    )
    medication_changes = TextAreaField(
        _l("Medication changes"),
        filters=[strip, optional_text],
        validators=[Optional(), Length(max=TEXT_MAX)],
    )
    long_prescription = BooleanField(_l("Long prescription for the chronic disease"))
    care_plan = TextAreaField(
        _l("Care plan for the community team"),
        filters=[strip],
        validators=[InputRequired(message=REQUIRED), Length(max=LONG_TEXT_MAX)],
    )
    follow_ups = FieldList(FormField(FollowUpRow), min_entries=3, max_entries=10)

    def setup(self) -> "ReturnForm":
        modes = choices(FollowUpMode)
        if not self.is_submitted():
            days = current_app.config["REFERRAL_FOLLOW_UP_DAYS"]
            first = self.follow_ups[0]
            first.action.data = str(_l("Follow-up within %(days)s days", days=days))
            first.due_in_days.data = days
            first.mode.data = FollowUpMode.CLINIC.value
        for row in self.follow_ups:
            row.mode.choices = modes
            if not row.mode.data:
                row.mode.data = FollowUpMode.CLINIC.value
        return self

    def service_data(self) -> dict:
        days = current_app.config["REFERRAL_FOLLOW_UP_DAYS"]
        actions = [
            {
                "action": row.action.data,
                "due_in_days": row.due_in_days.data if row.due_in_days.data is not None else days,
                "mode": row.mode.data or FollowUpMode.CLINIC.value,
            }
            for row in self.follow_ups
            if row.action.data
        ]
        return {
            "discharge_summary": self.discharge_summary.data,
            "diagnoses": self.diagnoses.data,
            "medication_changes": self.medication_changes.data,
            "long_prescription": self.long_prescription.data,
            "care_plan": self.care_plan.data,
            "follow_up_actions": actions,
        }


class SlotSeriesForm(FormWithServiceErrors):
    """A series of appointment slots, from a date and time in Shanghai."""

    service_fields = {"starts_at": "start_date"}

    start_date = DateField(_l("First day"), validators=[InputRequired(message=REQUIRED)])
    start_time = TimeField(
        _l("Starts at (Shanghai time)"), validators=[InputRequired(message=REQUIRED)]
    )
    count = IntegerField(
        _l("Number of slots"),
        default=8,
        validators=[InputRequired(message=REQUIRED), InRange(min=1, max=200)],
    )
    minutes = IntegerField(
        _l("Minutes each"),
        default=15,
        validators=[InputRequired(message=REQUIRED), InRange(min=5, max=240)],
    )
    reserved_percent = IntegerField(
        _l("Kept for referrals from family doctors (%)"),
        default=50,
        validators=[InputRequired(message=REQUIRED), InRange(min=0, max=100)],
    )

    def service_data(self, department_id: int) -> dict:
        local = datetime.combine(self.start_date.data, self.start_time.data, tzinfo=LOCAL_TZ)
        return {
            "department_id": department_id,
            "starts_at": local.astimezone(UTC),
            "count": self.count.data,
            "minutes": self.minutes.data,
            "reserved_share": self.reserved_percent.data / 100,
        }


class ReferralFilterForm(FlaskForm):
    """The list's filters (GET, no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), coerce=optional_enum(ReferralStatus))
    urgency = SelectField(_l("Urgency"), coerce=optional_enum(Urgency))
    open_loop = BooleanField(_l("Open loops only (accepted, in hospital or coming back)"))
    flagged = BooleanField(_l("Returns not acknowledged in time"))
    reason = StringField(_l("Reason for access"), filters=[strip], validators=[Length(max=500)])

    def setup(self, is_admin: bool) -> "ReferralFilterForm":
        every = [("", str(_l("All")))]
        self.status.choices = every + choices(ReferralStatus)
        self.urgency.choices = every + choices(Urgency)
        if not is_admin:
            del self.reason
        return self

    def filters(self) -> dict:
        return {
            "status": self.status.data,
            "urgency": self.urgency.data,
            "open_loop": self.open_loop.data,
            "flagged": self.flagged.data,
        }
