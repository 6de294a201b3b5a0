"""What each rule says, as message ids with their values: an alert keeps the id and the
values, and each reader sees it in their own language (pages call gettext on them)."""

from app.errors import N_

# (metric, side) -> message; values: value, limit (and minutes for a sustained limit).
LIMIT_MESSAGES = {
    ("systolic_bp", "high"): N_("Systolic blood pressure %(value)s mmHg, at or above %(limit)s"),
    ("systolic_bp", "low"): N_("Systolic blood pressure %(value)s mmHg, at or below %(limit)s"),
    ("diastolic_bp", "high"): N_("Diastolic blood pressure %(value)s mmHg, at or above %(limit)s"),
    ("diastolic_bp", "low"): N_("Diastolic blood pressure %(value)s mmHg, at or below %(limit)s"),
    ("blood_glucose", "high"): N_("Blood glucose %(value)s mmol/L, at or above %(limit)s"),
    ("blood_glucose", "low"): N_("Blood glucose %(value)s mmol/L, at or below %(limit)s"),
    ("body_temperature", "high"): N_("Body temperature %(value)s °C, at or above %(limit)s"),
    ("body_temperature", "low"): N_("Body temperature %(value)s °C, at or below %(limit)s"),
    ("heart_rate", "high"): N_(
        "Heart rate at or above %(limit)s/min for %(minutes)s minutes (latest %(value)s/min)"
    ),
    ("heart_rate", "low"): N_(
        "Heart rate at or below %(limit)s/min for %(minutes)s minutes (latest %(value)s/min)"
    ),
    ("spo2", "high"): N_(
        "SpO2 at or above %(limit)s%% for %(minutes)s minutes (latest %(value)s%%)"
    ),
    ("spo2", "low"): N_(
        "SpO2 at or below %(limit)s%% for %(minutes)s minutes (latest %(value)s%%)"
    ),
    ("respiratory_rate", "high"): N_(
        "Respiratory rate at or above %(limit)s/min for %(minutes)s minutes (latest %(value)s/min)"
    ),
    ("respiratory_rate", "low"): N_(
        "Respiratory rate at or below %(limit)s/min for %(minutes)s minutes (latest %(value)s/min)"
    ),
}
DIABETES_HEART_RATE = N_(
    "Heart rate above 100/min for %(minutes)s minutes in a resident with diabetes "
    "(latest %(value)s/min)"
)

BASELINE_HIGH = N_(
    "Heart rate at least %(value)s/min for %(minutes)s minutes, far above this resident's "
    "usual %(baseline)s/min"
)
BASELINE_LOW = N_(
    "Heart rate at most %(value)s/min for %(minutes)s minutes, far below this resident's "
    "usual %(baseline)s/min"
)
TEXTBOOK_HIGH = N_(
    "Heart rate at least %(value)s/min for %(minutes)s minutes (resting range 50-100/min)"
)
TEXTBOOK_LOW = N_(
    "Heart rate at most %(value)s/min for %(minutes)s minutes (resting range 50-100/min)"
)

NEWS2 = {
    "low-medium": N_("NEWS2 %(total)s with a 3 in one parameter: urgent review"),
    "medium": N_("NEWS2 %(total)s, medium risk: urgent response"),
    "high": N_("NEWS2 %(total)s, high risk: emergency response"),
}

FALL = N_("A fall was detected")
SOS = N_("The SOS button was pressed")
DEVICE_SILENT = N_("Device %(serial)s has sent nothing for %(hours)s hours")
BATTERY_LOW = N_("Device %(serial)s battery is at %(level)s%%")
DEVICE_BACK = N_("the device reported again")
BATTERY_CHARGED = N_("the device battery was charged")

# Written into a system-drafted referral and a planned recheck, in the platform's default
# language (they are documents a doctor reads, edits and sends on).
REFERRAL_SUMMARY = N_(
    "Drafted by the platform from home monitoring for a doctor to review: %(readings)s. "
    "See the resident and complete this summary before sending."
)
REFERRAL_OTHER_HOSPITAL = N_(
    "Drafted by the platform: the resident signed with no hospital; the team's usual one was chosen"
)
RECHECK_PURPOSE = N_("Recheck: first unsatisfactory home reading (%(reading)s)")


def number(value: float | None) -> str:
    """A value as a message shows it: whole numbers without a decimal point, else one."""
    if value is None:
        return ""
    rounded = round(float(value), 1)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:.1f}"
