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

# The follow-up form (telecall.schemas.FollowUpFormSchema), in the order of the paper form.
FORM_FIELDS = {
    "condition": _l("Condition followed up"),
    "symptoms": _l("Symptoms"),
    "other_symptoms": _l("Other symptoms"),
    "systolic": _l("Systolic blood pressure (mmHg)"),
    "diastolic": _l("Diastolic blood pressure (mmHg)"),
    "weight_kg": _l("Weight (kg)"),
    "target_weight_kg": _l("Target weight (kg)"),
    "heart_rate": _l("Heart rate (beats per minute)"),
    "fasting_glucose": _l("Fasting glucose (mmol/L)"),
    "cigarettes_per_day": _l("Cigarettes per day"),
    "alcohol_liang_per_day": _l("Alcohol per day (liang)"),
    "exercise_times_per_week": _l("Exercise (times per week)"),
    "exercise_minutes": _l("Exercise (minutes each time)"),
    "salt_intake": _l("Salt intake"),
    "psychological_adjustment": _l("Psychological adjustment"),
    "compliance": _l("Following the doctor's advice"),
    "medication_adherence": _l("Taking medicine"),
    "side_effects": _l("Side effects of medicine"),
    "side_effects_detail": _l("Which side effects"),
    "classification": _l("Classification of this follow-up"),
    "next_visit_date": _l("Next follow-up"),
}
FORM_VALUES = {
    "hypertension": _l("High blood pressure"),
    "diabetes": _l("Type 2 diabetes"),
    "none": _l("No symptoms"),
    "headache_dizziness": _l("Headache, dizziness"),
    "nausea_vomiting": _l("Nausea, vomiting"),
    "blurred_vision_tinnitus": _l("Blurred vision, ringing ears"),
    "breathing_difficulty": _l("Difficult breathing"),
    "palpitations_chest_tightness": _l("Palpitations, tight chest"),
    "nosebleed": _l("Nosebleed that will not stop"),
    "numb_limbs": _l("Numb hands or feet"),
    "swollen_ankles": _l("Swollen ankles"),
    "thirst_hunger_urination": _l("Much thirst, hunger and urination"),
    "infection": _l("Infection"),
    "weight_loss": _l("Weight loss"),
    "good": _l("Well"),
    "fair": _l("Fair"),
    "poor": _l("Poor"),
    "light": _l("Light"),
    "moderate": _l("Moderate"),
    "heavy": _l("Heavy"),
    "regular": _l("Regularly"),
    "intermittent": _l("Now and then"),
    "satisfactory": _l("Well controlled"),
    "unsatisfactory": _l("Not well controlled"),
    "side_effects": _l("Side effects of medicine"),
    "complications": _l("Complications"),
}
YES, NO = _l("Yes"), _l("No")
NOT_A_DAY = _l("Choose a day of the week.")
STEP = {"step": 300}  # the booking grid's five minutes, for the browser's time picker


def form_rows(form: dict | None) -> list[tuple[str, str]]:
    """The saved follow-up form as (label, value) rows, in the reader's language."""
    if not form:
        return []
    rows = []
    for key, title in FORM_FIELDS.items():
        value = form.get(key)
        if value is None or value == "" or value == []:
            continue
        rows.append((str(title), _value_text(key, value)))
    return rows


def _value_text(key: str, value) -> str:
    if isinstance(value, bool):
        return str(YES if value else NO)
    if key == "medication_adherence" and value == "none":
        return str(_l("Not taking it"))
    if isinstance(value, list):
        return "、".join(str(FORM_VALUES.get(v, v)) for v in value)
    return str(FORM_VALUES.get(value, value))


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
