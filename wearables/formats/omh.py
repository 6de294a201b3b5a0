"""Open mHealth / IEEE 1752.1 data points: {"header": {...}, "body": {...}}, or a list of them.

Each body is validated against its published JSON schema (the copy in
wearables/omh_schemas), then mapped to one or two readings.
See docs/WEARABLES.md, section Open mHealth, for the full mapping.
"""

import json
import math
import os
import re
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from jsonschema import Draft7Validator
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from app.errors import N_
from wearables.formats.native import MAX_READINGS
from wearables.metrics import Candidate, MalformedBody, Rejection

# The published schemas ship with the platform (wearables/omh_schemas, Apache 2.0);
# OMH_SCHEMA_DIR may point at another copy.
SCHEMA_DIR = Path(
    os.environ.get("OMH_SCHEMA_DIR", Path(__file__).resolve().parents[1] / "omh_schemas")
)
OMH_BASE = "https://w3id.org/openmhealth/schemas/"
# The newest OMH schemas point at IEEE 1752.1 schemas on w3id.org, which we cannot fetch.
# IEEE 1752.1 adopted those OMH schemas, so the OMH file of the same name stands in.
IEEE_BASE = "https://w3id.org/ieee/ieee-1752-schema/"

# schema name -> (body field, metric) pairs; blood pressure gives two readings.
FIELDS = {
    "heart-rate": (("heart_rate", "heart_rate"),),
    "blood-pressure": (
        ("systolic_blood_pressure", "systolic_bp"),
        ("diastolic_blood_pressure", "diastolic_bp"),
    ),
    "body-temperature": (("body_temperature", "body_temperature"),),
    "oxygen-saturation": (("oxygen_saturation", "spo2"),),
    "respiratory-rate": (("respiratory_rate", "respiratory_rate"),),
    "blood-glucose": (("blood_glucose", "blood_glucose"),),
    "body-weight": (("body_weight", "body_weight"),),
    "step-count": (("step_count", "steps"),),
}
# step-count 1.x sends a bare number: the schema defines it as a count of steps.
BARE_NUMBER_UNIT = {"step_count": "steps"}
# Months and years have no fixed length, so an interval given that way has no exact end.
DURATION = {
    "ps": timedelta(microseconds=1e-6),
    "ns": timedelta(microseconds=1e-3),
    "us": timedelta(microseconds=1),
    "ms": timedelta(milliseconds=1),
    "sec": timedelta(seconds=1),
    "min": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "wk": timedelta(weeks=1),
}
# RFC 3339 (what the schemas mean by date-time); fromisoformat alone would take "20130205".
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$")
VERSION = re.compile(r"^\d+\.(\d+|x)$")

Result = Candidate | Rejection


def _contents(path: Path):
    text = path.read_text()
    if text.strip().endswith(".json") and not text.lstrip().startswith("{"):
        # "heart-rate-1.x.json" holds only the name of the file it stands for (a git symlink).
        return _contents(path.parent / text.strip())
    return json.loads(text)


@cache
def _registry() -> Registry:
    resources = []
    for path in sorted(SCHEMA_DIR.glob("*/*.json")):
        resource = Resource.from_contents(_contents(path), default_specification=DRAFT7)
        resources.append((f"{OMH_BASE}{path.parent.name}/{path.name}", resource))
        if path.parent.name == "omh":
            resources.append((f"{IEEE_BASE}{path.name}", resource))
    return Registry().with_resources(resources).crawl()


@cache
def _validator(name: str, version: str):
    """The validator for schema omh:name:version, or None if we do not have that schema."""
    if name not in FIELDS or not VERSION.fullmatch(version):
        return None
    path = SCHEMA_DIR / "omh" / f"{name}-{version}.json"
    if not path.is_file():
        return None
    cls = validator_for(_contents(path), default=Draft7Validator)
    # Through the registry, so the schema's relative $refs resolve against its own URI.
    return cls({"$ref": f"{OMH_BASE}omh/{path.name}"}, registry=_registry())


@cache
def _versions(name: str) -> tuple[str, ...]:
    """Every version of a schema we hold, newest first."""
    found = [p.stem.removeprefix(f"{name}-") for p in (SCHEMA_DIR / "omh").glob(f"{name}-*.json")]
    numbered = [v for v in found if re.fullmatch(r"\d+\.\d+", v)]
    return tuple(sorted(numbered, key=lambda v: tuple(map(int, v.split("."))), reverse=True))


def _valid(validator, body: dict) -> bool:
    try:
        return validator.is_valid(body)
    except (SchemaError, RecursionError):  # a pathological body must not become a 500
        return False


def _time(raw) -> datetime | str:
    if not isinstance(raw, str) or not RFC3339.fullmatch(raw):
        return N_("measured time is not an RFC 3339 date-time")
    try:
        value = datetime.fromisoformat(raw.upper().replace("Z", "+00:00"))
    except ValueError:
        return N_("measured time is not an RFC 3339 date-time")
    # The schema would assume UTC for a time without offset; we refuse to guess the zone.
    return value if value.tzinfo is not None else N_("measured time has no time zone")


def _interval_end(interval: dict) -> datetime | str:
    """When a reading over an interval was taken: its end, when the count was complete."""
    if "end_date_time" in interval:
        return _time(interval["end_date_time"])
    duration = interval.get("duration")
    if "start_date_time" not in interval or not isinstance(duration, dict):
        return N_("measured time is a date without a time of day")  # date + part_of_day
    start = _time(interval["start_date_time"])
    step, amount = DURATION.get(duration.get("unit")), duration.get("value")
    if isinstance(start, str):
        return start
    if step is None or isinstance(amount, bool) or not isinstance(amount, int | float):
        return N_("interval duration has no exact length")
    try:
        return start + step * amount
    except (OverflowError, ValueError):  # NaN, or past year 9999
        return N_("measured time is not an RFC 3339 date-time")


def _measured_at(body: dict) -> datetime | str:
    frame = body.get("effective_time_frame")
    if not isinstance(frame, dict):
        return N_("no measured time")
    if "date_time" in frame:
        return _time(frame["date_time"])
    if isinstance(frame.get("time_interval"), dict):
        return _interval_end(frame["time_interval"])
    return N_("no measured time")


def _schema_name(header, body: dict) -> tuple[str | None, str | None]:
    """(schema name, None) from header.schema_id, else guessed from the body's fields;
    (None, reason) when it is not one we read."""
    schema_id = header.get("schema_id") if isinstance(header, dict) else None
    if schema_id is None:
        for name, fields in FIELDS.items():
            if any(field in body for field, _ in fields):
                return name, None
        return None, N_("unsupported schema")
    if not isinstance(schema_id, dict) or not all(
        isinstance(schema_id.get(k), str) for k in ("namespace", "name", "version")
    ):
        return None, N_("schema_id needs namespace, name and version")
    if schema_id["namespace"] != "omh" or schema_id["name"] not in FIELDS:
        return None, N_("unsupported schema")
    return schema_id["name"], None


def _check(header, body: dict, name: str) -> str | None:
    """None when the body is valid; the reason otherwise."""
    schema_id = header.get("schema_id") if isinstance(header, dict) else None
    if schema_id is None:
        # No version sent: the body is fine if any published version accepts it.
        valid = any(_valid(_validator(name, v), body) for v in _versions(name))
        return None if valid else N_("the body does not match the Open mHealth schema")
    validator = _validator(name, schema_id["version"])
    if validator is None:
        return N_("unsupported schema version")
    return (
        None if _valid(validator, body) else N_("the body does not match the Open mHealth schema")
    )


def _value(raw, field: str) -> tuple[float, str | None] | None:
    if isinstance(raw, dict):
        raw, unit = raw.get("value"), raw.get("unit")
    else:
        unit = BARE_NUMBER_UNIT.get(field)
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        return None  # JSON parsers accept NaN and Infinity; no sensor measures them
    return float(raw), unit if isinstance(unit, str) else None


def _reason(header, body: dict) -> tuple[str | None, datetime | str]:
    """(schema name, measured time) for a readable body, else (None, the reason)."""
    name, reason = _schema_name(header, body)
    reason = reason or _check(header, body, name)
    if reason is not None:
        return None, reason
    return name, _measured_at(body)


def _data_point(index: int, point) -> list[Result]:
    header = point.get("header") if isinstance(point, dict) else None
    if not isinstance(point, dict) or not isinstance(point.get("body"), dict):
        return [Rejection(index, N_("not an Open mHealth data point"))]
    if header is not None and not isinstance(header, dict):
        return [Rejection(index, N_("not an Open mHealth data point"))]
    name, measured_at = _reason(header, point["body"])
    if isinstance(measured_at, str):
        return [Rejection(index, measured_at)]
    results = []
    for field, metric in FIELDS[name]:
        value = _value(point["body"].get(field), field)
        if value is None:
            results.append(Rejection(index, N_("no value")))
        else:
            results.append(Candidate(index, metric, value[0], value[1], measured_at))
    return results


def parse(body) -> tuple[list[Candidate], list[Rejection]]:
    if isinstance(body, dict):
        if not isinstance(body.get("body"), dict):
            raise MalformedBody(N_("the body must be an Open mHealth data point or a list"))
        points = [body]
    elif isinstance(body, list):
        if len(body) > MAX_READINGS:
            raise MalformedBody(N_("too many readings in one request"))
        points = body
    else:
        raise MalformedBody(N_("the body must be an Open mHealth data point or a list"))
    candidates, rejections = [], []
    for index, point in enumerate(points):
        for result in _data_point(index, point):
            (rejections if isinstance(result, Rejection) else candidates).append(result)
    return candidates, rejections
