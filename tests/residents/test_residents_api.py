from datetime import date, timedelta

import pytest

from app import crypto
from app.accounts.models import Role
from app.audit.models import AuditEntry, Event
from app.extensions import db
from app.residents.models import Resident
from tests.factories import national_id_for


@pytest.fixture
def team(make_team):
    return make_team()


@pytest.fixture
def doctor(team):
    return team.lead


def payload(neighbourhood_id, **overrides):
    born = overrides.pop("birth_date", date(1949, 12, 31))
    body = {
        "name": "张桂英",
        "sex": "female",
        "birth_date": born.isoformat(),
        "national_id": national_id_for(born),
        "phone": "13700001111",
        "address": "高行镇东靖路1号",
        "neighbourhood_id": neighbourhood_id,
        "living_alone": True,
        "mobility": "needs_assistance",
        "conditions": ["hypertension"],
    }
    body.update(overrides)
    return body


def test_doctor_registers_a_resident_and_the_id_is_encrypted(client, api_token, doctor, team):
    body = payload(team.neighbourhoods[0].id)
    response = client.post("/api/v1/residents", json=body, headers=api_token(doctor))
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert (
        data["national_id_masked"] == body["national_id"][:4] + "*" * 10 + body["national_id"][-4:]
    )
    assert "national_id" not in data
    assert data["conditions"] == ["hypertension"]
    resident = db.session.get(Resident, data["id"])
    assert body["national_id"] not in resident.national_id_ciphertext
    assert crypto.decrypt(resident.national_id_ciphertext) == body["national_id"]
    assert (
        db.session.query(Event).filter_by(name="resident.registered", entity_id=resident.id).count()
    )


def test_bad_check_digit_names_the_field_and_writes_nothing(client, api_token, doctor, team):
    body = payload(team.neighbourhoods[0].id)
    body["national_id"] = body["national_id"][:17] + (
        "0" if body["national_id"][17] != "0" else "1"
    )
    response = client.post("/api/v1/residents", json=body, headers=api_token(doctor))
    assert response.status_code == 422
    assert "check digit" in response.get_json()["errors"]["json"]["national_id"][0]
    assert db.session.query(Resident).count() == 0


def test_birth_date_must_match_the_id(client, api_token, doctor, team):
    body = payload(team.neighbourhoods[0].id)
    body["birth_date"] = "1950-01-01"
    response = client.post("/api/v1/residents", json=body, headers=api_token(doctor))
    assert response.status_code == 422
    assert "birth_date" in response.get_json()["errors"]["json"]


def test_duplicate_national_id_is_409(client, api_token, doctor, team):
    body = payload(team.neighbourhoods[0].id)
    headers = api_token(doctor)
    assert client.post("/api/v1/residents", json=body, headers=headers).status_code == 201
    again = client.post("/api/v1/residents", json={**body, "phone": None}, headers=headers)
    assert again.status_code == 409
    assert "national_id" in again.get_json()["errors"]["json"]


def test_neighbourhood_outside_the_team_is_refused(client, api_token, doctor, make_neighbourhood):
    other = make_neighbourhood()
    response = client.post("/api/v1/residents", json=payload(other.id), headers=api_token(doctor))
    assert response.status_code == 422
    assert "neighbourhood_id" in response.get_json()["errors"]["json"]


def test_unknown_fields_and_bad_enums_are_named(client, api_token, doctor, team):
    body = payload(team.neighbourhoods[0].id, sex="x", conditions=["flu"], colour="red")
    response = client.post("/api/v1/residents", json=body, headers=api_token(doctor))
    assert response.status_code == 422
    errors = response.get_json()["errors"]["json"]
    assert set(errors) >= {"sex", "conditions", "colour"}


def test_future_birth_date_is_refused(client, api_token, doctor, team):
    future = date.today() + timedelta(days=400)
    body = payload(team.neighbourhoods[0].id, birth_date=future)
    response = client.post("/api/v1/residents", json=body, headers=api_token(doctor))
    assert response.status_code == 422


def test_listing_is_need_to_know_and_audited(client, api_token, team, make_team, make_resident):
    mine = make_resident(neighbourhood=team.neighbourhoods[0], name="本队居民")
    other_team = make_team()
    make_resident(neighbourhood=other_team.neighbourhoods[0], name="别队居民")
    nurse = next(m.user for m in team.members if m.user.role == Role.NURSE)
    response = client.get("/api/v1/residents", headers=api_token(nurse))
    assert response.status_code == 200
    assert [r["name"] for r in response.get_json()] == ["本队居民"]
    entry = db.session.query(AuditEntry).filter_by(resident_id=mine.id, action="list").one()
    assert entry.actor_id == nurse.id
    assert entry.actor_role == "nurse"
    assert entry.remote_addr == "127.0.0.1"


def test_filters(client, api_token, doctor, team, make_resident):
    n = team.neighbourhoods[0]
    make_resident(
        neighbourhood=n, name="老人甲", birth_date=date(1940, 1, 1), conditions=["hypertension"]
    )
    make_resident(neighbourhood=n, name="中年乙", birth_date=date(1980, 1, 1))
    headers = api_token(doctor)

    def names(q):
        return [r["name"] for r in client.get(f"/api/v1/residents?{q}", headers=headers).get_json()]

    assert names("min_age=65") == ["老人甲"]
    assert names("condition=hypertension") == ["老人甲"]
    assert names("q=乙") == ["中年乙"]


def test_other_team_gets_404_not_403(client, api_token, team, make_team, make_resident):
    resident = make_resident(neighbourhood=team.neighbourhoods[0])
    outsider = make_team().lead
    headers = api_token(outsider)
    assert client.get(f"/api/v1/residents/{resident.id}", headers=headers).status_code == 404
    assert client.get("/api/v1/residents/999999", headers=headers).status_code == 404
    response = client.patch(f"/api/v1/residents/{resident.id}", json={"name": "x"}, headers=headers)
    assert response.status_code == 404


def test_admin_reads_only_with_a_reason_which_is_logged(
    client, api_token, make_user, make_resident
):
    resident = make_resident()
    admin = make_user(Role.ADMIN)
    headers = api_token(admin)
    refused = client.get(f"/api/v1/residents/{resident.id}", headers=headers)
    assert refused.status_code == 403
    assert "reason" in refused.get_json()["errors"]["json"]
    assert client.get("/api/v1/residents", headers=headers).status_code == 403
    ok = client.get(
        f"/api/v1/residents/{resident.id}",
        headers={**headers, "X-Access-Reason": "工单 #42 核对地址"},
    )
    assert ok.status_code == 200
    entry = db.session.query(AuditEntry).filter_by(resident_id=resident.id, actor_id=admin.id).one()
    assert entry.reason == "工单 #42 核对地址"


def test_resident_sees_only_themself_and_is_not_audited(
    client, api_token, make_resident, make_resident_user
):
    me = make_resident()
    other = make_resident()
    user = make_resident_user(me)
    headers = api_token(user)
    assert client.get(f"/api/v1/residents/{me.id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/residents/{other.id}", headers=headers).status_code == 404
    assert [r["id"] for r in client.get("/api/v1/residents", headers=headers).get_json()] == [me.id]
    assert db.session.query(AuditEntry).filter_by(actor_id=user.id).count() == 0


def test_update_conditions_and_audit(client, api_token, doctor, team, make_resident):
    resident = make_resident(neighbourhood=team.neighbourhoods[0], conditions=["hypertension"])
    response = client.patch(
        f"/api/v1/residents/{resident.id}",
        json={"conditions": ["type2_diabetes", "copd"], "living_alone": True},
        headers=api_token(doctor),
    )
    assert response.status_code == 200
    assert sorted(response.get_json()["conditions"]) == ["copd", "type2_diabetes"]
    assert (
        db.session.query(AuditEntry).filter_by(resident_id=resident.id, action="update").count()
        == 1
    )


def test_residents_and_caregivers_cannot_edit(
    client, api_token, make_resident, make_resident_user, make_link
):
    resident = make_resident()
    link = make_link(resident)
    for user in (make_resident_user(resident), link.caregiver):
        response = client.patch(
            f"/api/v1/residents/{resident.id}", json={"name": "x"}, headers=api_token(user)
        )
        assert response.status_code == 403
