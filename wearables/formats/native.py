"""Kangyang's own JSON: {"readings": [{"metric", "value", "unit", "measured_at"}, ...]}.
Blood pressure may come as one reading {"metric": "blood_pressure", "systolic", "diastolic",
"unit"}; events (fall, sos) carry no value. A device may add its battery level in percent
beside the readings: {"battery": 64, "readings": [...]}."""

from datetime import datetime

from app.errors import N_
from wearables.metrics import METRICS, Candidate, MalformedBody, Rejection

MAX_READINGS = 5000


def _time(raw) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def _number(raw) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    return float(raw)


def _one(index: int, item) -> list[Candidate] | Rejection:
    if not isinstance(item, dict):
        return Rejection(index, N_("a reading must be an object"))
    measured_at = _time(item.get("measured_at"))
    if measured_at is None:
        return Rejection(index, N_("measured_at must be an ISO 8601 time with its offset"))
    metric, unit = item.get("metric"), item.get("unit")
    if metric == "blood_pressure":
        systolic, diastolic = _number(item.get("systolic")), _number(item.get("diastolic"))
        if systolic is None or diastolic is None:
            return Rejection(index, N_("blood_pressure needs numeric systolic and diastolic"))
        return [
            Candidate(index, "systolic_bp", systolic, unit, measured_at),
            Candidate(index, "diastolic_bp", diastolic, unit, measured_at),
        ]
    if metric not in METRICS:
        return Rejection(index, N_("unknown metric"))
    if METRICS[metric].is_event:
        return [Candidate(index, metric, None, None, measured_at)]
    value = _number(item.get("value"))
    if value is None:
        return Rejection(index, N_("value must be a number"))
    return [Candidate(index, metric, value, unit, measured_at)]


def parse(body) -> tuple[list[Candidate], list[Rejection]]:
    if not isinstance(body, dict) or not isinstance(body.get("readings"), list):
        raise MalformedBody(N_('the body must be {"readings": [...]}'))
    if len(body["readings"]) > MAX_READINGS:
        raise MalformedBody(N_("too many readings in one request"))
    candidates, rejections = [], []
    for index, item in enumerate(body["readings"]):
        result = _one(index, item)
        if isinstance(result, Rejection):
            rejections.append(result)
        else:
            candidates.extend(result)
    return candidates, rejections


def battery(body) -> int | None:
    """The battery level a body reports (0-100 %), if any."""
    level = body.get("battery") if isinstance(body, dict) else None
    if level is None:
        return None
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 <= level <= 100:
        raise MalformedBody(N_("battery must be a percentage from 0 to 100"))
    return round(level)
