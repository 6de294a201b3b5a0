"""The Open mHealth parser, against the published shouldPass / shouldFail test data.

The test data are bare bodies; each is wrapped in a data point whose header names the
schema (omh, folder name, folder version), so it is validated against that exact version.
Pure functions: no app or database is needed (the suite's autouse fixtures still run).
"""

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wearables.formats import omh
from wearables.metrics import Candidate, MalformedBody, Rejection

TEST_DATA = Path(__file__).resolve().parents[3] / "shared/reference/openmhealth/test-data"
SUPPORTED = sorted(omh.FIELDS)
NO_TIME = "no measured time"
DATE_ONLY = "measured time is a date without a time of day"
MISMATCH = "the body does not match the Open mHealth schema"

# shouldPass bodies of old schema versions, where effective_time_frame was optional: valid
# data, but a reading with no time cannot be placed, so each is refused for that reason
# alone (test_timeless_should_pass_data_reads_once_timed shows the rest is accepted).
TIMELESS = {
    "heart-rate/1.0/heart-rate-only": NO_TIME,
    "blood-pressure/1.0/blood-pressure-only": NO_TIME,
    "blood-pressure/1.0/with-position": NO_TIME,
    "blood-pressure/1.0/with-user-notes": NO_TIME,
    "blood-pressure/1.0/with-time-frame": DATE_ONLY,  # {"date", "part_of_day": "morning"}
    "blood-pressure/2.0/blood-pressure-only": NO_TIME,
    "blood-pressure/2.0/with-posture": NO_TIME,
    "respiratory-rate/1.0/respiratory-rate-only": NO_TIME,
    "blood-glucose/1.0/blood-glucose-only": NO_TIME,
    "blood-glucose/1.0/with-blood-specimen-type": NO_TIME,
    "blood-glucose/1.0/with-temporal-relationship-to-meal": NO_TIME,
    "blood-glucose/1.0/with-temporal-relationship-to-sleep": NO_TIME,
    "blood-glucose/1.0/with-user-notes": NO_TIME,
    "blood-glucose/2.0/blood-glucose-only": NO_TIME,
    "blood-glucose/2.0/with-specimen-source": NO_TIME,
    "body-weight/1.0/body-weight-only": NO_TIME,
    "step-count/1.0/step-count-only": NO_TIME,
}
# shouldFail bodies that an *older* version of the same schema accepts: sent without a
# schema_id (so any published version may match) they are read. With the schema_id of
# their folder they are refused (test_should_fail_data_is_refused).
VALID_IN_AN_OLDER_VERSION = {
    "blood-pressure/3.1/invalid-pa-value",  # blood-pressure 1.0-3.0 do not know that field
    "blood-pressure/4.0/invalid-pa-value",
    "step-count/2.0/with-date-time",  # step-count 1.0 allows a point in time
}


def files(kind: str) -> list[Path]:
    return sorted(p for name in SUPPORTED for p in TEST_DATA.glob(f"omh/{name}/*/{kind}/*.json"))


def key(path: Path) -> str:
    return f"{path.parts[-4]}/{path.parts[-3]}/{path.stem}"


def data_point(path: Path, header: bool = True) -> dict:
    body = json.loads(path.read_text())
    if not header:
        return {"body": body}
    schema_id = {"namespace": "omh", "name": path.parts[-4], "version": path.parts[-3]}
    return {
        "header": {
            "id": "6d9c8a8a-0000-4000-8000-000000000001",
            "creation_date_time": "2024-05-01T08:30:00Z",
            "schema_id": schema_id,
        },
        "body": body,
    }


def metrics_of(name: str) -> list[str]:
    return [metric for _, metric in omh.FIELDS[name]]


def test_test_data_layout_is_as_expected():
    # the parametrized tests below must not silently run over nothing
    assert len(files("shouldPass")) == 93
    assert len(files("shouldFail")) == 94
    assert {key(p) for p in files("shouldPass")} >= set(TIMELESS)
    assert {key(p) for p in files("shouldFail")} >= VALID_IN_AN_OLDER_VERSION


@pytest.mark.parametrize("path", files("shouldPass"), ids=key)
@pytest.mark.parametrize("header", [True, False], ids=["schema_id", "no-header"])
def test_should_pass_data_gives_candidates(path, header):
    candidates, rejections = omh.parse(data_point(path, header))
    if key(path) in TIMELESS:
        assert (candidates, rejections) == ([], [Rejection(0, TIMELESS[key(path)])])
        return
    assert rejections == []
    assert [c.metric for c in candidates] == metrics_of(path.parts[-4])
    assert all(c.index == 0 and c.measured_at.tzinfo is not None for c in candidates)
    assert all(isinstance(c.value, float) and c.unit for c in candidates)


@pytest.mark.parametrize("path", [p for p in files("shouldPass") if key(p) in TIMELESS], ids=key)
def test_timeless_should_pass_data_reads_once_timed(path):
    point = data_point(path)
    point["body"]["effective_time_frame"] = {"date_time": "2024-05-01T08:30:00+08:00"}
    candidates, rejections = omh.parse(point)
    assert rejections == []
    assert [c.metric for c in candidates] == metrics_of(path.parts[-4])


@pytest.mark.parametrize("path", files("shouldFail"), ids=key)
def test_should_fail_data_is_refused(path):
    try:
        candidates, rejections = omh.parse(data_point(path))
    except MalformedBody:
        return
    assert candidates == []
    assert len(rejections) == 1


@pytest.mark.parametrize("path", files("shouldFail"), ids=key)
def test_should_fail_data_without_schema_id(path):
    candidates, rejections = omh.parse(data_point(path, header=False))
    if key(path) in VALID_IN_AN_OLDER_VERSION:
        assert candidates
        assert rejections == []
    else:
        assert candidates == []
        assert len(rejections) == 1


def test_values_units_and_times_of_a_few_published_bodies():
    def read(rel):
        return [
            (c.metric, c.value, c.unit, c.measured_at.isoformat())
            for c in omh.parse(data_point(TEST_DATA / f"omh/{rel}.json"))[0]
        ]

    assert read("blood-pressure/4.0/shouldPass/blood-pressure-only") == [
        ("systolic_bp", 115.0, "mmHg", "2020-02-05T07:25:00-08:00"),
        ("diastolic_bp", 60.0, "mmHg", "2020-02-05T07:25:00-08:00"),
    ]
    # a statistic over an interval: measured at the interval's end
    assert read("heart-rate/2.0/shouldPass/with-descriptive-statistic") == [
        ("heart_rate", 50.0, "beats/min", "2020-02-06T06:00:00+01:00")
    ]
    assert read("body-temperature/4.0/shouldPass/valid-temperature") == [
        ("body_temperature", 97.0, "F", "2023-02-05T07:25:00+01:00")
    ]
    assert read("step-count/3.0/shouldPass/valid-step-count") == [
        ("steps", 10600.0, "steps", "2016-02-05T07:25:00+00:00")
    ]
    # step-count 1.0 is a bare number; the schema makes it a count of steps
    assert read("step-count/1.0/shouldPass/with-time-frame") == [
        ("steps", 6000.0, "steps", "2013-02-05T07:25:00+00:00")
    ]
    assert read("oxygen-saturation/2.0/shouldPass/with-oxygen") == [
        ("spo2", 95.0, "%", "2013-02-05T07:25:00+00:00")
    ]
    assert read("blood-glucose/4.0/shouldPass/with-everything") == [
        ("blood_glucose", 95.0, "mg/dL", "2013-06-05T07:25:00+00:00")
    ]


# The IEEE 1752.1 time-frame / time-interval test data, as a heart rate's time frame.
IEEE_TIMES = {
    "time-frame/1.0/shouldPass/date-time": datetime(2013, 2, 5, 7, 25, 0, 123000, tzinfo=UTC),
    "time-frame/1.0/shouldPass/time-interval": datetime(2013, 2, 5, 7, 35, tzinfo=UTC),
    "time-interval/1.0/shouldPass/end-time-duration": datetime(2013, 2, 5, 7, 35, tzinfo=UTC),
    # start + 10.2 days
    "time-interval/1.0/shouldPass/start-time-duration": datetime(2013, 2, 15, 12, 13, tzinfo=UTC),
    "time-interval/1.0/shouldPass/start-time-end-time": datetime(2013, 2, 5, 7, 35, tzinfo=UTC),
    "time-frame/1.0/shouldFail/empty-document": None,
    "time-frame/1.0/shouldFail/time-interval-and-date-time": None,
    "time-interval/1.0/shouldFail/duration-only": None,
    "time-interval/1.0/shouldFail/empty-document": None,
    "time-interval/1.0/shouldFail/end-time-only": None,
    "time-interval/1.0/shouldFail/start-time-only": None,
}


def heart_rate(frame) -> dict:
    return {
        "body": {"heart_rate": {"value": 60, "unit": "beats/min"}, "effective_time_frame": frame}
    }


@pytest.mark.parametrize("rel", IEEE_TIMES)
def test_ieee_time_frames(rel):
    frame = json.loads((TEST_DATA / f"ieee/{rel}.json").read_text())
    if rel.startswith("time-interval"):
        frame = {"time_interval": frame}
    candidates, rejections = omh.parse(heart_rate(frame))
    if IEEE_TIMES[rel] is None:
        assert (candidates, len(rejections)) == ([], 1)
    else:
        assert [c.measured_at for c in candidates] == [IEEE_TIMES[rel]]


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ({"date_time": "2024-05-01T08:30:00"}, "measured time has no time zone"),
        ({"date_time": "20240501T083000Z"}, "measured time is not an RFC 3339 date-time"),
        ({"date_time": "2024-05-01"}, "measured time is not an RFC 3339 date-time"),
        ({"date_time": "2024-02-30T08:30:00Z"}, "measured time is not an RFC 3339 date-time"),
        (
            {
                "time_interval": {
                    "start_date_time": "2024-05-01T08:30:00Z",
                    "duration": {"value": 1, "unit": "Mo"},
                }
            },
            "interval duration has no exact length",
        ),
        ({"time_interval": {"date": "2024-05-01", "part_of_day": "morning"}}, DATE_ONLY),
    ],
)
def test_times_we_cannot_place(frame, reason):
    assert omh.parse(heart_rate(frame)) == ([], [Rejection(0, reason)])


def test_start_plus_duration():
    frame = {
        "time_interval": {
            "start_date_time": "2024-05-01T08:00:00+08:00",
            "duration": {"value": 90, "unit": "min"},
        }
    }
    [candidate], _ = omh.parse(heart_rate(frame))
    assert candidate.measured_at == datetime(2024, 5, 1, 9, 30, tzinfo=timezone(timedelta(hours=8)))


def test_a_list_reads_each_point_at_its_index():
    good = heart_rate({"date_time": "2024-05-01T08:30:00Z"})
    bp = data_point(TEST_DATA / "omh/blood-pressure/4.0/shouldPass/blood-pressure-only.json")
    height = {"body": {"body_height": {"value": 170, "unit": "cm"}}}
    candidates, rejections = omh.parse([good, "text", bp, {"header": {}}, height])
    assert [(c.index, c.metric) for c in candidates] == [
        (0, "heart_rate"),
        (2, "systolic_bp"),
        (2, "diastolic_bp"),
    ]
    assert rejections == [
        Rejection(1, "not an Open mHealth data point"),
        Rejection(3, "not an Open mHealth data point"),
        Rejection(4, "unsupported schema"),
    ]


def test_an_empty_list_gives_nothing():
    assert omh.parse([]) == ([], [])


@pytest.mark.parametrize(
    "body",
    [None, "x", 3, {}, {"header": {}}, {"body": [1]}, [{}] * 5001],
    ids=["null", "string", "number", "empty", "header-only", "body-not-object", "too-many"],
)
def test_an_unreadable_body_is_malformed(body):
    with pytest.raises(MalformedBody):
        omh.parse(body)


BP_BODY = json.loads(
    (TEST_DATA / "omh/blood-pressure/4.0/shouldPass/blood-pressure-only.json").read_text()
)


@pytest.mark.parametrize(
    ("schema_id", "reason"),
    [
        ({"namespace": "omh", "name": "body-height", "version": "1.0"}, "unsupported schema"),
        ({"namespace": "acme", "name": "blood-pressure", "version": "4.0"}, "unsupported schema"),
        (
            {"namespace": "omh", "name": "blood-pressure", "version": "9.0"},
            "unsupported schema version",
        ),
        (
            {"namespace": "omh", "name": "blood-pressure", "version": "../x"},
            "unsupported schema version",
        ),
        (
            {"namespace": "omh", "name": "blood-pressure"},
            "schema_id needs namespace, name and version",
        ),
        ("omh:blood-pressure:4.0", "schema_id needs namespace, name and version"),
        # the body is a valid blood pressure, but not a valid heart rate
        ({"namespace": "omh", "name": "heart-rate", "version": "2.0"}, MISMATCH),
    ],
)
def test_schema_id(schema_id, reason):
    assert omh.parse({"header": {"schema_id": schema_id}, "body": BP_BODY}) == (
        [],
        [Rejection(0, reason)],
    )


def test_nan_is_no_value():
    # Python's JSON parser reads NaN; the schema's "number" lets it through
    point = heart_rate({"date_time": "2024-05-01T08:30:00Z"})
    point["body"]["heart_rate"]["value"] = float("nan")
    assert omh.parse(point) == ([], [Rejection(0, "no value")])


# --- property: whatever arrives, parse() answers or raises MalformedBody, nothing else ---

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(["omh", "heart-rate", "2.0", "beats/min", "2024-05-01T08:30:00Z", "d", "Mo"])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
POINTS = [data_point(p) for p in files("shouldPass") + files("shouldFail")]


def paths(value, prefix=()):
    yield prefix
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else []
    )
    for key_, child in items:
        yield from paths(child, (*prefix, key_))


@st.composite
def mutated_points(draw):
    point = copy.deepcopy(draw(st.sampled_from(POINTS)))
    if draw(st.booleans()):
        del point["header"]
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(paths(point))))
        if not path:
            return draw(json_values)
        parent = point
        for k in path[:-1]:
            parent = parent[k]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return [point] if draw(st.booleans()) else point


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.one_of(json_values, mutated_points()))
def test_parse_never_fails_otherwise(body):
    try:
        candidates, rejections = omh.parse(body)
    except MalformedBody:
        return
    assert all(isinstance(c, Candidate) and c.measured_at.tzinfo is not None for c in candidates)
    assert all(isinstance(r, Rejection) and r.reason for r in rejections)
