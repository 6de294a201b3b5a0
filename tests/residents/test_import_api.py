"""The import API: upload a register as CSV (the preview comes back), then confirm it."""

import io

import pytest

from tests.factories import national_id_for
from tests.residents.test_import import BORN, csv_file, person, resident_count


@pytest.fixture
def team(make_team):
    return make_team()


@pytest.fixture
def doctor(team):
    return team.lead


@pytest.fixture
def home(team):
    return team.neighbourhoods[0]


def api_upload(client, headers, data: bytes, filename="register.csv"):
    return client.post(
        "/api/v1/residents/imports",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
        headers=headers,
    )


def test_api_upload_then_confirm(client, api_token, doctor, home):
    headers = api_token(doctor)
    rows = [person(home, name="甲"), person(home, name="乙")]
    before = resident_count()

    response = api_upload(client, headers, csv_file(rows))

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["row_count"], body["error_count"], body["row_errors"]) == (2, 0, [])
    assert body["status"] == "previewed"
    assert resident_count() == before

    confirmed = client.post(f"/api/v1/residents/imports/{body['id']}/confirm", headers=headers)
    assert confirmed.status_code == 201, confirmed.get_json()
    assert confirmed.get_json()["imported"] == 2
    assert resident_count() == before + 2
    again = client.post(f"/api/v1/residents/imports/{body['id']}/confirm", headers=headers)
    assert again.status_code == 409
    assert again.get_json()["message"] == "this file is imported already"


def test_api_lists_bad_rows_and_refuses_to_confirm(client, api_token, doctor, home, make_team):
    headers = api_token(doctor)
    twice = national_id_for(BORN)
    rows = [person(home, twice), person(home, twice), person(home, birth_date="someday")]

    body = api_upload(client, headers, csv_file(rows)).get_json()

    assert body["error_count"] == 3
    duplicate = "the same national ID is also on row 3"
    not_a_date = "not a date; write it as YYYY-MM-DD, e.g. 1950-05-17"
    assert {"row": 2, "field": "national_id", "reason": duplicate} in body["row_errors"]
    assert {"row": 4, "field": "birth_date", "reason": not_a_date} in body["row_errors"]
    before = resident_count()
    refused = client.post(f"/api/v1/residents/imports/{body['id']}/confirm", headers=headers)
    assert refused.status_code == 409
    assert refused.get_json()["error_count"] == 3
    assert {r["row"] for r in refused.get_json()["row_errors"]} == {2, 3, 4}
    assert resident_count() == before
    other = api_token(make_team().lead)
    assert (
        client.post(f"/api/v1/residents/imports/{body['id']}/confirm", headers=other).status_code
        == 404
    )


def test_api_refuses_a_gbk_file_and_a_missing_file(client, api_token, doctor, home):
    headers = api_token(doctor)
    gbk = api_upload(client, headers, csv_file([person(home)], encoding="gbk"))
    assert gbk.status_code == 422
    assert "UTF-8" in gbk.get_json()["errors"]["json"]["file"][0]
    missing = client.post("/api/v1/residents/imports", data={}, headers=headers)
    assert missing.status_code == 422
