from datetime import timedelta

import pytest

from app.accounts.models import Role
from app.audit.models import Event
from app.extensions import db
from app.residents.models import LinkStatus
from app.residents.services import expire_caregiver_links
from app.timeutil import local_today


@pytest.fixture
def setting(make_team, make_resident, make_resident_user, make_user):
    team = make_team()
    resident = make_resident(neighbourhood=team.neighbourhoods[0])
    return {
        "team": team,
        "resident": resident,
        "resident_user": make_resident_user(resident),
        "caregiver": make_user(Role.CAREGIVER),
    }


def grant(client, headers, resident, caregiver, **overrides):
    body = {
        "caregiver_id": caregiver.id,
        "relationship": "family_member",
        "scope": "care",
        "ends_on": (local_today() + timedelta(days=30)).isoformat(),
    }
    body.update(overrides)
    return client.post(f"/api/v1/residents/{resident.id}/caregivers", json=body, headers=headers)


def test_resident_grants_and_the_caregiver_then_sees_them(client, api_token, setting):
    resident, caregiver = setting["resident"], setting["caregiver"]
    caregiver_headers = api_token(caregiver)
    assert (
        client.get(f"/api/v1/residents/{resident.id}", headers=caregiver_headers).status_code == 404
    )
    response = grant(client, api_token(setting["resident_user"]), resident, caregiver)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "active"
    assert (
        client.get(f"/api/v1/residents/{resident.id}", headers=caregiver_headers).status_code == 200
    )


def test_revoke_cuts_access_and_is_recorded(client, api_token, setting):
    resident, caregiver = setting["resident"], setting["caregiver"]
    doctor_headers = api_token(setting["team"].lead)
    link_id = grant(client, doctor_headers, resident, caregiver).get_json()["id"]
    response = client.post(
        f"/api/v1/residents/{resident.id}/caregivers/{link_id}/revoke",
        json={"reason": "家属要求"},
        headers=doctor_headers,
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "revoked"
    assert (
        client.get(f"/api/v1/residents/{resident.id}", headers=api_token(caregiver)).status_code
        == 404
    )
    event = (
        db.session.query(Event).filter_by(name="caregiver_link.revoked", entity_id=link_id).one()
    )
    assert (event.from_state, event.to_state, event.reason) == ("active", "revoked", "家属要求")
    again = client.post(
        f"/api/v1/residents/{resident.id}/caregivers/{link_id}/revoke",
        json={},
        headers=doctor_headers,
    )
    assert again.status_code == 409
    assert again.get_json()["current"] == "revoked"


def test_nurse_and_caregiver_cannot_grant(client, api_token, setting, make_user):
    resident = setting["resident"]
    nurse = next(m.user for m in setting["team"].members if m.user.role == Role.NURSE)
    assert grant(client, api_token(nurse), resident, setting["caregiver"]).status_code == 403
    other = make_user(Role.CAREGIVER)
    assert grant(client, api_token(other), resident, setting["caregiver"]).status_code == 403


def test_end_date_in_the_past_and_non_caregivers_are_refused(client, api_token, setting, make_user):
    headers = api_token(setting["resident_user"])
    resident = setting["resident"]
    past = (local_today() - timedelta(days=1)).isoformat()
    response = grant(client, headers, resident, setting["caregiver"], ends_on=past)
    assert response.status_code == 422
    assert "ends_on" in response.get_json()["errors"]["json"]
    response = grant(client, headers, resident, make_user(Role.DOCTOR))
    assert response.status_code == 422
    assert "caregiver_id" in response.get_json()["errors"]["json"]


def test_a_second_active_link_for_the_same_pair_is_409(client, api_token, setting):
    headers = api_token(setting["resident_user"])
    assert grant(client, headers, setting["resident"], setting["caregiver"]).status_code == 201
    assert grant(client, headers, setting["resident"], setting["caregiver"]).status_code == 409


def test_scope_limits_what_the_policy_grants(setting, make_link):
    from app.policy import can_see_resident
    from app.residents.models import CaregiverScope

    link = make_link(setting["resident"], caregiver=setting["caregiver"], scope=CaregiverScope.VIEW)
    caregiver, rid = setting["caregiver"], setting["resident"].id
    assert can_see_resident(caregiver, rid, CaregiverScope.VIEW)
    assert not can_see_resident(caregiver, rid, CaregiverScope.CARE)
    link.scope = CaregiverScope.PROXY
    db.session.flush()
    assert can_see_resident(caregiver, rid, CaregiverScope.CARE)


def test_access_ends_on_the_end_date_and_the_job_records_it(client, api_token, setting, make_link):
    link = make_link(setting["resident"], caregiver=setting["caregiver"], ends_on=local_today())
    headers = api_token(setting["caregiver"])
    assert (
        client.get(f"/api/v1/residents/{setting['resident'].id}", headers=headers).status_code
        == 200
    )
    link.ends_on = local_today() - timedelta(days=1)
    db.session.flush()
    # access stops by date before the nightly job has run
    assert (
        client.get(f"/api/v1/residents/{setting['resident'].id}", headers=headers).status_code
        == 404
    )
    assert expire_caregiver_links() == 1
    assert link.status == LinkStatus.EXPIRED
    assert (
        db.session.query(Event).filter_by(name="caregiver_link.expired", entity_id=link.id).count()
        == 1
    )
    assert expire_caregiver_links() == 0
