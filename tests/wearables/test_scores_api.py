"""The NEWS2 calculator API: answers, field errors that name the field, authentication."""

import pytest

from app.accounts.models import Role
from tests.wearables.test_news2 import ALL_CASES, our_vitals

URL = "/api/v1/scores/news2"


@pytest.fixture
def headers(make_user, api_token):
    return api_token(make_user(Role.NURSE))


def post(client, headers, body):
    return client.post(URL, json=body, headers=headers)


def test_a_full_set_is_scored(client, headers):
    body = {
        "respiratory_rate": 9,
        "spo2": 86,
        "spo2_scale": 2,
        "on_oxygen": True,
        "systolic_bp": 105,
        "heart_rate": 100,
        "consciousness": "A",
        "temperature": 38.5,
    }
    response = post(client, headers, body)
    assert response.status_code == 200
    assert response.get_json() == {
        "total": 7,
        "band": "high",
        "scores": {
            "respiratory_rate": 1,
            "spo2": 1,
            "on_oxygen": 2,
            "systolic_bp": 1,
            "heart_rate": 1,
            "consciousness": 0,
            "temperature": 1,
        },
        "partial": False,
        "missing": [],
    }


def test_a_single_red_score_is_low_medium_and_partial(client, headers):
    answer = post(client, headers, {"heart_rate": 131, "temperature": None}).get_json()
    assert (answer["total"], answer["band"], answer["partial"]) == (3, "low-medium", True)
    assert answer["scores"] == {"heart_rate": 3}
    assert "temperature" in answer["missing"]


def test_scale_2_over_target_on_oxygen_is_medium(client, headers):
    body = {"spo2": 97, "spo2_scale": 2, "on_oxygen": True}
    answer = post(client, headers, body).get_json()
    assert answer["scores"] == {"spo2": 3, "on_oxygen": 2}
    assert (answer["total"], answer["band"]) == (5, "medium")
    on_air = post(client, headers, {"spo2": 97, "spo2_scale": 2, "on_oxygen": False})
    assert on_air.get_json()["total"] == 0


def test_an_empty_body_is_a_partial_zero(client, headers):
    answer = post(client, headers, {}).get_json()
    assert (answer["total"], answer["band"], answer["partial"]) == (0, "none", True)
    assert len(answer["missing"]) == 7


def test_temperature_between_chart_rows_rounds_to_one_decimal(client, headers):
    assert post(client, headers, {"temperature": 36.05}).get_json()["scores"] == {"temperature": 0}
    assert post(client, headers, {"temperature": 36.04}).get_json()["scores"] == {"temperature": 1}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("spo2", 101),
        ("spo2", -1),
        ("spo2_scale", 3),
        ("spo2_scale", 1.5),
        ("on_oxygen", "yes"),
        ("on_oxygen", 1),
        ("consciousness", "alert"),
        ("consciousness", "a"),
        ("temperature", 45.5),
        ("temperature", 24),
        ("heart_rate", 301),
        ("heart_rate", "fast"),
        ("respiratory_rate", 81),
        ("systolic_bp", 40),
        ("oxygen_saturation", 95),  # the reference's name, not ours: unknown
    ],
)
def test_invalid_fields_answer_422_naming_the_field(client, headers, field, value):
    response = post(client, headers, {"heart_rate": 80, field: value})
    assert response.status_code == 422
    assert list(response.get_json()["errors"]["json"]) == [field]


@pytest.mark.parametrize("case_id", ["error1", "error2", "error3", "refused2"])
def test_reference_request_fields_we_do_not_take_are_named(client, headers, case_id):
    """The reference's time and config (failures.json) and unknown_obs (refusedall.json)
    are unknown fields here: the calculator answers no due time and scores only NEWS2."""
    case = next(c for c in ALL_CASES if c["id"] == case_id)
    body = our_vitals(case["data"]) | {
        k: case["data"][k] for k in ("time", "config") if k in case["data"]
    }
    response = post(client, headers, body)
    assert response.status_code == 422
    expected = {"time", "config", "unknown_obs"} & set(case["data"])
    assert set(response.get_json()["errors"]["json"]) == expected


def test_without_a_token_401(client):
    response = client.post(URL, json={"heart_rate": 80})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_resident_may_use_it_too(client, make_resident, make_resident_user, api_token):
    resident = make_resident_user(make_resident())
    response = post(client, api_token(resident), {"consciousness": "P"})
    assert response.status_code == 200
    assert response.get_json()["band"] == "low-medium"


def test_the_openapi_document_describes_it(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/scores/news2"]["post"]
    assert "200" in operation["responses"]
    schema = spec["components"]["schemas"]["News2Input"]["properties"]
    assert set(schema) == {
        "respiratory_rate",
        "spo2",
        "spo2_scale",
        "on_oxygen",
        "systolic_bp",
        "heart_rate",
        "consciousness",
        "temperature",
    }
