"""The administrator's pages for organisations, user accounts and family-doctor teams."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import Organisation, OrganisationKind, Role, Team, TeamMemberRole, User
from app.extensions import db
from app.timeutil import utcnow
from tests.conftest import post_form, sign_in


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN)


@pytest.fixture
def as_admin(signed_in, admin, client):
    signed_in(admin)
    client.set_cookie("lang", "en")
    return client


def html(response) -> str:
    return response.get_data(as_text=True)


def field_error(page: str, field: str) -> str:
    """The error shown next to a form field, or "" when there is none."""
    match = re.search(rf'id="{field}-error">(.*?)</p>', page, re.S)
    return re.sub(r"<[^>]+>", "", match.group(1)).strip() if match else ""


def org_by_code(code: str) -> Organisation | None:
    return db.session.scalar(sa.select(Organisation).where(Organisation.code == code))


def user_by_name(username: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == username))


# --- organisations -------------------------------------------------------------------------


def test_admin_creates_an_organisation_and_sees_it_listed(as_admin):
    response = post_form(
        as_admin,
        "/admin/organisations/new",
        {
            "code": "GH-CHC",
            "name": "Gaohang Community Health Service Centre",
            "kind": "community_centre",
            "parent_id": "",
            "address": "1 Gaohang Road",
            "phone": "021-5861 0000",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/organisations")
    org = org_by_code("GH-CHC")
    assert org.kind == OrganisationKind.COMMUNITY_CENTRE
    assert org.parent_id is None

    page = html(as_admin.get("/admin/organisations"))
    assert "Gaohang Community Health Service Centre" in page
    assert "Organisation Gaohang Community Health Service Centre created." in page  # the flash


def test_a_department_without_a_hospital_parent_is_refused_next_to_the_parent_field(as_admin):
    response = post_form(
        as_admin,
        "/admin/organisations/new",
        {"code": "CARD", "name": "Cardiology", "kind": "department", "parent_id": ""},
    )
    assert response.status_code == 422
    page = html(response)
    assert field_error(page, "parent_id") == (
        "Error: A department belongs to a hospital or community health centre"
    )
    assert 'value="Cardiology"' in page  # the form keeps what was typed
    assert org_by_code("CARD") is None


def test_a_hospital_under_another_organisation_is_refused(as_admin, make_org):
    centre = make_org(OrganisationKind.COMMUNITY_CENTRE)
    response = post_form(
        as_admin,
        "/admin/organisations/new",
        {"code": "H1", "name": "Hospital", "kind": "district_hospital", "parent_id": centre.id},
    )
    assert response.status_code == 422
    assert "Only departments and neighbourhoods have a parent" in field_error(
        html(response), "parent_id"
    )
    assert org_by_code("H1") is None


def test_departments_are_listed_under_their_hospital(as_admin, make_org):
    hospital = make_org(OrganisationKind.DISTRICT_HOSPITAL, name="Pudong District Hospital")
    make_org(OrganisationKind.DEPARTMENT, parent=hospital, name="Geriatrics")
    make_org(OrganisationKind.MUNICIPAL_HOSPITAL, name="Renji Hospital")

    page = html(as_admin.get("/admin/organisations"))
    district = page.index("Pudong District Hospital")
    assert district < page.index("Geriatrics") < page.index("Renji Hospital")

    only_departments = html(as_admin.get("/admin/organisations?kind=department"))
    assert "Geriatrics" in only_departments
    assert "Renji Hospital" not in only_departments


def test_editing_an_organisation_can_disable_it(as_admin, make_org):
    centre = make_org(OrganisationKind.COMMUNITY_CENTRE, code="C1", name="Old name")
    url = f"/admin/organisations/{centre.id}/edit"
    assert 'value="Old name"' in html(as_admin.get(url))
    response = post_form(as_admin, url, {"code": "C1", "name": "New name", "parent_id": ""})
    assert response.status_code == 303
    db.session.expire_all()
    assert centre.name == "New name"
    assert centre.active is False  # the checkbox was not sent


def test_a_duplicate_organisation_code_is_refused(as_admin, make_org):
    make_org(code="TAKEN")
    response = post_form(
        as_admin,
        "/admin/organisations/new",
        {"code": "TAKEN", "name": "Another", "kind": "district_hospital", "parent_id": ""},
    )
    assert response.status_code == 422
    assert "exists already" in field_error(html(response), "code")


# --- users ---------------------------------------------------------------------------------


def test_admin_creates_a_user_who_can_then_sign_in(as_admin, app, make_org):
    centre = make_org(OrganisationKind.COMMUNITY_CENTRE, name="Gaohang centre")
    response = post_form(
        as_admin,
        "/admin/users/new",
        {
            "username": "dr.wang",
            "display_name": "Dr Wang Li",
            "phone": "13800000001",
            "role": "doctor",
            "organisation_id": centre.id,
            "password": "steady-river-42",
        },
    )
    assert response.status_code == 303
    user = user_by_name("dr.wang")
    assert (user.role, user.organisation_id, user.active) == (Role.DOCTOR, centre.id, True)

    listed = html(as_admin.get("/admin/users?role=doctor&q=Wang"))
    assert "Dr Wang Li" in listed
    assert "Gaohang centre" in listed

    sign_in(app.test_client(), user, "steady-river-42")


def test_a_short_password_and_a_taken_username_are_refused_next_to_their_fields(
    as_admin, make_user
):
    make_user(Role.NURSE, username="nurse.chen")
    data = {"display_name": "Chen", "role": "nurse", "organisation_id": ""}
    response = post_form(
        as_admin, "/admin/users/new", {**data, "username": "new.one", "password": "short"}
    )
    assert response.status_code == 422
    assert field_error(html(response), "password") == "Error: Must be at least 8 characters"

    response = post_form(
        as_admin,
        "/admin/users/new",
        {**data, "username": "nurse.chen", "password": "long-enough-1"},
    )
    assert response.status_code == 422
    assert "another account uses this username" in field_error(html(response), "username").lower()
    assert user_by_name("new.one") is None


def test_a_disabled_user_can_no_longer_sign_in(as_admin, app, make_user):
    nurse = make_user(Role.NURSE, display_name="Nurse Zhou")
    response = post_form(
        as_admin,
        f"/admin/users/{nurse.id}/edit",
        {"display_name": "Nurse Zhou", "phone": "", "role": "nurse", "organisation_id": ""},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert nurse.active is False
    assert "Disabled" in html(as_admin.get("/admin/users?q=Zhou"))

    other = app.test_client()
    refused = post_form(
        other, "/login", {"identifier": nurse.username, "password": "correct-horse-9"}
    )
    assert refused.status_code == 401


def test_an_email_for_alerts_is_set_and_a_malformed_one_refused(as_admin, make_user):
    nurse = make_user(Role.NURSE, display_name="Nurse Zhou")
    form = {"display_name": "Nurse Zhou", "role": "nurse", "organisation_id": "", "active": "y"}
    url = f"/admin/users/{nurse.id}/edit"
    refused = post_form(as_admin, url, {**form, "email": "zhou at centre"})
    assert refused.status_code == 422
    assert "name@example.com" in field_error(html(refused), "email")
    assert post_form(as_admin, url, {**form, "email": " zhou@gaohang.example "}).status_code == 303
    db.session.expire_all()
    assert nurse.email == "zhou@gaohang.example"


def test_a_locked_account_shows_as_locked_and_enabling_clears_the_lock(as_admin, app, make_user):
    doctor = make_user(Role.DOCTOR, locked_until=utcnow() + timedelta(minutes=10))
    assert "Locked until" in html(as_admin.get(f"/admin/users?q={doctor.username}"))

    page = f"/admin/users/{doctor.id}/edit"
    response = post_form(as_admin, f"/admin/users/{doctor.id}/unlock", {}, page=page)
    assert response.status_code == 303
    db.session.expire_all()
    assert doctor.locked_until is None
    assert doctor.active
    assert "Locked until" not in html(as_admin.get(page))
    sign_in(app.test_client(), doctor)


def test_a_new_password_is_optional_when_editing(as_admin, app, make_user):
    doctor = make_user(Role.DOCTOR)
    data = {"display_name": "Dr Xu", "role": "doctor", "organisation_id": "", "active": "y"}
    url = f"/admin/users/{doctor.id}/edit"
    assert post_form(as_admin, url, data).status_code == 303
    sign_in(app.test_client(), doctor)  # the old password still works
    assert post_form(as_admin, url, {**data, "password": "brand-new-pass"}).status_code == 303
    sign_in(app.test_client(), doctor, "brand-new-pass")


# --- teams ---------------------------------------------------------------------------------


@pytest.fixture
def centre(make_org):
    return make_org(OrganisationKind.COMMUNITY_CENTRE, name="Gaohang centre")


def create_team(client, centre, lead, neighbourhoods) -> Team:
    response = post_form(
        client,
        "/admin/teams/new",
        {
            "name": "Team East",
            "centre_id": centre.id,
            "lead_id": lead.id,
            "neighbourhood_ids": [n.id for n in neighbourhoods],
        },
    )
    assert response.status_code == 303, html(response)
    team = db.session.scalar(sa.select(Team).where(Team.name == "Team East"))
    assert response.headers["Location"].endswith(f"/admin/teams/{team.id}")
    return team


def test_a_team_with_lead_and_neighbourhoods_and_a_nurse_who_then_sees_it(
    as_admin, app, centre, make_user, make_neighbourhood
):
    lead = make_user(Role.DOCTOR, display_name="Dr Lead", organisation_id=centre.id)
    served = [make_neighbourhood(name="Dongjing"), make_neighbourhood(name="Xinjing")]
    make_neighbourhood(name="Unserved")
    team = create_team(as_admin, centre, lead, served)
    assert [n.name for n in team.neighbourhoods] == ["Dongjing", "Xinjing"]
    assert team.lead == lead

    nurse = make_user(Role.NURSE, display_name="Nurse Fang", organisation_id=centre.id)
    url = f"/admin/teams/{team.id}"
    response = post_form(
        as_admin, f"{url}/members", {"user_id": nurse.id, "member_role": "nurse"}, page=url
    )
    assert response.status_code == 303

    listing = html(as_admin.get("/admin/teams"))
    assert "Team East" in listing
    assert "Dr Lead" in listing
    assert "Dongjing" in listing
    assert "Nurse Fang" in html(as_admin.get(url))

    nurse_client = app.test_client()
    sign_in(nurse_client, nurse)
    assert "Team East" in html(nurse_client.get("/home"))


def test_a_nurse_cannot_be_added_as_a_doctor(as_admin, make_team, make_user):
    team = make_team(nurses=0)
    nurse = make_user(Role.NURSE)
    url = f"/admin/teams/{team.id}"
    response = post_form(
        as_admin, f"{url}/members", {"user_id": nurse.id, "member_role": "doctor"}, page=url
    )
    assert response.status_code == 422
    assert "role doctor" in field_error(html(response), "user_id")
    db.session.expire_all()
    assert len(team.members) == 1


def test_removing_the_lead_is_refused_and_removing_a_nurse_works(as_admin, make_team):
    team = make_team(nurses=1)
    lead, nurse = team.lead, team.members[1].user
    url = f"/admin/teams/{team.id}"

    response = post_form(as_admin, f"{url}/members/{lead.id}/remove", {}, page=url)
    assert response.status_code == 422
    assert "make another doctor the lead first" in html(response)

    response = post_form(as_admin, f"{url}/members/{nurse.id}/remove", {}, page=url)
    assert response.status_code == 303
    db.session.expire_all()
    assert [m.user for m in team.members] == [lead]


def test_changing_the_lead_keeps_the_old_lead_as_a_doctor(as_admin, make_team, make_user):
    team = make_team(nurses=0)
    old = team.lead
    new = make_user(Role.DOCTOR, display_name="Dr New")
    url = f"/admin/teams/{team.id}"
    response = post_form(as_admin, f"{url}/lead", {"lead_id": new.id}, page=url)
    assert response.status_code == 303
    db.session.expire_all()
    assert team.lead == new
    roles = {m.user_id: m.member_role for m in team.members}
    assert roles == {old.id: TeamMemberRole.DOCTOR, new.id: TeamMemberRole.LEAD}
    assert "Dr New is now the team lead." in html(as_admin.get(url))


def test_renaming_a_team_and_changing_its_neighbourhoods(as_admin, make_team, make_neighbourhood):
    team = make_team()
    other = make_neighbourhood(name="Gaodong")
    url = f"/admin/teams/{team.id}"
    response = post_form(
        as_admin, url, {"name": "Team West", "active": "y", "neighbourhood_ids": [other.id]}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert (team.name, [n.name for n in team.neighbourhoods]) == ("Team West", ["Gaodong"])


def test_a_team_needs_a_centre_and_a_doctor_as_lead(as_admin, centre, make_user):
    nurse = make_user(Role.NURSE)
    response = post_form(
        as_admin,
        "/admin/teams/new",
        {"name": "Team X", "centre_id": "", "lead_id": nurse.id},
    )
    assert response.status_code == 422
    page = html(response)
    assert field_error(page, "centre_id")
    assert field_error(page, "lead_id")  # a nurse is not offered as lead
    assert db.session.scalar(sa.select(Team).where(Team.name == "Team X")) is None


# --- access and language -------------------------------------------------------------------

ADMIN_GETS = [
    "/admin/organisations",
    "/admin/organisations/new",
    "/admin/organisations/{org}/edit",
    "/admin/users",
    "/admin/users/new",
    "/admin/users/{user}/edit",
    "/admin/teams",
    "/admin/teams/new",
    "/admin/teams/{team}",
]
ADMIN_POSTS = [
    "/admin/organisations/new",
    "/admin/organisations/{org}/edit",
    "/admin/users/new",
    "/admin/users/{user}/edit",
    "/admin/users/{user}/unlock",
    "/admin/teams/new",
    "/admin/teams/{team}",
    "/admin/teams/{team}/members",
    "/admin/teams/{team}/members/{user}/remove",
    "/admin/teams/{team}/lead",
]


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
def test_every_admin_page_is_refused_to_other_roles(
    role, client, signed_in, make_user, make_team, make_org
):
    team = make_team()
    ids = {"org": make_org().id, "user": team.members[1].user_id, "team": team.id}
    signed_in(make_user(role))
    for url in ADMIN_GETS:
        assert client.get(url.format(**ids)).status_code == 403, url
    for url in ADMIN_POSTS:
        response = post_form(client, url.format(**ids), {}, page="/home")
        assert response.status_code == 403, url


def test_admin_pages_ask_to_sign_in_first(client):
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_pages_are_chinese_by_default_and_english_on_request(client, signed_in, admin):
    signed_in(admin)
    page = html(client.get("/admin/teams"))
    assert 'lang="zh-CN"' in page
    assert "家庭医生团队" in page
    assert "新建团队" in page

    client.set_cookie("lang", "en")
    page = html(client.get("/admin/teams"))
    assert 'lang="en"' in page
    assert "Family-doctor teams" in page
    assert "New team" in page


def test_a_refusal_is_translated_into_chinese(client, signed_in, admin):
    signed_in(admin)
    response = post_form(
        client,
        "/admin/organisations/new",
        {"code": "D1", "name": "Dept", "kind": "department", "parent_id": ""},
    )
    assert response.status_code == 422
    assert "科室" in field_error(html(response), "parent_id")


def test_every_message_of_the_admin_pages_has_a_chinese_translation():
    from pathlib import Path

    from babel.messages.pofile import read_po

    po = Path(__file__).resolve().parents[2] / "app/admin/translations/zh_Hans_CN/LC_MESSAGES"
    with open(po / "messages.po", "rb") as f:
        catalogue = read_po(f)
    untranslated = [m.id for m in catalogue if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []
    assert (po / "messages.mo").exists()
