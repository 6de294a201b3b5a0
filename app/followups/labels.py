"""The words the pages use for follow-ups: their modes, states and sources, and the national
follow-up form's fields and values (one copy, used here and by the video-visit pages)."""

from flask_babel import lazy_gettext as _l

from app.followups.models import FollowUpMode, FollowUpSource, FollowUpStatus

MODE_LABELS = {
    FollowUpMode.CLINIC: _l("At the clinic"),
    FollowUpMode.HOME: _l("Home visit"),
    FollowUpMode.PHONE: _l("By phone"),
    FollowUpMode.VIDEO: _l("By video"),
}
STATUS_LABELS = {
    FollowUpStatus.DUE: _l("Due"),
    FollowUpStatus.DONE: _l("Done"),
    FollowUpStatus.MISSED: _l("Missed"),
    FollowUpStatus.CANCELLED: _l("Cancelled"),
}
SOURCE_LABELS = {
    FollowUpSource.REFERRAL_RETURN: _l("Back from a referral"),
    FollowUpSource.CHRONIC_SCHEDULE: _l("Chronic-disease schedule"),
    FollowUpSource.ALERT_RECHECK: _l("Recheck after an alert"),
    FollowUpSource.ANNUAL_CHECK: _l("Yearly check (65 and over)"),
    FollowUpSource.MANUAL: _l("Planned by the team"),
}
# The history's events, as the page names them.
EVENT_LABELS = {
    "follow_up.planned": _l("Planned"),
    "follow_up.done": _l("Recorded"),
    "follow_up.next_planned": _l("Next contact planned"),
    "follow_up.missed": _l("Missed"),
    "follow_up.cancelled": _l("Cancelled"),
    "follow_up.referral_not_drafted": _l("No referral could be drafted"),
}

# The follow-up form (app.followups.schemas.FollowUpFormSchema), in the order of the paper form.
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
    "type2_diabetes": _l("Type 2 diabetes"),
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
NOT_TAKING = _l("Not taking it")  # medication_adherence "none" (not "no symptoms")
YES, NO = _l("Yes"), _l("No")


def value_label(key: str, value) -> str:
    if key == "medication_adherence" and value == "none":
        return str(NOT_TAKING)
    return str(FORM_VALUES.get(value, value))


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
    if isinstance(value, list):
        return "、".join(value_label(key, v) for v in value)
    return value_label(key, value)
