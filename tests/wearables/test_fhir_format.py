"""The FHIR parser, against the official FHIR R4 Observation examples and by property.

Pure functions: no app or database is needed (the suite's autouse fixtures still run).
"""

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wearables.formats import fhir
from wearables.metrics import Candidate, MalformedBody, Rejection

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "reference" / "fhir-r4" / "examples"
DATE_ONLY = "measured time is a date without a time of day"


def example(name: str) -> dict:
    return json.loads((EXAMPLES / f"observation-example-{name}.json").read_text())


def observation(**fields) -> dict:
    base = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "effectiveDateTime": "2024-05-01T08:30:00+08:00",
        "valueQuantity": {
            "value": 72,
            "unit": "beats/minute",
            "system": "http://unitsofmeasure.org",
            "code": "/min",
        },
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def summary(result) -> tuple[list[tuple], list[tuple]]:
    candidates, rejections = result
    return (
        [(c.index, c.metric, c.value, c.unit) for c in candidates],
        [(r.index, r.reason) for r in rejections],
    )


# The same examples with a full time of day: what the rest of the mapping gives.
WITH_TIME = {
    # unit is the UCUM code ("/min"), not the display text "beats/minute"
    "heart-rate": ([(0, "heart_rate", 44.0, "/min")], []),
    "respiratory-rate": ([(0, "respiratory_rate", 26.0, "/min")], []),
    "body-temperature": ([(0, "body_temperature", 36.5, "Cel")], []),
    # the 85354-9 panel: both components, at the same index
    "bloodpressure": (
        [(0, "systolic_bp", 107.0, "mm[Hg]"), (0, "diastolic_bp", 60.0, "mm[Hg]")],
        [],
    ),
    # the diastolic component has a dataAbsentReason: systolic counts, diastolic is refused
    "bloodpressure-dar": ([(0, "systolic_bp", 107.0, "mm[Hg]")], [(0, "no value")]),
    # hasMember points at four other Observations; the panel itself holds no value
    "vitals-panel": ([], [(0, "panel refers to separate observations; send those")]),
    # 29463-7 is the first coding; 185 [lb_av] is converted later by the ingest service
    "": ([(0, "body_weight", 185.0, "[lb_av]")], []),
}


# What each official example gives as published, and why. Most vital-signs examples carry a
# date only ("1999-07-02"): it is placed at the start of that day in Asia/Shanghai, so they
# give the same readings as with a full time (the ingest window then judges their age).
AS_PUBLISHED = {
    # 15074-8 in mmol/L; effectivePeriod.start with an offset is the measured time
    "f001-glucose": ([(0, "blood_glucose", 6.3, "mmol/L")], []),
    # 2708-6 first (the SpO2 alias), full dateTime with +01:00
    "satO2": ([(0, "spo2", 95.0, "%")], []),
    "heart-rate": WITH_TIME["heart-rate"],
    "respiratory-rate": WITH_TIME["respiratory-rate"],
    "body-temperature": WITH_TIME["body-temperature"],
    "bloodpressure": WITH_TIME["bloodpressure"],
    "bloodpressure-dar": WITH_TIME["bloodpressure-dar"],
    "vitals-panel": WITH_TIME["vitals-panel"],
    "": WITH_TIME[""],  # observation-example.json: body weight, date only
    # status "cancelled" is checked before the time: a withdrawn result never counts
    "bloodpressure-cancel": ([], [(0, "observation was cancelled or entered in error")]),
    # BMI 39156-5, height 8302-2, head circumference 9843-4: not metrics we store
    "bmi": ([], [(0, "unsupported code")]),
    "body-height": ([], [(0, "unsupported code")]),
    "head-circumference": ([], [(0, "unsupported code")]),
}


def example_file(name: str) -> str:
    return f"observation-example-{name}" if name else "observation-example"


@pytest.mark.parametrize("name", AS_PUBLISHED, ids=example_file)
def test_official_examples_as_published(name):
    raw = json.loads((EXAMPLES / f"{example_file(name)}.json").read_text())
    assert summary(fhir.parse(raw)) == AS_PUBLISHED[name]


@pytest.mark.parametrize("name", WITH_TIME, ids=example_file)
def test_official_examples_with_a_time_of_day(name):
    raw = json.loads((EXAMPLES / f"{example_file(name)}.json").read_text())
    raw["effectiveDateTime"] = "2024-05-01T08:30:00+08:00"
    candidates, _ = result = fhir.parse(raw)
    assert summary(result) == WITH_TIME[name]
    tz = timezone(timedelta(hours=8))
    assert all(c.measured_at == datetime(2024, 5, 1, 8, 30, tzinfo=tz) for c in candidates)


def test_every_example_is_covered():
    names = {p.stem for p in EXAMPLES.glob("observation-example*.json")}
    assert names == {example_file(n) for n in AS_PUBLISHED}


def test_glucose_measured_at_is_the_period_start_with_its_offset():
    [candidate], _ = fhir.parse(example("f001-glucose"))
    assert candidate.measured_at == datetime(2013, 4, 2, 8, 30, 10, tzinfo=UTC)
    assert candidate.measured_at.utcoffset() == timedelta(hours=1)


def test_a_bundle_reads_each_entry_at_its_index():
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": observation()},
            {"resource": {"resourceType": "Patient", "id": "p1"}},
            "not an entry",
            {"resource": example("bloodpressure-cancel")},
            {"resource": {**example("bloodpressure"), "effectiveDateTime": "2024-05-01T09:00:00Z"}},
        ],
    }
    assert summary(fhir.parse(bundle)) == (
        [
            (0, "heart_rate", 72.0, "/min"),
            (4, "systolic_bp", 107.0, "mm[Hg]"),
            (4, "diastolic_bp", 60.0, "mm[Hg]"),
        ],
        [
            (1, "bundle entry is not an Observation"),
            (2, "bundle entry is not an Observation"),
            (3, "observation was cancelled or entered in error"),
        ],
    )


@pytest.mark.parametrize("kind", ["transaction", "batch", "searchset", "collection"])
def test_any_bundle_type_is_read(kind):
    bundle = {"resourceType": "Bundle", "type": kind, "entry": [{"resource": observation()}]}
    assert len(fhir.parse(bundle)[0]) == 1


def test_an_empty_bundle_gives_nothing():
    assert fhir.parse({"resourceType": "Bundle", "type": "collection"}) == ([], [])


@pytest.mark.parametrize(
    "body",
    [
        [observation()],
        "Observation",
        None,
        {"resourceType": "Patient"},
        {"status": "final"},
        {"resourceType": "Bundle", "entry": {"resource": observation()}},
        {"resourceType": "Bundle", "entry": [{}] * 5001},
    ],
    ids=["list", "string", "null", "patient", "no-type", "entry-not-list", "too-many"],
)
def test_an_unreadable_body_is_malformed(body):
    with pytest.raises(MalformedBody):
        fhir.parse(body)


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("final", None),
        ("amended", None),
        ("corrected", None),
        ("preliminary", None),
        ("entered-in-error", "observation was cancelled or entered in error"),
        ("cancelled", "observation was cancelled or entered in error"),
        ("registered", "observation status is not final"),
        ("unknown", "observation status is not final"),
        # fhir.resources does not check the code list; anything else is not a result either
        ("done", "observation status is not final"),
    ],
)
def test_status(status, reason):
    _, rejections = fhir.parse(observation(status=status))
    assert [r.reason for r in rejections] == ([reason] if reason else [])


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"effectiveDateTime": "2024-05"}, DATE_ONLY),
        ({"effectiveDateTime": "2024-05-01T08:30:00"}, "measured time has no time zone"),
        ({"effectiveDateTime": "2024-05-01T08:30"}, "measured time has no time zone"),
        ({"effectiveDateTime": None}, "no measured time"),
        ({"effectiveDateTime": "yesterday"}, "not a valid FHIR Observation"),
    ],
)
def test_a_time_we_cannot_place_is_refused(fields, reason):
    assert fhir.parse(observation(**fields)) == ([], [Rejection(0, reason)])


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"effectiveDateTime": "2024-05-01T00:30:00Z"}, datetime(2024, 5, 1, 0, 30, tzinfo=UTC)),
        (
            {"effectiveDateTime": None, "effectiveInstant": "2024-05-01T00:30:00.250Z"},
            datetime(2024, 5, 1, 0, 30, 0, 250000, tzinfo=UTC),
        ),
        (
            {
                "effectiveDateTime": None,
                "effectivePeriod": {"start": "2024-05-01T00:30:00Z", "end": "2024-05-02T00:00:00Z"},
            },
            datetime(2024, 5, 1, 0, 30, tzinfo=UTC),
        ),
        (
            # no start: the end still places the reading
            {"effectiveDateTime": None, "effectivePeriod": {"end": "2024-05-02T00:00:00Z"}},
            datetime(2024, 5, 2, tzinfo=UTC),
        ),
    ],
)
def test_measured_at_sources(fields, expected):
    [candidate], rejections = fhir.parse(observation(**fields))
    assert rejections == []
    assert candidate.measured_at == expected
    assert candidate.measured_at.tzinfo is not None


@pytest.mark.parametrize(
    ("quantity", "unit"),
    [
        (
            {"value": 72, "unit": "bpm", "system": "http://unitsofmeasure.org", "code": "/min"},
            "/min",
        ),
        ({"value": 72, "unit": "bpm", "system": "http://example.org/units", "code": "B"}, "bpm"),
        ({"value": 72, "unit": "bpm", "system": "http://unitsofmeasure.org"}, "bpm"),
        ({"value": 72, "unit": "bpm"}, "bpm"),
        ({"value": 72}, None),
    ],
)
def test_unit_is_the_ucum_code_else_the_unit_text(quantity, unit):
    [candidate], _ = fhir.parse(observation(valueQuantity=quantity))
    assert (candidate.value, candidate.unit) == (72.0, unit)


@pytest.mark.parametrize(
    "fields",
    [
        {"valueQuantity": None},
        {"valueQuantity": {"unit": "bpm"}},
        {"valueQuantity": None, "valueString": "72"},
        {"valueQuantity": None, "dataAbsentReason": {"text": "sensor off"}},
    ],
)
def test_a_missing_value_is_refused(fields):
    assert fhir.parse(observation(**fields)) == ([], [Rejection(0, "no value")])


def loinc(*codes, system="http://loinc.org"):
    return {"coding": [{"system": system, "code": c} for c in codes]}


@pytest.mark.parametrize(
    ("code", "metric"),
    [
        (loinc("8302-2", "8867-4"), "heart_rate"),  # first *supported* LOINC coding
        (loinc("59408-5"), "spo2"),
        (loinc("2708-6"), "spo2"),
        (loinc("8480-6"), "systolic_bp"),  # a lone systolic Observation
        (loinc("29463-7"), "body_weight"),
        (loinc("41950-7"), "steps"),
    ],
)
def test_metric_from_loinc(code, metric):
    [candidate], _ = fhir.parse(observation(code=code))
    assert candidate.metric == metric


@pytest.mark.parametrize(
    "code",
    [
        loinc("8867-4", system="http://snomed.info/sct"),  # the right code in another system
        {"text": "heart rate"},
        loinc("39156-5"),
    ],
)
def test_unsupported_codes(code):
    assert fhir.parse(observation(code=code)) == ([], [Rejection(0, "unsupported code")])


def bp_component(code, value):
    quantity = {"value": value, "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}
    return {"code": loinc(code), "valueQuantity": quantity}


def test_bp_panel_ignores_components_that_are_not_readings():
    obs = observation(
        code=loinc("85354-9"),
        valueQuantity=None,
        component=[
            bp_component("8480-6", 120),
            bp_component("8478-0", 90),
            bp_component("8462-4", 80),
        ],
    )
    assert summary(fhir.parse(obs))[0] == [
        (0, "systolic_bp", 120.0, "mm[Hg]"),
        (0, "diastolic_bp", 80.0, "mm[Hg]"),
    ]


def test_a_panel_without_readings_is_refused():
    obs = observation(code=loinc("85354-9"), valueQuantity=None)
    assert fhir.parse(obs) == ([], [Rejection(0, "panel has no supported component")])


def test_a_vitals_panel_with_components_reads_them():
    obs = observation(
        code=loinc("85353-1"), valueQuantity=None, component=[bp_component("8480-6", 120)]
    )
    assert summary(fhir.parse(obs))[0] == [(0, "systolic_bp", 120.0, "mm[Hg]")]


@pytest.mark.parametrize(
    "fields",
    [
        {"status": None},
        {"code": None},
        {"valueQuantity": {"value": "seventy"}},
        {"effectivePeriod": "2024"},
        {"unknownField": 1},
    ],
)
def test_a_structurally_invalid_observation_is_refused(fields):
    result = fhir.parse(observation(**fields))
    assert result == ([], [Rejection(0, "not a valid FHIR Observation")])


# --- property: whatever arrives, parse() answers or raises MalformedBody, nothing else ---

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(["Observation", "Bundle", "final", "8867-4", "http://loinc.org"])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
EXAMPLE_BODIES = [json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*.json"))]


def paths(value, prefix=()):
    """Every place in a JSON value that a mutation can replace."""
    yield prefix
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else []
    )
    for key, child in items:
        yield from paths(child, (*prefix, key))


@st.composite
def mutated_examples(draw):
    body = copy.deepcopy(draw(st.sampled_from(EXAMPLE_BODIES)))
    if draw(st.booleans()):
        body = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": body}]}
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(paths(body))))
        if not path:
            return draw(json_values)
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return body


def well_formed(result):
    candidates, rejections = result
    assert all(isinstance(c, Candidate) and c.measured_at.tzinfo is not None for c in candidates)
    assert all(isinstance(r, Rejection) and r.reason for r in rejections)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.one_of(json_values, mutated_examples()))
def test_parse_never_fails_otherwise(body):
    try:
        result = fhir.parse(body)
    except MalformedBody:
        return
    well_formed(result)


def test_a_date_alone_is_the_start_of_that_day_in_shanghai():
    from datetime import datetime

    from app.timeutil import LOCAL_TZ

    raw = json.loads((EXAMPLES / "observation-example-heart-rate.json").read_text())
    candidates, rejections = fhir.parse(raw)
    assert rejections == []
    assert candidates[0].measured_at == datetime(1999, 7, 2, tzinfo=LOCAL_TZ)
