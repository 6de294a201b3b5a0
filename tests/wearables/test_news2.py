"""NEWS2 scoring (RCP 2017): the published reference cases, every band edge of every
parameter, SpO2 scale 2, the aggregate bands, partial sets, and picking the latest set."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wearables import news2
from wearables.news2 import Band, News2InputError, latest_set, score

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "news2"
CASES_DIR = REFERENCE / "polaris-cases"

# The reference's field names -> ours; o2_therapy is an oxygen flow (0 = room air, see
# o2_therapy.json: 0.01 already scores 2), so any flow above 0 is "on oxygen".
ACVPU_WORDS = {"alert": "A", "confusion": "C", "voice": "V", "pain": "P", "unresponsive": "U"}
FIELDS = {
    "respiratory_rate": ("respiratory_rate", lambda v: v),
    "oxygen_saturation": ("spo2", lambda v: v),
    "spo2_scale": ("spo2_scale", lambda v: v),
    "o2_therapy": ("on_oxygen", lambda v: v > 0),
    "systolic_blood_pressure": ("systolic_bp", lambda v: v),
    "heart_rate": ("heart_rate", lambda v: v),
    "consciousness_acvpu": ("consciousness", lambda v: ACVPU_WORDS[v.lower()]),
    "temperature": ("temperature", lambda v: v),
}
# Not observations: when the set was taken and the follow-up intervals (we answer no due
# time), and the kind of oxygen mask (RCP scores air or oxygen, not the device).
NOT_SCORED = {"time", "config", "o2_therapy_mask"}
SCORES = {
    "respiratory_rate_score": "respiratory_rate",
    "oxygen_saturation_score": "spo2",
    "o2_therapy_score": "on_oxygen",
    "blood_pressure_score": "systolic_bp",
    "heart_rate_score": "heart_rate",
    "consciousness_score": "consciousness",
    "temperature_score": "temperature",
}
# Where we follow RCP 2017 rather than the reference (also listed in docs/ALERTS.md).
DEVIATIONS = {
    # All seven parameters are there; the reference calls it partial only because its
    # o2_therapy_mask is "undefined", a field RCP does not score.
    "overall1": {"partial": False},
}


def load_cases() -> list[dict]:
    return [
        case for path in sorted(CASES_DIR.glob("*.json")) for case in json.loads(path.read_text())
    ]


ALL_CASES = load_cases()


def is_nurse_concern(case) -> bool:
    """A local extension of the reference, not RCP: out of scope."""
    return "nurse_concern" in case["data"]


def is_request_error(case) -> bool:
    """failures.json: the reference refuses a body without its time or config fields."""
    return case.get("error", 200) != 200


def has_unknown_observation(case) -> bool:
    return any(k not in FIELDS and k not in NOT_SCORED for k in case["data"])


SCORED_CASES = [
    c
    for c in ALL_CASES
    if not (is_nurse_concern(c) or is_request_error(c) or has_unknown_observation(c))
]


def our_vitals(data: dict) -> dict:
    """A reference case's data as our parameters; unknown fields are passed on as they are."""
    vitals = {}
    for key, value in data.items():
        if key in FIELDS:
            name, convert = FIELDS[key]
            vitals[name] = convert(value)
        elif key not in NOT_SCORED:
            vitals[key] = value
    return vitals


def expected_of(case) -> dict:
    expected = case["expected"]
    total = expected["overall_score"]
    return {
        "scores": {ours: expected[theirs] for theirs, ours in SCORES.items()},
        "total": total,
        # The reference names a total of 0 "low" too; the band for 0 is "none".
        "band": "none" if total == 0 else expected["overall_severity"],
        "partial": expected["partial_set"],
    } | DEVIATIONS.get(case["id"], {})


def test_every_reference_case_is_accounted_for():
    """93 published cases: a missing reference folder fails here instead of skipping."""
    assert len(ALL_CASES) == 93
    nurse = [c["id"] for c in ALL_CASES if is_nurse_concern(c)]
    errors = [c["id"] for c in ALL_CASES if is_request_error(c)]
    unknown = [c["id"] for c in ALL_CASES if has_unknown_observation(c) and not is_nurse_concern(c)]
    assert len(nurse) == 6
    assert errors == ["error1", "error2", "error3"]
    assert unknown == ["refused2"]
    assert len(SCORED_CASES) == 93 - 6 - 3 - 1
    assert set(DEVIATIONS) <= {c["id"] for c in SCORED_CASES}


@pytest.mark.parametrize("case", SCORED_CASES, ids=lambda c: c["id"])
def test_reference_case(case):
    result = score(our_vitals(case["data"]))
    expected = expected_of(case)
    scores = {name: result.scores.get(name, 0) for name in news2.PARAMETERS}
    assert scores == expected["scores"]
    assert result.total == expected["total"]
    assert result.band == expected["band"]
    assert result.partial is expected["partial"]


def test_an_unknown_observation_is_refused_by_name():
    """refused2: the reference ignores `unknown_obs`; we refuse it (a misspelt parameter
    would otherwise score 0 silently)."""
    case = next(c for c in ALL_CASES if c["id"] == "refused2")
    with pytest.raises(News2InputError) as error:
        score(our_vitals(case["data"]))
    assert error.value.field == "unknown_obs"


def test_the_reference_deviation_is_real():
    """overall1 is scored as the reference scores it, apart from the partial flag."""
    case = next(c for c in ALL_CASES if c["id"] == "overall1")
    assert case["expected"]["partial_set"] is True
    assert case["data"]["o2_therapy_mask"] == "undefined"
    result = score(our_vitals(case["data"]))
    assert result.missing == ()
    assert (result.total, result.band) == (9, "high")


def points(parameter: str, value, **others) -> int:
    return score({parameter: value, **others}).scores[parameter]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(8, 3), (8.49, 3), (8.5, 1), (9, 1), (11, 1), (11.5, 0), (12, 0), (20, 0), (20.49, 0)]
    + [(20.5, 2), (21, 2), (24, 2), (24.5, 3), (25, 3), (0, 3), (60, 3)],
)
def test_respiratory_rate_edges(value, expected):
    assert points("respiratory_rate", value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(91, 3), (91.49, 3), (91.5, 2), (92, 2), (93, 2), (94, 1), (95, 1), (95.5, 0), (96, 0)]
    + [(100, 0)],
)
def test_spo2_scale_1_edges(value, expected):
    assert points("spo2", value) == expected
    assert points("spo2", value, spo2_scale=1, on_oxygen=True) == expected


@pytest.mark.parametrize(
    ("value", "on_air", "on_oxygen"),
    [(83, 3, 3), (84, 2, 2), (85, 2, 2), (86, 1, 1), (87, 1, 1), (87.5, 0, 0), (88, 0, 0)]
    + [(92, 0, 0), (92.5, 0, 1), (93, 0, 1), (94, 0, 1), (95, 0, 2), (96, 0, 2), (97, 0, 3)]
    + [(100, 0, 3)],
)
def test_spo2_scale_2_edges_on_air_and_on_oxygen(value, on_air, on_oxygen):
    assert points("spo2", value, spo2_scale=2, on_oxygen=False) == on_air
    assert points("spo2", value, spo2_scale=2, on_oxygen=True) == on_oxygen


def test_scale_2_with_air_or_oxygen_unknown_is_scored_as_air_and_partial():
    result = score({"spo2": 97, "spo2_scale": 2})
    assert result.scores == {"spo2": 0}
    assert "on_oxygen" in result.missing


def test_oxygen_adds_two_on_either_scale():
    assert score({"spo2": 96, "on_oxygen": True}).scores == {"spo2": 0, "on_oxygen": 2}
    assert score({"spo2": 97, "spo2_scale": 2, "on_oxygen": True}).total == 5
    assert score({"on_oxygen": False}).scores == {"on_oxygen": 0}


@pytest.mark.parametrize(
    ("value", "expected"),
    [(90, 3), (90.5, 2), (91, 2), (100, 2), (101, 1), (110, 1), (111, 0), (219, 0)]
    + [(219.49, 0), (219.5, 3), (220, 3), (300, 3)],
)
def test_systolic_bp_edges(value, expected):
    assert points("systolic_bp", value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(40, 3), (40.5, 1), (41, 1), (50, 1), (51, 0), (90, 0), (90.5, 1), (91, 1), (110, 1)]
    + [(111, 2), (130, 2), (130.49, 2), (131, 3)],
)
def test_heart_rate_edges(value, expected):
    assert points("heart_rate", value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(35.0, 3), (35.04, 3), (35.05, 1), (35.1, 1), (36.0, 1), (36.05, 0), (36.1, 0)]
    + [(38.0, 0), (38.04, 0), (38.05, 1), (38.1, 1), (39.0, 1), (39.05, 2), (39.1, 2), (36, 1)]
    + [(42.0, 2)],
)
def test_temperature_edges_round_to_one_decimal(value, expected):
    assert points("temperature", value) == expected


@pytest.mark.parametrize(("letter", "expected"), [("A", 0), ("C", 3), ("V", 3), ("P", 3), ("U", 3)])
def test_consciousness(letter, expected):
    assert points("consciousness", letter) == expected


FULL_NORMAL = {
    "respiratory_rate": 16,
    "spo2": 97,
    "on_oxygen": False,
    "systolic_bp": 120,
    "heart_rate": 70,
    "consciousness": "A",
    "temperature": 36.8,
}


def test_a_full_normal_set_is_none_and_not_partial():
    result = score(FULL_NORMAL)
    assert (result.total, result.band, result.partial, result.missing) == (0, "none", False, ())
    assert list(result.scores) == list(news2.PARAMETERS)  # chart order, every parameter


@pytest.mark.parametrize(
    ("changes", "total", "band"),
    [
        ({"heart_rate": 95}, 1, Band.LOW),
        ({"heart_rate": 115, "respiratory_rate": 21}, 4, Band.LOW),  # 4 without a 3
        ({"consciousness": "V"}, 3, Band.LOW_MEDIUM),  # a single 3
        ({"consciousness": "V", "heart_rate": 95}, 4, Band.LOW_MEDIUM),  # 3 + 1 < 5
        ({"consciousness": "V", "heart_rate": 115}, 5, Band.MEDIUM),  # 3 + 2: no longer low-medium
        ({"heart_rate": 115, "respiratory_rate": 21, "temperature": 38.5}, 5, Band.MEDIUM),
        ({"heart_rate": 115, "respiratory_rate": 21, "spo2": 93}, 6, Band.MEDIUM),
        ({"consciousness": "U", "heart_rate": 115, "temperature": 38.5}, 6, Band.MEDIUM),
        (
            {"heart_rate": 115, "respiratory_rate": 21, "spo2": 93, "temperature": 35.5},
            7,
            Band.HIGH,
        ),
        ({"consciousness": "U", "respiratory_rate": 25, "heart_rate": 95}, 7, Band.HIGH),
    ],
)
def test_aggregate_bands(changes, total, band):
    result = score(FULL_NORMAL | changes)
    assert (result.total, result.band) == (total, band)
    assert result.partial is False


def test_the_worst_set_scores_20():
    worst = {
        "respiratory_rate": 30,
        "spo2": 80,
        "on_oxygen": True,
        "systolic_bp": 80,
        "heart_rate": 140,
        "consciousness": "U",
        "temperature": 34.0,
    }
    assert (score(worst).total, score(worst).band) == (20, Band.HIGH)


def test_missing_parameters_make_the_set_partial():
    result = score({"heart_rate": 131, "temperature": None, "spo2_scale": 2})
    assert result.partial is True
    assert result.scores == {"heart_rate": 3}
    assert result.missing == (
        "respiratory_rate",
        "spo2",
        "on_oxygen",
        "systolic_bp",
        "consciousness",
        "temperature",
    )
    assert (result.total, result.band) == (3, Band.LOW_MEDIUM)


def test_an_empty_set_is_a_partial_zero():
    result = score({})
    assert (result.total, result.band, result.partial) == (0, Band.NONE, True)
    assert result.missing == news2.PARAMETERS


@pytest.mark.parametrize(
    ("vitals", "field"),
    [
        ({"pulse": 80}, "pulse"),
        ({"spo2_scale": 3}, "spo2_scale"),
        ({"spo2_scale": True}, "spo2_scale"),
        ({"consciousness": "alert"}, "consciousness"),
        ({"consciousness": "a"}, "consciousness"),
        ({"on_oxygen": 1}, "on_oxygen"),
        ({"heart_rate": "90"}, "heart_rate"),
        ({"heart_rate": True}, "heart_rate"),
        ({"temperature": float("nan")}, "temperature"),
        ({"spo2": float("inf")}, "spo2"),
    ],
)
def test_what_cannot_be_scored_is_named(vitals, field):
    with pytest.raises(News2InputError) as error:
        score(vitals)
    assert error.value.field == field


def test_absurd_but_finite_values_still_have_a_row():
    assert points("heart_rate", 1e300) == 3
    assert points("temperature", -1e300) == 3


NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_latest_set_takes_each_metrics_latest_reading_in_the_window():
    readings = [
        ("heart_rate", 120, NOW - 30 * timedelta(minutes=1)),
        ("heart_rate", 80, NOW - 10 * timedelta(minutes=1)),  # latest, listed second
        ("heart_rate", 60, NOW - 50 * timedelta(minutes=1)),
        ("spo2", 95, NOW - HOUR),  # on the window's start: in
        ("respiratory_rate", 30, NOW - HOUR - timedelta(seconds=1)),  # just before: out
        ("systolic_bp", 100, NOW),  # on `now`: in
        ("systolic_bp", 230, NOW + timedelta(seconds=1)),  # after `now`: out
        ("body_temperature", 38.3, NOW - 5 * timedelta(minutes=1)),
        ("diastolic_bp", 120, NOW),
        ("fall", None, NOW),
    ]
    vitals = latest_set(readings, NOW, HOUR)
    assert vitals == {
        "heart_rate": 80,
        "spo2": 95,
        "systolic_bp": 100,
        "temperature": 38.3,
        "spo2_scale": 1,
        "consciousness": "A",
        "on_oxygen": None,
    }
    result = score(vitals)
    assert result.scores == {
        "spo2": 1,
        "systolic_bp": 2,
        "heart_rate": 0,
        "consciousness": 0,
        "temperature": 1,
    }
    assert result.missing == ("respiratory_rate", "on_oxygen")


def test_latest_set_for_a_hypercapnic_resident_on_oxygen():
    readings = [("spo2", 97, NOW - timedelta(minutes=2))]
    vitals = latest_set(readings, NOW, HOUR, spo2_scale=2, on_oxygen=True, consciousness="C")
    assert score(vitals).scores == {"spo2": 3, "on_oxygen": 2, "consciousness": 3}
    assert score(latest_set(readings, NOW, HOUR)).scores == {"spo2": 0, "consciousness": 0}


def test_latest_set_with_no_consciousness_assessment_given_leaves_it_missing():
    vitals = latest_set([], NOW, HOUR, consciousness=None)
    assert "consciousness" in score(vitals).missing
