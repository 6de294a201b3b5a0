"""FHIR R4 (application/fhir+json): one Observation, or a Bundle of them.

Each Observation is checked with fhir.resources (R4B structures, which read R4 vital signs
unchanged), then mapped by its LOINC code. Anything wrong with one Observation is a
Rejection at its index, so one bad entry never costs the rest of a Bundle.
See docs/WEARABLES.md, section FHIR, for the full mapping.
"""

import math
import re
from datetime import date, datetime, time, timezone

from fhir.resources.R4B.observation import Observation
from pydantic import ValidationError

from app.errors import N_
from app.timeutil import LOCAL_TZ
from wearables.formats.native import MAX_READINGS
from wearables.metrics import BP_PANEL_LOINC, LOINC_TO_METRIC, Candidate, MalformedBody, Rejection

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
VITALS_PANEL_LOINC = "85353-1"
PANELS = {BP_PANEL_LOINC, VITALS_PANEL_LOINC}
ACCEPTED_STATUSES = {"final", "amended", "corrected", "preliminary"}
WITHDRAWN_STATUSES = {"cancelled", "entered-in-error"}
# A FHIR dateTime with a time of day but no offset: FHIR itself forbids it, so the model
# would only say "invalid"; we look for it first to tell the sender what is actually wrong.
LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")

Result = Candidate | Rejection


def _effective_raw(raw: dict) -> list:
    period = raw.get("effectivePeriod")
    period = period if isinstance(period, dict) else {}
    return [raw.get("effectiveDateTime"), raw.get("effectiveInstant"), period.get("start")]


def _invalid_reason(raw: dict) -> str:
    if any(isinstance(v, str) and LOCAL_TIME.fullmatch(v) for v in _effective_raw(raw)):
        return N_("measured time has no time zone")
    return N_("not a valid FHIR Observation")


def _measured_at(obs: Observation) -> datetime | str:
    """The time of the reading, or the reason there is none we can use."""
    period = obs.effectivePeriod
    # A period's start is when the measurement began; without one, its end still places it.
    when = (
        obs.effectiveDateTime
        or obs.effectiveInstant
        or (period.start or period.end if period else None)
    )
    if when is None:
        return N_("no measured time")
    if isinstance(when, date) and not isinstance(when, datetime):
        # A date alone (the official vital-signs examples carry "1999-07-02"): placed at the
        # start of that day in the platform's time zone. The ingest window still refuses an
        # old one; a year or year-month alone cannot be placed and is refused below.
        return datetime.combine(when, time.min, tzinfo=LOCAL_TZ)
    if not isinstance(when, datetime):
        return N_("measured time is a date without a time of day")
    if when.tzinfo is None:
        return N_("measured time has no time zone")
    return when.astimezone(timezone(when.utcoffset()))  # a plain offset, not pydantic's TzInfo


def _status_reason(obs: Observation) -> str | None:
    if obs.status in ACCEPTED_STATUSES:
        return None
    if obs.status in WITHDRAWN_STATUSES:
        return N_("observation was cancelled or entered in error")
    return N_("observation status is not final")  # registered, unknown: no result yet


def _code(concept) -> str | None:
    """The first LOINC code we know (a metric or a panel), else None."""
    for coding in (concept.coding or []) if concept else []:
        if coding.system == LOINC and (coding.code in LOINC_TO_METRIC or coding.code in PANELS):
            return coding.code
    return None


def _reading(index: int, loinc: str, holder, measured_at: datetime) -> Candidate | Rejection:
    """A Candidate from the valueQuantity of an Observation or one of its components."""
    quantity = holder.valueQuantity
    if quantity is None or quantity.value is None:
        return Rejection(index, N_("no value"))
    if not math.isfinite(quantity.value):
        return Rejection(index, N_("no value"))  # NaN or Infinity: no sensor measures them
    # The UCUM code is the machine-readable unit; `unit` is display text ("beats/minute").
    unit = quantity.code if quantity.system == UCUM and quantity.code else quantity.unit
    return Candidate(index, LOINC_TO_METRIC[loinc], float(quantity.value), unit, measured_at)


def _panel(index: int, obs: Observation, measured_at: datetime) -> list[Result]:
    results = []
    for component in obs.component or []:
        loinc = _code(component.code)
        if loinc in LOINC_TO_METRIC:  # other components (e.g. cuff size) are not readings
            results.append(_reading(index, loinc, component, measured_at))
    if results:
        return results
    if obs.hasMember:
        # The vitals panel only points at other Observations; they count when sent themselves.
        return [Rejection(index, N_("panel refers to separate observations; send those"))]
    return [Rejection(index, N_("panel has no supported component"))]


def _observation(index: int, raw: dict) -> list[Result]:
    try:
        obs = Observation.model_validate(raw)
    except (ValidationError, ValueError, TypeError):
        return [Rejection(index, _invalid_reason(raw))]
    reason = _status_reason(obs)
    loinc = _code(obs.code)
    if reason is None and loinc is None:
        reason = N_("unsupported code")
    measured_at = _measured_at(obs)
    if reason is None and isinstance(measured_at, str):
        reason = measured_at
    if reason is not None:
        return [Rejection(index, reason)]
    if loinc in PANELS:
        return _panel(index, obs, measured_at)
    return [_reading(index, loinc, obs, measured_at)]


def _entry(index: int, entry) -> list[Result]:
    resource = entry.get("resource") if isinstance(entry, dict) else None
    if not isinstance(resource, dict) or resource.get("resourceType") != "Observation":
        return [Rejection(index, N_("bundle entry is not an Observation"))]
    return _observation(index, resource)


def _results(body) -> list[Result]:
    if not isinstance(body, dict):
        raise MalformedBody(N_("the body must be a FHIR Observation or Bundle"))
    kind = body.get("resourceType")
    if kind == "Observation":
        return _observation(0, body)
    if kind != "Bundle":
        raise MalformedBody(N_("the body must be a FHIR Observation or Bundle"))
    entries = body.get("entry", [])
    if not isinstance(entries, list):
        raise MalformedBody(N_("the Bundle's entry must be a list"))
    if len(entries) > MAX_READINGS:
        raise MalformedBody(N_("too many readings in one request"))
    return [result for index, entry in enumerate(entries) for result in _entry(index, entry)]


def parse(body) -> tuple[list[Candidate], list[Rejection]]:
    candidates, rejections = [], []
    for result in _results(body):
        if isinstance(result, Rejection):
            rejections.append(result)
        else:
            candidates.append(result)
    return candidates, rejections
