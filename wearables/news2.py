"""NEWS2, the National Early Warning Score 2 (Royal College of Physicians, 2017), as tables.

Pure: no Flask, no database. `score(vitals)` scores one set of observations; `latest_set`
builds that set from stored readings. docs/ALERTS.md ("NEWS2") is the description.

Values are rounded to the precision the RCP chart is written in before they are looked up
(whole numbers; temperature to one decimal), half up: 20.5 breaths/min scores as 21 and
36.05 °C as 36.1, so every real value falls in exactly one row.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum

# The seven scored parameters, in the RCP chart's order.
PARAMETERS = (
    "respiratory_rate",
    "spo2",
    "on_oxygen",
    "systolic_bp",
    "heart_rate",
    "consciousness",
    "temperature",
)
SPO2_SCALE = "spo2_scale"  # which SpO2 row applies: 1, or 2 for hypercapnic respiratory failure
SPO2_SCALES = (1, 2)
ACVPU = ("A", "C", "V", "P", "U")

WHOLE = Decimal("1")
TENTH = Decimal("0.1")
ABOVE = Decimal("Infinity")  # the open-ended top row ("≥ 25")


@dataclass(frozen=True)
class Bands:
    """One parameter's row of the chart: (highest value of the band, points), ascending.
    A value belongs to the first band whose top it does not exceed, after rounding to
    `step`."""

    step: Decimal
    rows: tuple[tuple[Decimal, int], ...]

    def points(self, value: float) -> int:
        rounded = _round_half_up(value, self.step)
        return next(points for top, points in self.rows if rounded <= top)


def _bands(step: Decimal, *rows: tuple[str | Decimal, int]) -> Bands:
    return Bands(step, tuple((Decimal(top), points) for top, points in rows))


# RCP 2017 Chart 1, read left to right. Each row: the band's highest value, its points.
RESPIRATORY_RATE = _bands(WHOLE, ("8", 3), ("11", 1), ("20", 0), ("24", 2), (ABOVE, 3))
SPO2_SCALE_1 = _bands(WHOLE, ("91", 3), ("93", 2), ("95", 1), (ABOVE, 0))
# Scale 2 on air: 88-92 and >= 93 both score 0 (no target ceiling without oxygen).
SPO2_SCALE_2_AIR = _bands(WHOLE, ("83", 3), ("85", 2), ("87", 1), (ABOVE, 0))
# Scale 2 on oxygen: above the 88-92 target is over-oxygenation and scores again.
SPO2_SCALE_2_OXYGEN = _bands(
    WHOLE, ("83", 3), ("85", 2), ("87", 1), ("92", 0), ("94", 1), ("96", 2), (ABOVE, 3)
)
SYSTOLIC_BP = _bands(WHOLE, ("90", 3), ("100", 2), ("110", 1), ("219", 0), (ABOVE, 3))
HEART_RATE = _bands(WHOLE, ("40", 3), ("50", 1), ("90", 0), ("110", 1), ("130", 2), (ABOVE, 3))
TEMPERATURE = _bands(TENTH, ("35.0", 3), ("36.0", 1), ("38.0", 0), ("39.0", 1), (ABOVE, 2))
AIR_OR_OXYGEN = {False: 0, True: 2}
CONSCIOUSNESS = {"A": 0, "C": 3, "V": 3, "P": 3, "U": 3}

NUMERIC_BANDS = {
    "respiratory_rate": RESPIRATORY_RATE,
    "systolic_bp": SYSTOLIC_BP,
    "heart_rate": HEART_RATE,
    "temperature": TEMPERATURE,
}
# (scale, on oxygen) -> the SpO2 row; an unknown air/oxygen is scored as air (RCP's default
# row) and the set is reported partial.
SPO2_BANDS = {
    (1, False): SPO2_SCALE_1,
    (1, True): SPO2_SCALE_1,
    (2, False): SPO2_SCALE_2_AIR,
    (2, True): SPO2_SCALE_2_OXYGEN,
}


class Band(StrEnum):
    NONE = "none"
    LOW = "low"
    LOW_MEDIUM = "low-medium"
    MEDIUM = "medium"
    HIGH = "high"


# RCP Chart 3: aggregate score -> clinical risk, (highest total of the band, band).
TOTAL_BANDS = ((0, Band.NONE), (4, Band.LOW), (6, Band.MEDIUM), (math.inf, Band.HIGH))
# A 3 in any single parameter (a "red score") raises a low aggregate to low-medium.
RED_SCORE = 3
RED_SCORE_RAISES = {Band.LOW: Band.LOW_MEDIUM}


@dataclass(frozen=True)
class News2Result:
    total: int
    band: Band
    scores: dict[str, int]  # points of each parameter given, in chart order
    partial: bool  # some of the seven parameters were missing
    missing: tuple[str, ...]


class News2InputError(ValueError):
    """A set that cannot be scored; `field` names the offending entry."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def score(vitals: Mapping[str, object]) -> News2Result:
    """NEWS2 of one set. Keys: the PARAMETERS and `spo2_scale` (1 when absent); an absent
    key or None is missing. Numbers are not range-checked: every real value has a row."""
    _check(vitals)
    given = {name: vitals[name] for name in PARAMETERS if vitals.get(name) is not None}
    scale = vitals.get(SPO2_SCALE) or 1
    scores = {name: _points(name, value, scale, given) for name, value in given.items()}
    total = sum(scores.values())
    missing = tuple(name for name in PARAMETERS if name not in given)
    return News2Result(total, band(total, scores), scores, bool(missing), missing)


def band(total: int, scores: Mapping[str, int]) -> Band:
    result = next(b for top, b in TOTAL_BANDS if total <= top)
    if any(points >= RED_SCORE for points in scores.values()):
        result = RED_SCORE_RAISES.get(result, result)
    return result


def _points(name: str, value, scale: int, given: Mapping[str, object]) -> int:
    if name == "spo2":
        return SPO2_BANDS[(scale, bool(given.get("on_oxygen")))].points(value)
    if name == "on_oxygen":
        return AIR_OR_OXYGEN[value]
    if name == "consciousness":
        return CONSCIOUSNESS[value]
    return NUMERIC_BANDS[name].points(value)


def _check(vitals: Mapping[str, object]) -> None:
    for name, value in vitals.items():
        if name not in PARAMETERS and name != SPO2_SCALE:
            raise News2InputError(name, "unknown parameter")
        if value is None:
            continue
        if name == SPO2_SCALE and (isinstance(value, bool) or value not in SPO2_SCALES):
            raise News2InputError(name, "must be 1 or 2")
        if name == "on_oxygen" and not isinstance(value, bool):
            raise News2InputError(name, "must be true or false")
        if name == "consciousness" and (not isinstance(value, str) or value not in CONSCIOUSNESS):
            raise News2InputError(name, "must be one of A, C, V, P, U")
        if name in NUMERIC_BANDS or name == "spo2":
            _check_number(name, value)


def _check_number(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise News2InputError(name, "must be a number")
    if not math.isfinite(value):
        raise News2InputError(name, "must be a finite number")


def _round_half_up(value: float, step: Decimal) -> Decimal:
    # str() gives the shortest decimal that reads back as the float, so 36.05 stays 36.05
    # (its binary value is 36.0499…) and rounds up as a person reading the chart would.
    number = Decimal(str(value))
    with localcontext() as context:
        context.prec = max(28, number.adjusted() + 4)  # room for absurd but finite values
        return number.quantize(step, rounding=ROUND_HALF_UP)


# Our stored metric names -> NEWS2 parameters.
METRIC_PARAMETERS = {
    "respiratory_rate": "respiratory_rate",
    "spo2": "spo2",
    "systolic_bp": "systolic_bp",
    "heart_rate": "heart_rate",
    "body_temperature": "temperature",
}

Reading = tuple[str, float | None, datetime]  # (metric, value, measured_at), aware time


def latest_set(
    readings: Iterable[Reading],
    now: datetime,
    window: timedelta,
    *,
    spo2_scale: int = 1,
    consciousness: str | None = "A",
    on_oxygen: bool | None = None,
) -> dict[str, object]:
    """The set `score` takes: for each vital metric, its latest reading measured in
    [now - window, now]. Readings after `now`, events (no value) and other metrics are
    left out; of two readings at the same instant the first given is kept.

    What no wearable measures comes from the caller: the SpO2 scale (2 for a resident the
    doctor marks hypercapnic), consciousness from the latest assessment (alert when there
    is none; None makes it missing), and air/oxygen (None, unknown, leaves it missing)."""
    since = now - window
    latest: dict[str, tuple[datetime, float]] = {}
    for metric, value, measured_at in readings:
        parameter = METRIC_PARAMETERS.get(metric)
        if parameter is None or value is None or not since <= measured_at <= now:
            continue
        if parameter not in latest or measured_at > latest[parameter][0]:
            latest[parameter] = (measured_at, value)
    vitals: dict[str, object] = {name: value for name, (_, value) in latest.items()}
    vitals[SPO2_SCALE] = spo2_scale
    vitals["consciousness"] = consciousness
    vitals["on_oxygen"] = on_oxygen
    return vitals
