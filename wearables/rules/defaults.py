"""The default alert limits, as data, each with the published source it follows.

A limit is inclusive: a reading breaks it when it is at or beyond it ("at or above" a high
limit, "at or below" a low one). Sources that say "above 39 °C" or "below 90 %" are written
at the next step of the precision the devices report in (39.1 °C, 89 %), as the NEWS2 chart
itself does. docs/ALERTS.md ("Rules and scores") is the description for people.

`minutes` 0: one reading is enough (a deliberate measurement: a cuff, a glucometer, a
thermometer). Otherwise the limit is judged as sustained for that long: continuous wrist
and finger sensors are noisy (motion, a loose strap), so one reading must not page anyone.
"""

from dataclasses import dataclass, replace

from app.alerts.models import Severity
from app.residents.models import ChronicCondition

BPHS = "National Basic Public Health Service Standards, 3rd ed. (NHFPC 2017)"
BPHS_HYPERTENSION = (
    f"{BPHS}, hypertension follow-up: urgent referral at SBP >= 180 and/or DBP >= 110 mmHg"
)
BPHS_DIABETES = (
    f"{BPHS}, type 2 diabetes follow-up: urgent referral at glucose >= 16.7 or <= 3.9 mmol/L, "
    "heart rate > 100/min, temperature > 39 °C"
)
NEWS2_RED = "RCP NEWS2 (2017) Chart 1: a single-parameter score of 3 (urgent response)"
WHO_SPO2 = "WHO Pulse Oximetry Training Manual (2011): SpO2 below 90 % is hypoxaemia"
BTS_SPO2 = "BTS guideline for oxygen use (2017): target SpO2 88-92 % in hypercapnic failure"
ACC_AHA_HR = (
    "2018 ACC/AHA/HRS bradycardia guideline: sinus bradycardia < 50/min, tachycardia > 100/min"
)

LOW, HIGH = "low", "high"
SIDES = (LOW, HIGH)
# Sustained: at least this many readings, and the first no later than this share of the
# window after its start, so a window with a hole at its start is not taken as covered.
SUSTAINED_MIN_READINGS = 3
SUSTAINED_MIN_SPAN = 0.8


@dataclass(frozen=True)
class Limit:
    rule: str  # the alert's rule id
    metric: str
    side: str  # "low" or "high"
    value: float
    severity: Severity
    source: str
    minutes: int = 0  # 0: one reading; else sustained this long
    referral: bool = False  # an urgent-referral criterion: also drafts a referral
    overridden: bool = False  # the resident's doctor set this value
    default: float | None = None  # when overridden: the value it replaced (None: no default)

    def broken_by(self, value: float | None) -> bool:
        if value is None:
            return False
        return value >= self.value if self.side == HIGH else value <= self.value


def _limit(metric, side, value, severity, source, minutes=0, referral=False) -> Limit:
    kind = "sustained" if minutes else "threshold"
    return Limit(
        f"{kind}:{metric}:{side}", metric, side, value, severity, source, minutes, referral
    )


H, M = Severity.HIGH, Severity.MEDIUM
# metric -> its limits (each side at most once). Units are the canonical ones of
# wearables/metrics.py: mm[Hg], mmol/L, Cel, /min, %.
DEFAULTS: dict[str, tuple[Limit, ...]] = {
    "systolic_bp": (
        _limit("systolic_bp", HIGH, 180, H, BPHS_HYPERTENSION, referral=True),
        _limit("systolic_bp", LOW, 90, M, NEWS2_RED + ": systolic BP <= 90 mmHg"),
    ),
    "diastolic_bp": (_limit("diastolic_bp", HIGH, 110, H, BPHS_HYPERTENSION, referral=True),),
    "blood_glucose": (
        _limit("blood_glucose", HIGH, 16.7, H, BPHS_DIABETES, referral=True),
        _limit("blood_glucose", LOW, 3.9, H, BPHS_DIABETES, referral=True),
    ),
    "body_temperature": (
        _limit("body_temperature", HIGH, 39.1, M, "NEWS2 Chart 1: >= 39.1 °C scores 2; " + BPHS),
        _limit("body_temperature", LOW, 35.0, M, NEWS2_RED + ": temperature <= 35.0 °C"),
    ),
    "heart_rate": (
        _limit("heart_rate", HIGH, 131, H, NEWS2_RED + ": pulse >= 131/min", minutes=10),
        _limit("heart_rate", LOW, 40, H, NEWS2_RED + ": pulse <= 40/min", minutes=5),
    ),
    "spo2": (_limit("spo2", LOW, 89, H, WHO_SPO2, minutes=5),),
    "respiratory_rate": (
        _limit("respiratory_rate", HIGH, 25, H, NEWS2_RED + ": respiration >= 25/min", minutes=10),
        _limit("respiratory_rate", LOW, 8, H, NEWS2_RED + ": respiration <= 8/min", minutes=5),
    ),
}
METRICS_WITH_LIMITS = tuple(DEFAULTS)

# A resident the doctor marks hypercapnic (NEWS2 SpO2 scale 2) lives lower: below the
# BTS target range, not below 90 %.
HYPERCAPNIC_SPO2 = _limit("spo2", LOW, 87, H, BTS_SPO2, minutes=5)

# Type 2 diabetes: the national follow-up rules add heart rate > 100/min and temperature
# > 39 °C to the urgent-referral criteria. Heart rate is taken at rest at a visit; from a
# watch, "at rest" is approximated by the whole of a 30-minute window.
DIABETES = ChronicCondition.TYPE2_DIABETES
DIABETES_HEART_RATE = Limit(
    "sustained:heart_rate:diabetes", "heart_rate", HIGH, 101, H, BPHS_DIABETES, 30, True
)
DIABETES_TEMPERATURE_SEVERITY = H

# The resident's own resting heart rate (the baseline rule): the median of the hourly
# means of the last 14 days, with enough days of data; without it, the textbook range.
BASELINE_RULE = "baseline:heart_rate"
BASELINE_TEXTBOOK = (49, 101)  # outside 50-100/min: ACC_AHA_HR
BASELINE_SOURCE = ACC_AHA_HR

# A first unsatisfactory control reading (national rules) plans a recheck within 2 weeks.
RECHECK_SOURCE = (
    f"{BPHS}: a first unsatisfactory reading (>= 140/90 mmHg; fasting glucose >= 7.0 mmol/L) "
    "is rechecked within 2 weeks"
)
RECHECK_FROM = {"systolic_bp": 140, "diastolic_bp": 90, "blood_glucose": 7.0}


def defaults_for(metric: str, hypercapnic: bool = False) -> tuple[Limit, ...]:
    limits = DEFAULTS.get(metric, ())
    if metric == "spo2" and hypercapnic:
        return (HYPERCAPNIC_SPO2,)
    return limits


def overridden(limit: Limit, value: float, has_default: bool = True) -> Limit:
    default = limit.value if has_default else None
    return replace(limit, value=value, overridden=True, default=default)
