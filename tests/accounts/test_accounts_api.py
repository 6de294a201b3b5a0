import pytest

from app.accounts.models import OrganisationKind, Role
from app.audit.models import Event
from app.extensions import db


@pytest.fixture
def admin_headers(make_user, api_token):
    return api_token(make_user(Role.ADMIN))


def test_admin_builds_a_hospital_with_a_department(client, admin_headers):
    hospital = client.post(
        "/api/v1/organisations",
        json={"code": "SH7H", "name": "上海市第七人民医院", "kind": "district_hospital"},
        headers=admin_headers,
    )
    assert hospital.status_code == 201
    department = client.post(
        "/api/v1/organisations",
        json={
            "code": "SH7H-CARD",
            "name": "心内科",
            "kind": "department",
            "parent_id": hospital.get_json()["id"],
        },
        headers=admin_headers,
    )
    assert department.status_code == 201
    listed = client.get("/api/v1/organisations?kind=department", headers=admin_headers).get_json()
    assert [o["code"] for o in listed] == ["SH7H-CARD"]


def test_department_needs_a_hospital_parent(client, admin_headers, make_neighbourhood):
    response = client.post(
        "/api/v1/organisations",
        json={
            "code": "D1",
            "name": "科",
            "kind": "department",
            "parent_id": make_neighbourhood().id,
        },
        headers=admin_headers,
    )
    assert response.status_code == 422
    assert "parent_id" in response.get_json()["errors"]["json"]


def test_duplicate_organisation_code_is_409(client, admin_headers, make_org):
    make_org(code="GH-CHC")
    response = client.post(
        "/api/v1/organisations",
        json={"code": "GH-CHC", "name": "x", "kind": "community_centre"},
        headers=admin_headers,
    )
    assert response.status_code == 409
    assert "code" in response.get_json()["errors"]["json"]


def test_non_admins_cannot_write_accounts(client, api_token, make_user):
    for role in (Role.DOCTOR, Role.NURSE, Role.SPECIALIST):
        headers = api_token(make_user(role))
        response = client.post(
            "/api/v1/organisations",
            json={"code": "X", "name": "x", "kind": "community_centre"},
            headers=headers,
        )
        assert response.status_code == 403
        assert client.get("/api/v1/users", headers=headers).status_code == 403
    for role in (Role.RESIDENT, Role.CAREGIVER):
        assert (
            client.get("/api/v1/organisations", headers=api_token(make_user(role))).status_code
            == 403
        )


def test_create_user_validates_and_never_returns_the_password(client, admin_headers, make_org):
    response = client.post(
        "/api/v1/users",
        json={
            "username": "a b",
            "password": "short",
            "display_name": "",
            "role": "boss",
            "phone": "123",
        },
        headers=admin_headers,
    )
    assert response.status_code == 422
    assert set(response.get_json()["errors"]["json"]) >= {
        "username",
        "display_name",
        "role",
        "phone",
    }
    ok = client.post(
        "/api/v1/users",
        json={
            "username": "nurse.qian",
            "password": "long-enough-1",
            "display_name": "钱护士",
            "role": "nurse",
        },
        headers=admin_headers,
    )
    assert ok.status_code == 201
    assert "password" not in ok.get_json()
    short = client.post(
        "/api/v1/users",
        json={"username": "nurse.sun", "password": "short", "display_name": "孙", "role": "nurse"},
        headers=admin_headers,
    )
    assert short.status_code == 422
    assert "password" in short.get_json()["errors"]["json"]


def test_specialist_must_belong_to_a_department(client, admin_headers, make_org):
    centre = make_org(OrganisationKind.COMMUNITY_CENTRE)
    body = {
        "username": "sp.x",
        "password": "long-enough-1",
        "display_name": "专科",
        "role": "specialist",
    }
    response = client.post(
        "/api/v1/users", json={**body, "organisation_id": centre.id}, headers=admin_headers
    )
    assert response.status_code == 422
    assert "organisation_id" in response.get_json()["errors"]["json"]


def test_disabling_a_user_is_recorded_and_ends_their_access(
    client, admin_headers, make_user, api_token
):
    nurse = make_user(Role.NURSE)
    nurse_headers = api_token(nurse)
    response = client.patch(
        f"/api/v1/users/{nurse.id}", json={"active": False}, headers=admin_headers
    )
    assert response.status_code == 200
    assert response.get_json()["active"] is False
    assert client.get("/api/v1/me", headers=nurse_headers).status_code == 401
    event = (
        db.session.query(Event)
        .filter_by(entity_type="user", entity_id=nurse.id, name="user.inactive")
        .one()
    )
    assert (event.from_state, event.to_state) == ("active", "inactive")


def test_team_lifecycle(client, admin_headers, make_org, make_user, make_neighbourhood):
    centre = make_org(OrganisationKind.COMMUNITY_CENTRE)
    lead, second, nurse = make_user(Role.DOCTOR), make_user(Role.DOCTOR), make_user(Role.NURSE)
    n1 = make_neighbourhood()
    team = client.post(
        "/api/v1/teams",
        json={
            "name": "王医生团队",
            "centre_id": centre.id,
            "lead_id": lead.id,
            "neighbourhood_ids": [n1.id],
        },
        headers=admin_headers,
    )
    assert team.status_code == 201, team.get_json()
    team_id = team.get_json()["id"]
    assert team.get_json()["neighbourhood_ids"] == [n1.id]
    added = client.post(
        f"/api/v1/teams/{team_id}/members",
        json={"user_id": nurse.id, "member_role": "nurse"},
        headers=admin_headers,
    )
    assert added.status_code == 201
    wrong = client.post(
        f"/api/v1/teams/{team_id}/members",
        json={"user_id": second.id, "member_role": "nurse"},
        headers=admin_headers,
    )
    assert wrong.status_code == 422  # a doctor cannot be the team's nurse
    removing_lead = client.delete(
        f"/api/v1/teams/{team_id}/members/{lead.id}", headers=admin_headers
    )
    assert removing_lead.status_code == 409
    changed = client.put(
        f"/api/v1/teams/{team_id}/lead", json={"user_id": second.id}, headers=admin_headers
    )
    assert changed.status_code == 200
    roles = {m["user_id"]: m["member_role"] for m in changed.get_json()["members"]}
    assert roles == {lead.id: "doctor", second.id: "lead", nurse.id: "nurse"}
    assert (
        client.delete(
            f"/api/v1/teams/{team_id}/members/{lead.id}", headers=admin_headers
        ).status_code
        == 204
    )


def test_team_needs_a_community_centre_and_neighbourhoods(
    client, admin_headers, make_org, make_user
):
    hospital = make_org(OrganisationKind.DISTRICT_HOSPITAL)
    response = client.post(
        "/api/v1/teams",
        json={"name": "x", "centre_id": hospital.id, "lead_id": make_user(Role.DOCTOR).id},
        headers=admin_headers,
    )
    assert response.status_code == 422
    assert "centre_id" in response.get_json()["errors"]["json"]


def test_one_lead_per_team_is_enforced_by_the_database(make_team, make_user):
    import sqlalchemy as sa

    from app.accounts.models import TeamMember

    team = make_team()
    doctor = make_user(Role.DOCTOR)
    row = {
        "team_id": team.id,
        "user_id": doctor.id,
        "member_role": "lead",
        "joined_at": team.created_at,
    }
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.execute(sa.insert(TeamMember.__table__).values(**row))


def test_the_last_active_admin_cannot_be_disabled_or_demoted(client, make_user, api_token):
    admin = make_user(Role.ADMIN)
    headers = api_token(admin)
    for change in ({"active": False}, {"role": "doctor"}):
        response = client.patch(f"/api/v1/users/{admin.id}", json=change, headers=headers)
        assert response.status_code == 409
    second = make_user(Role.ADMIN)
    assert (
        client.patch(
            f"/api/v1/users/{second.id}", json={"active": False}, headers=headers
        ).status_code
        == 200
    )


def test_members_of_a_disabled_team_lose_its_residents(
    client, make_team, make_resident, api_token, admin_headers
):
    team = make_team()
    resident = make_resident(neighbourhood=team.neighbourhoods[0])
    headers = api_token(team.lead)
    assert client.get(f"/api/v1/residents/{resident.id}", headers=headers).status_code == 200
    assert (
        client.patch(
            f"/api/v1/teams/{team.id}", json={"active": False}, headers=admin_headers
        ).status_code
        == 200
    )
    assert client.get(f"/api/v1/residents/{resident.id}", headers=headers).status_code == 404


def test_team_capacity_is_set_and_validated(client, admin_headers, make_team):
    team = make_team()
    ok = client.patch(f"/api/v1/teams/{team.id}", json={"capacity": 500}, headers=admin_headers)
    assert ok.status_code == 200
    assert ok.get_json()["capacity"] == 500
    bad = client.patch(f"/api/v1/teams/{team.id}", json={"capacity": 0}, headers=admin_headers)
    assert bad.status_code == 422
    assert "capacity" in bad.get_json()["errors"]["json"]
