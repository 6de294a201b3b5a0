"""The residents' register and caregiver-link pages, as their users see them."""

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app import crypto
from app.accounts.models import Role
from app.audit.models import AuditEntry
from app.extensions import db
from app.residents.models import (
    CaregiverLink,
    CaregiverScope,
    ChronicCondition,
    Household,
    LinkStatus,
    Resident,
    Sex,
)
from app.timeutil import local_today
from tests.conftest import post_form, sign_in
from tests.factories import national_id_for

BIRTH = date(1948, 3, 2)


def html_of(response) -> str:
    return response.get_data(as_text=True)


def error_next_to(html: str, field_id: str) -> str:
    """The error text the page shows under a field (the _macros.field markup)."""
    match = re.search(rf'id="{field_id}-error">(.*?)</p>', html, re.S)
    assert match, f"no error shown next to {field_id}"
    return match.group(1)


def resident_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Resident.id)))


def audit_entries(**where) -> list[AuditEntry]:
    query = sa.select(AuditEntry).filter_by(**where)
    return list(db.session.scalars(query))


@pytest.fixture
def team(make_team):
    return make_team()


@pytest.fixture
def doctor(team):
    return team.lead


@pytest.fixture
def nurse(team):
    return next(m.user for m in team.members if m.user.role == Role.NURSE)


@pytest.fixture
def resident(team, make_resident):
    return make_resident(
        neighbourhood=team.neighbourhoods[0],
        name="王阿婆",
        conditions=[ChronicCondition.HYPERTENSION],
        living_alone=True,
    )


def registration(neighbourhood, number: str, **overrides) -> dict:
    data = {
        "name": "张老伯",
        "sex": "male",
        "birth_date": BIRTH.isoformat(),
        "national_id": number,
        "phone": "13800000001",
        "address": "高行镇东靖路100号",
        "neighbourhood_id": str(neighbourhood.id),
        "household_id": "",
        "living_alone": "y",
        "mobility": "needs_assistance",
        "conditions": ["hypertension", "type2_diabetes"],
    }
    data.update(overrides)
    return data


# --- registering -----------------------------------------------------------------------------


def test_doctor_registers_a_resident_and_sees_only_the_masked_id(signed_in, team, doctor):
    client = signed_in(doctor)
    number = national_id_for(BIRTH, Sex.MALE)
    assert client.get("/residents/new").status_code == 200

    response = post_form(client, "/residents/new", registration(team.neighbourhoods[0], number))

    assert response.status_code == 302, html_of(response)[:2000]
    resident = db.session.scalar(sa.select(Resident).where(Resident.name == "张老伯"))
    assert response.headers["Location"].endswith(f"/residents/{resident.id}")
    assert set(resident.conditions) == {
        ChronicCondition.HYPERTENSION,
        ChronicCondition.TYPE2_DIABETES,
    }
    assert resident.living_alone is True
    page = client.get(f"/residents/{resident.id}")
    html = html_of(page)
    assert page.status_code == 200
    assert "张老伯" in html
    assert number[:4] + "*" * 10 + number[-4:] in html
    assert number not in html
    assert number[6:14] not in html  # not even the birth-date digits in a row
    assert "高血压" in html
    assert "2 型糖尿病" in html


def test_a_bad_check_digit_is_refused_next_to_the_national_id(signed_in, team, doctor):
    client = signed_in(doctor)
    good = national_id_for(BIRTH, Sex.MALE)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    before = resident_count()

    response = post_form(client, "/residents/new", registration(team.neighbourhoods[0], bad))

    assert response.status_code == 422
    assert "校验" in error_next_to(html_of(response), "national_id")
    assert resident_count() == before


def test_a_neighbourhood_the_team_does_not_serve_is_refused(signed_in, doctor, make_neighbourhood):
    elsewhere = make_neighbourhood()
    client = signed_in(doctor)
    before = resident_count()

    response = post_form(
        client, "/residents/new", registration(elsewhere, national_id_for(BIRTH, Sex.MALE))
    )

    assert response.status_code == 422
    assert "不服务" in error_next_to(html_of(response), "neighbourhood_id")
    assert resident_count() == before


def test_the_neighbourhood_list_offers_only_served_ones(
    signed_in, team, doctor, make_neighbourhood
):
    elsewhere = make_neighbourhood(name="别处居委会")
    html = html_of(signed_in(doctor).get("/residents/new"))
    assert team.neighbourhoods[0].name in html
    assert elsewhere.name not in html


# --- seeing a record -------------------------------------------------------------------------


def test_a_doctor_of_another_team_gets_404(signed_in, resident, make_team):
    other_doctor = make_team().lead
    client = signed_in(other_doctor)
    assert client.get(f"/residents/{resident.id}").status_code == 404
    assert client.get(f"/residents/{resident.id}/edit").status_code == 404
    assert client.get(f"/residents/{resident.id}/caregivers").status_code == 404
    assert resident.name not in html_of(client.get("/residents/"))


def test_a_resident_sees_their_own_record_only(
    signed_in, resident, make_resident, make_resident_user
):
    neighbour = make_resident(neighbourhood=resident.neighbourhood)
    client = signed_in(make_resident_user(resident))
    page = client.get(f"/residents/{resident.id}")
    assert page.status_code == 200
    assert resident.name in html_of(page)
    assert "编辑档案" not in html_of(page)  # no edit link for the resident
    assert client.get(f"/residents/{neighbour.id}").status_code == 404
    assert client.get("/residents/").status_code == 403


def test_a_caregiver_sees_a_linked_resident_until_the_link_is_revoked(
    app, signed_in, resident, doctor, make_resident, make_user, make_link
):
    caregiver = make_user(Role.CAREGIVER)
    link = make_link(resident, caregiver, scope=CaregiverScope.VIEW)
    unlinked = make_resident(neighbourhood=resident.neighbourhood)
    client = signed_in(caregiver)

    assert client.get(f"/residents/{resident.id}").status_code == 200
    assert client.get(f"/residents/{unlinked.id}").status_code == 404
    page = client.get(f"/residents/{resident.id}/caregivers")
    assert page.status_code == 200
    assert "添加照护人" not in html_of(page)  # a caregiver cannot grant
    revoke_url = f"/residents/{resident.id}/caregivers/{link.id}/revoke"
    page_url = f"/residents/{resident.id}/caregivers"
    assert post_form(client, revoke_url, {}, page=page_url).status_code == 403

    doctor_client = app.test_client()
    sign_in(doctor_client, doctor)
    response = post_form(doctor_client, revoke_url, {"reason": "家属要求"}, page=page_url)
    assert response.status_code == 302

    assert client.get(f"/residents/{resident.id}").status_code == 404
    assert client.get(page_url).status_code == 404


# --- caregiver links -------------------------------------------------------------------------


def test_a_resident_grants_a_caregiver_by_phone_and_revokes_it(
    signed_in, resident, make_resident_user, make_user
):
    caregiver = make_user(Role.CAREGIVER, phone="13900000002", display_name="王小明")
    client = signed_in(make_resident_user(resident))
    url = f"/residents/{resident.id}/caregivers"
    page = client.get(url)
    assert page.status_code == 200
    assert "添加照护人" in html_of(page)
    one_year = local_today().replace(year=local_today().year + 1).isoformat()
    assert f'value="{one_year}"' in html_of(page)  # the default end date

    response = post_form(
        client,
        url,
        {
            "caregiver": "13900000002",
            "relationship": "family_member",
            "scope": "care",
            "ends_on": one_year,
            "priority": "1",
        },
    )

    assert response.status_code == 302, html_of(response)[:2000]
    link = db.session.scalar(sa.select(CaregiverLink).filter_by(resident_id=resident.id))
    assert (link.caregiver_id, link.status, link.scope) == (caregiver.id, LinkStatus.ACTIVE, "care")
    html = html_of(client.get(url))
    assert "王小明" in html
    assert "有效" in html

    response = post_form(client, f"{url}/{link.id}/revoke", {"reason": "不需要了"}, page=url)

    assert response.status_code == 302
    db.session.refresh(link)
    assert link.status == LinkStatus.REVOKED
    assert "已撤销" in html_of(client.get(url))
    again = post_form(client, f"{url}/{link.id}/revoke", {}, page=url)  # e.g. a double click
    assert again.status_code == 422
    assert "该照护关系已撤销" in html_of(again)


def test_an_unknown_caregiver_is_named_next_to_the_field(signed_in, resident, doctor, make_user):
    patient_user = make_user(Role.RESIDENT, phone="13900000003")
    client = signed_in(doctor)
    url = f"/residents/{resident.id}/caregivers"
    for who in ("13911112222", patient_user.phone):  # unknown, and not a caregiver
        response = post_form(
            client,
            url,
            {
                "caregiver": who,
                "relationship": "volunteer",
                "scope": "view",
                "ends_on": (local_today() + timedelta(days=30)).isoformat(),
                "priority": "2",
            },
        )
        assert response.status_code == 422
        assert "照护人账号" in error_next_to(html_of(response), "caregiver")
    assert db.session.scalar(sa.select(sa.func.count(CaregiverLink.id))) == 0


def test_a_nurse_sees_the_links_but_may_not_grant(signed_in, resident, nurse, make_user):
    caregiver = make_user(Role.CAREGIVER)
    client = signed_in(nurse)
    url = f"/residents/{resident.id}/caregivers"
    page = client.get(url)
    assert page.status_code == 200
    assert "添加照护人" not in html_of(page)
    data = {
        "caregiver": caregiver.username,
        "relationship": "volunteer",
        "scope": "view",
        "ends_on": (local_today() + timedelta(days=30)).isoformat(),
        "priority": "1",
    }
    assert post_form(client, url, data).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(CaregiverLink.id))) == 0


# --- administrators --------------------------------------------------------------------------


def test_an_admin_sees_records_only_with_a_reason_which_is_audited(signed_in, resident, make_user):
    client = signed_in(make_user(Role.ADMIN))

    listing = client.get("/residents/")
    assert listing.status_code == 200
    assert resident.name not in html_of(listing)
    assert 'name="reason"' in html_of(listing)
    page = client.get(f"/residents/{resident.id}")
    assert page.status_code == 200
    assert resident.name not in html_of(page)
    assert 'name="reason"' in html_of(page)
    assert audit_entries(resident_id=resident.id) == []

    reason = "核查投诉 #42"
    listing = client.get("/residents/", query_string={"reason": reason})
    assert resident.name in html_of(listing)
    assert audit_entries(resident_id=resident.id, action="list", reason=reason)
    page = client.get(f"/residents/{resident.id}", query_string={"reason": reason})
    assert page.status_code == 200
    assert resident.name in html_of(page)
    assert audit_entries(resident_id=resident.id, action="view", reason=reason)


def test_an_admin_edit_carries_the_reason(signed_in, resident, make_user):
    client = signed_in(make_user(Role.ADMIN))
    assert 'name="reason"' in html_of(client.get(f"/residents/{resident.id}/edit"))
    url = f"/residents/{resident.id}/edit?reason=更正地址"
    page = html_of(client.get(url))
    assert 'type="hidden"' in page
    assert "更正地址" in page
    data = {
        "name": resident.name,
        "sex": resident.sex.value,
        "birth_date": resident.birth_date.isoformat(),
        "address": "高行镇新地址8号",
        "neighbourhood_id": str(resident.neighbourhood_id),
        "mobility": resident.mobility.value,
        "conditions": ["hypertension"],
        "living_alone": "y",
        "reason": "更正地址",
    }
    response = post_form(client, f"/residents/{resident.id}/edit", data, page=url)
    assert response.status_code == 302, html_of(response)[:2000]
    assert resident.address == "高行镇新地址8号"
    assert audit_entries(resident_id=resident.id, action="update", reason="更正地址")


# --- editing, searching, households -----------------------------------------------------------


def test_editing_conditions_keeps_the_national_id(signed_in, resident, doctor):
    digest = resident.national_id_digest
    client = signed_in(doctor)
    url = f"/residents/{resident.id}/edit"
    page = html_of(client.get(url))
    national_id_input = re.search(r'<input[^>]*id="national_id"[^>]*>', page).group(0)
    assert 'value=""' in national_id_input  # the number on record is never put in the form
    data = {
        "name": resident.name,
        "sex": resident.sex.value,
        "birth_date": resident.birth_date.isoformat(),
        "national_id": "",
        "phone": "",
        "address": resident.address,
        "neighbourhood_id": str(resident.neighbourhood_id),
        "household_id": "",
        "mobility": "wheelchair",
        "conditions": ["stroke", "dementia"],
    }

    response = post_form(client, url, data)

    assert response.status_code == 302, html_of(response)[:2000]
    assert set(resident.conditions) == {ChronicCondition.STROKE, ChronicCondition.DEMENTIA}
    assert resident.mobility == "wheelchair"
    assert resident.living_alone is False  # the box was left unticked
    assert resident.national_id_digest == digest
    html = html_of(client.get(f"/residents/{resident.id}"))
    assert "脑卒中" in html
    assert "认知障碍" in html
    assert "高血压" not in html


def test_a_new_national_id_replaces_the_old_one(signed_in, resident, doctor):
    client = signed_in(doctor)
    number = national_id_for(resident.birth_date, resident.sex)
    data = {
        "name": resident.name,
        "sex": resident.sex.value,
        "birth_date": resident.birth_date.isoformat(),
        "national_id": number,
        "address": resident.address,
        "neighbourhood_id": str(resident.neighbourhood_id),
        "mobility": resident.mobility.value,
    }
    response = post_form(client, f"/residents/{resident.id}/edit", data)
    assert response.status_code == 302, html_of(response)[:2000]
    assert resident.national_id_digest == crypto.digest(number)


def test_the_search_lists_the_teams_residents_with_filters(
    signed_in, team, doctor, resident, make_resident, make_team
):
    other = make_resident(neighbourhood=team.neighbourhoods[0], name="李大爷", living_alone=False)
    stranger = make_resident(neighbourhood=make_team().neighbourhoods[0], name="外区居民")
    client = signed_in(doctor)

    html = html_of(client.get("/residents/"))
    assert resident.name in html
    assert other.name in html
    assert stranger.name not in html
    assert '<th scope="col">' in html
    assert audit_entries(resident_id=resident.id, action="list")

    html = html_of(client.get("/residents/", query_string={"condition": "hypertension"}))
    assert resident.name in html
    assert other.name not in html
    html = html_of(client.get("/residents/", query_string={"living_alone": "y"}))
    assert resident.name in html
    assert other.name not in html
    html = html_of(client.get("/residents/", query_string={"q": "李"}))
    assert resident.name not in html
    assert other.name in html
    assert client.get("/residents/", query_string={"min_age": "old"}).status_code == 422


def test_the_search_pages_through_many_residents(signed_in, team, doctor, make_resident):
    for n in range(23):
        make_resident(neighbourhood=team.neighbourhoods[0], name=f"居民{n:02d}号")
    client = signed_in(doctor)
    first = html_of(client.get("/residents/"))
    assert "居民00号" in first
    assert "居民22号" not in first
    assert "page=2" in first
    second = html_of(client.get("/residents/", query_string={"page": 2}))
    assert "居民22号" in second
    assert "居民00号" not in second


def test_households_are_listed_and_created(signed_in, team, doctor, make_household):
    make_household(neighbourhood=team.neighbourhoods[0], code="HH-OLD")
    client = signed_in(doctor)
    assert "HH-OLD" in html_of(client.get("/residents/households"))
    data = {"code": "HH-NEW", "address": "东靖路2号", "neighbourhood_id": team.neighbourhoods[0].id}

    assert post_form(client, "/residents/households", data).status_code == 302
    assert db.session.scalar(sa.select(Household).filter_by(code="HH-NEW")) is not None

    response = post_form(client, "/residents/households", data)
    assert response.status_code == 422
    assert error_next_to(html_of(response), "code")


def test_pages_show_english_on_request(signed_in, resident, doctor):
    client = signed_in(doctor)
    post_form(client, "/preferences/language", {"lang": "en", "next": "/"}, page="/home")
    html = html_of(client.get(f"/residents/{resident.id}"))
    assert "National ID number" in html
    assert "Hypertension" in html
