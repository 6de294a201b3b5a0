"""FHIR and Open mHealth bodies through the real HTTP endpoint, into the store."""

import json
from datetime import timedelta
from pathlib import Path

import pytest

from app.extensions import db
from app.timeutil import utcnow
from wearables.models import Reading, ReadingSource

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"
FHIR_EXAMPLES = REFERENCE / "fhir-r4" / "examples"
SUPPORTED = [
    "heart-rate",
    "respiratory-rate",
    "body-temperature",
    "bloodpressure",
    "satO2",
    "f001-glucose",
]


@pytest.fixture
def auth(client, make_team, make_resident, api_token):
    team = make_team()
    resident = make_resident(neighbourhood=team.neighbourhoods[0])
    body = client.post(
        "/api/v1/devices",
        json={"serial": "F-1", "kind": "gateway", "resident_id": resident.id},
        headers=api_token(team.lead),
    ).get_json()
    return {"Authorization": f"Bearer {body['token']}"}


def fhir_post(client, auth, body):
    return client.post(
        "/api/v1/ingest",
        data=json.dumps(body),
        headers={**auth, "Content-Type": "application/fhir+json"},
    )


@pytest.mark.parametrize("name", SUPPORTED)
def test_official_fhir_examples_are_accepted(client, auth, app, monkeypatch, name):
    # The examples date from 1999-2013: widen the window so their age does not count.
    monkeypatch.setitem(app.config, "INGEST_MAX_AGE_DAYS", 365 * 40)
    body = json.loads((FHIR_EXAMPLES / f"observation-example-{name}.json").read_text())
    response = fhir_post(client, auth, body)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["rejected"] == []
    assert response.get_json()["accepted"] >= 1
    assert {r.source for r in db.session.query(Reading)} == {ReadingSource.FHIR}


def test_old_fhir_examples_fall_outside_the_default_window(client, auth):
    body = json.loads((FHIR_EXAMPLES / "observation-example-heart-rate.json").read_text())
    answer = fhir_post(client, auth, body).get_json()
    assert answer["accepted"] == 0
    assert answer["rejected"] == [
        {"index": 0, "reason": "measured_at is older than the accepted window"}
    ]


def test_a_fhir_bundle_with_a_current_reading(client, auth):
    now = (utcnow() - timedelta(minutes=3)).isoformat()
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
        "subject": {"reference": "Patient/1"},
        "effectiveDateTime": now,
        "valueQuantity": {
            "value": 100.4,
            "unit": "F",
            "system": "http://unitsofmeasure.org",
            "code": "[degF]",
        },
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": observation}, {"resource": {"resourceType": "Patient"}}],
    }
    answer = fhir_post(client, auth, bundle).get_json()
    assert answer["accepted"] == 1
    assert [r["index"] for r in answer["rejected"]] == [1]
    assert db.session.query(Reading).one().value == pytest.approx(38.0)


def test_open_mhealth_data_points(client, auth):
    now = (utcnow() - timedelta(minutes=1)).isoformat()
    points = [
        {
            "header": {"schema_id": {"namespace": "omh", "name": "heart-rate", "version": "2.0"}},
            "body": {
                "heart_rate": {"value": 61, "unit": "beats/min"},
                "effective_time_frame": {"date_time": now},
            },
        },
        {
            "header": {
                "schema_id": {"namespace": "omh", "name": "blood-pressure", "version": "4.0"}
            },
            "body": {
                "systolic_blood_pressure": {"value": 181, "unit": "mmHg"},
                "diastolic_blood_pressure": {"value": 96, "unit": "mmHg"},
                "effective_time_frame": {"date_time": now},
            },
        },
        {
            "header": {"schema_id": {"namespace": "omh", "name": "heart-rate", "version": "2.0"}},
            "body": {"heart_rate": "fast"},
        },
    ]
    response = client.post("/api/v1/ingest", json=points, headers=auth)
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["accepted"] == 3
    assert [r["index"] for r in answer["rejected"]] == [2]
    assert {r.source for r in db.session.query(Reading)} == {ReadingSource.OMH}
