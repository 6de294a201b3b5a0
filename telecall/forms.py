"""Page forms of the video-visit pages, and the words the pages use for the visit's values.

The forms check only what a browser can get wrong (a missing field, a malformed time); the
rules (who may book, which times are free, which state allows what) stay in the services,
whose DomainErrors `show_error` puts next to the field they name.
"""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Length, Optional

# The follow-up form's words live with follow-ups; the visit pages show the same form.
from app.followups.labels import FORM_FIELDS, FORM_VALUES, form_rows  # noqa: F401
from app.residents.forms import REQUIRED, FormWithServiceErrors, optional_int, optional_text, strip
from telecall.models import (
    INVITABLE_ROLES,
    ExceptionKind,
    ParticipantRole,
    RecordingStatus,
    VisitStatus,
    VisitType,
)

TYPE_LABELS = {
    VisitType.VIDEO_CONSULT: _l("Video consult"),
    VisitType.ONLINE_REVISIT: _l("Online re-visit"),
    VisitType.REMOTE_FOLLOW_UP: _l("Remote follow-up"),
}
TYPE_HINTS = {
    VisitType.VIDEO_CONSULT: _l("Talk with your family doctor about a new complaint."),
    VisitType.ONLINE_REVISIT: _l(
        "A repeat visit for a known illness, for example to renew medicine."
    ),
    VisitType.REMOTE_FOLLOW_UP: _l("The regular follow-up of high blood pressure or diabetes."),
}
STATUS_LABELS = {
    VisitStatus.BOOKED: _l("Booked"),
    VisitStatus.IN_PROGRESS: _l("In progress"),
    VisitStatus.COMPLETED: _l("Completed"),
    VisitStatus.CANCELLED: _l("Cancelled"),
    VisitStatus.NO_SHOW: _l("Missed: the resident did not join"),
    VisitStatus.MISSED_BY_TEAM: _l("Missed: nobody of the team joined"),
}
ROLE_LABELS = {
    ParticipantRole.RESIDENT: _l("Resident"),
    ParticipantRole.DOCTOR: _l("Doctor"),
    ParticipantRole.CAREGIVER: _l("Caregiver"),
    ParticipantRole.INTERPRETER: _l("Interpreter"),
    ParticipantRole.SPECIALIST: _l("Specialist"),
    ParticipantRole.RECORDER: _l("Recorder"),
}
RECORDING_LABELS = {
    RecordingStatus.REQUESTED: _l("Starting"),
    RecordingStatus.RECORDING: _l("Recording"),
    RecordingStatus.FINISHED: _l("Finished"),
    RecordingStatus.FAILED: _l("Failed"),
    RecordingStatus.PURGED: _l("Deleted after the retention period"),
}
KIND_LABELS = {
    ExceptionKind.CLOSED: _l("Closed (leave, training)"),
    ExceptionKind.EXTRA: _l("Extra hours"),
}
WEEKDAYS = [
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
]

NOT_A_DAY = _l("Choose a day of the week.")
STEP = {"step": 300}  # the booking grid's five minutes, for the browser's time picker


class CancelForm(FormWithServiceErrors):
    reason = TextAreaField(
        _l("Why is the visit cancelled?"),
        filters=[strip],
        validators=[InputRequired(message=REQUIRED), Length(max=500)],
    )


class BookForm(FormWithServiceErrors):
    reason = TextAreaField(
        _l("What would you like to talk about? (optional)"),
        filters=[strip, optional_text],
        validators=[Optional(), Length(max=500)],
    )


class InviteForm(FormWithServiceErrors):
    role = RadioField(
        _l("Who joins"),
        choices=[SelectChoice(r.value, ROLE_LABELS[r]) for r in INVITABLE_ROLES],
        validators=[InputRequired(message=REQUIRED)],
    )
    display_name = StringField(
        _l("Their name"), filters=[strip, optional_text], validators=[Optional(), Length(max=100)]
    )
    user_id = SelectField(
        _l("Or one of the resident's caregivers (they are told in the platform)"),
        coerce=optional_int,
        validate_choice=False,
    )


class WindowRow(Form):
    """One weekly window (no CSRF of its own: it sits inside WeeklyForm)."""

    weekday = SelectField(
        _l("Weekday"),
        coerce=optional_int,
        choices=[SelectChoice("", "—")] + [SelectChoice(i, d) for i, d in enumerate(WEEKDAYS)],
        validate_choice=False,  # an empty row has none; check_rows checks the rest
    )
    start_time = TimeField(_l("Start time"), validators=[Optional()], render_kw=STEP)
    end_time = TimeField(_l("End time"), validators=[Optional()], render_kw=STEP)
    remove = BooleanField(_l("Remove this row"))

    def is_blank(self) -> bool:
        return self.weekday.data is None and not (self.start_time.data or self.end_time.data)


class WeeklyForm(FormWithServiceErrors):
    rows = FieldList(FormField(WindowRow), min_entries=1, max_entries=60)

    def windows(self) -> tuple[list[dict], list[int]]:
        """The windows to keep, and for each the index of its row (to place errors)."""
        kept, where = [], []
        for index, entry in enumerate(self.rows):
            row = entry.form
            if row.remove.data or row.is_blank():
                continue
            kept.append(
                {
                    "weekday": row.weekday.data,
                    "start_time": row.start_time.data,
                    "end_time": row.end_time.data,
                }
            )
            where.append(index)
        return kept, where

    def check_rows(self) -> bool:
        """Every kept row needs its day and both times."""
        ok = True
        for entry in self.rows:
            row = entry.form
            if row.remove.data or row.is_blank():
                continue
            for part in (row.weekday, row.start_time, row.end_time):
                if part.data is None and not part.errors:
                    part.errors = [*part.errors, str(REQUIRED)]
                    ok = False
            if row.weekday.data is not None and not 0 <= row.weekday.data <= 6:
                row.weekday.errors = [*row.weekday.errors, str(NOT_A_DAY)]
                ok = False
        return ok


class ExceptionForm(FormWithServiceErrors):
    on_date = DateField(_l("Date"), validators=[InputRequired(message=REQUIRED)])
    kind = RadioField(
        _l("What changes"),
        choices=[SelectChoice(k.value, KIND_LABELS[k]) for k in ExceptionKind],
        default=ExceptionKind.CLOSED.value,
        validators=[InputRequired(message=REQUIRED)],
    )
    start_time = TimeField(
        _l("Start time (empty: the whole day)"), validators=[Optional()], render_kw=STEP
    )
    end_time = TimeField(_l("End time"), validators=[Optional()], render_kw=STEP)
    reason = StringField(
        _l("Remark (optional)"), filters=[strip], validators=[Optional(), Length(max=200)]
    )

    def service_data(self) -> dict:
        return {
            "on_date": self.on_date.data,
            "kind": ExceptionKind(self.kind.data),
            "start_time": self.start_time.data,
            "end_time": self.end_time.data,
            "reason": self.reason.data or "",
        }
