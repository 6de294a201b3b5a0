"""The family-doctor contract pages, as residents, caregivers and the team use them."""

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import OrganisationKind, Role
from app.audit.models import AuditEntry
from app.contracts.models import (
    ConsentMethod,
    Contract,
    ContractConsent,
    ContractStatus,
    ServicePackage,
)
from app.extensions import db
from app.notifications.services import notify
from app.residents.models import CaregiverScope
from app.timeutil import local_today
from tests.conftest import post_form, sign_in

VERSION = "2026-01"


def html_of(response) -> str:
    return response.get_data(as_text=True)


def error_next_to(html: str, field_id: str) -> str:
    match = re.search(rf'id="{field_id}-error">(.*?)</p>', html, re.S)
    assert match, f"no error shown next to {field_id}"
    return match.group(1)


def problem_of(html: str) -> str:
    """The refusal shown at the top of the page."""
    match = re.search(r'id="problem">(.*?)</p>', html, re.S)
    assert match, "no refusal shown"
    return re.sub(r"<[^>]+>", "", match.group(1))


def checked_value(html: str, name: str) -> str | None:
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and "checked" in tag:
            return re.search(r'value="([^"]*)"', tag).group(1)
    return None


def contracts_of(resident) -> list[Contract]:
    query = sa.select(Contract).where(Contract.resident_id == resident.id).order_by(Contract.id)
    return list(db.session.scalars(query))


@pytest.fixture
def centre(make_org):
    return make_org(
        OrganisationKind.COMMUNITY_CENTRE, name="高行镇社区卫生服务中心", phone="021-58620000"
    )


@pytest.fixture
def team(make_team, make_user, centre):
    lead = make_user(Role.DOCTOR, phone="13900000001", organisation_id=centre.id)
    team = make_team(lead=lead, centre=centre, name="王医生团队")
    next(m.user for m in team.members if m.user.role == Role.NURSE).phone = "13900000002"
    return team


@pytest.fixture
def doctor(team):
    return team.lead


@pytest.fixture
def hospitals(make_org):
    return {
        "district": make_org(OrganisationKind.DISTRICT_HOSPITAL, name="第七人民医院"),
        "municipal": make_org(OrganisationKind.MUNICIPAL_HOSPITAL, name="仁济医院东院"),
    }


@pytest.fixture
def resident(team, make_resident):
    return make_resident(
        neighbourhood=team.neighbourhoods[0], name="王阿婆", birth_date=date(1946, 4, 2)
    )


@pytest.fixture
def account(resident, make_resident_user):
    return make_resident_user(resident)


@pytest.fixture
def client_for(app):
    """A signed-in browser of its own for each user."""

    def _client(user):
        client = app.test_client()
        sign_in(client, user)
        return client

    return _client


def resident_page(resident) -> str:
    return f"/contracts/resident/{resident.id}"


def request_signing(client, resident, team, **extra):
    data = {"team_id": team.id, "package": "elderly", **extra}
    return post_form(
        client, f"/contracts/resident/{resident.id}/request", data, page=resident_page(resident)
    )


def act(client, contract, action, data=None):
    page = f"/contracts/{contract.id}"
    return post_form(client, f"{page}/{action}", data or {}, page=page)


def make_contract(resident, team, status=ContractStatus.REQUESTED, ends_in=365, **kw):
    today = local_today()
    in_force = status in (ContractStatus.ACTIVE, ContractStatus.EXPIRING)
    contract = Contract(
        resident=resident,
        team=team,
        package=kw.pop("package", ServicePackage.ELDERLY),
        status=status,
        start_date=today - timedelta(days=365 - ends_in),
        end_date=today + timedelta(days=ends_in),
        active_from=today - timedelta(days=365 - ends_in) if in_force else None,
        active_until=today + timedelta(days=ends_in) if in_force else None,
        requested_by_id=kw.pop("requested_by_id", team.lead.id),
        **kw,
    )
    db.session.add(contract)
    db.session.flush()
    return contract


# --- the whole signing, as its users do it ---------------------------------------------------


def test_resident_requests_the_doctor_accepts_the_resident_agrees(
    client_for, resident, account, team, doctor, hospitals
):
    me = client_for(account)
    page = me.get(resident_page(resident))
    html = html_of(page)
    assert page.status_code == 200
    assert "申请签约" in html
    assert checked_value(html, "team_id") == str(team.id)  # the team serving my neighbourhood
    assert checked_value(html, "package") == "elderly"  # I am over 65
    district_select = re.search(r'<select[^>]*name="district_hospital_id".*?</select>', html, re.S)
    assert "第七人民医院" in district_select.group(0)
    assert "仁济医院东院" not in district_select.group(0)

    response = request_signing(me, resident, team, district_hospital_id=hospitals["district"].id)
    assert response.status_code == 303, html_of(response)[:2000]
    assert response.headers["Location"].endswith(resident_page(resident))
    html = html_of(me.get(resident_page(resident)))
    assert "已申请" in html
    assert 'action="/contracts/resident/' not in html  # no second request while one is open
    (contract,) = contracts_of(resident)
    assert contract.status == ContractStatus.REQUESTED
    assert contract.requested_by_id == account.id
    assert contract.district_hospital_id == hospitals["district"].id

    team_side = client_for(doctor)
    worklist = html_of(team_side.get("/contracts/worklist"))
    assert resident.name in worklist
    assert f'href="/contracts/{contract.id}"' in worklist
    detail = html_of(team_side.get(f"/contracts/{contract.id}"))
    assert f'action="/contracts/{contract.id}/accept"' in detail
    response = act(team_side, contract, "accept")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/contracts/{contract.id}")
    assert contract.status == ContractStatus.PENDING_CONSENT

    html = html_of(me.get(resident_page(resident)))
    assert "家庭医生签约服务协议" in html  # the agreement to read
    assert f"{VERSION}" in html
    assert "我同意" in html
    response = post_form(
        me,
        f"/contracts/{contract.id}/consent",
        {"text_version": VERSION},
        page=resident_page(resident),
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(resident_page(resident))
    assert contract.status == ContractStatus.ACTIVE
    assert contract.consents[0].method == ConsentMethod.ONLINE
    assert contract.consents[0].given_by_id == account.id

    html = html_of(me.get(resident_page(resident)))
    assert "服务中" in html
    assert team.name in html
    assert 'href="tel:13900000001"' in html  # the doctor
    assert 'href="tel:13900000002"' in html  # the nurse
    assert 'href="tel:021-58620000"' in html  # the centre
    assert "第七人民医院" in html
    assert "申请签约" not in html  # a year to go: nothing to request
    assert "申请续约" not in html


def test_the_resident_home_page_links_to_the_contract(client_for, resident, account):
    html = html_of(client_for(account).get("/home"))
    assert f'href="/contracts/resident/{resident.id}"' in html


def test_the_resident_can_cancel_their_request(client_for, resident, account, team):
    me = client_for(account)
    request_signing(me, resident, team)
    (contract,) = contracts_of(resident)
    response = post_form(me, f"/contracts/{contract.id}/cancel", {}, page=resident_page(resident))
    assert response.status_code == 303
    assert contract.status == ContractStatus.CANCELLED
    assert "申请签约" in html_of(me.get(resident_page(resident)))  # may ask again


# --- caregivers ------------------------------------------------------------------------------


def test_a_proxy_caregiver_requests_and_agrees_for_the_resident(
    client_for, resident, team, doctor, make_link
):
    proxy = make_link(resident, scope=CaregiverScope.PROXY).caregiver
    helper = client_for(proxy)
    home = html_of(helper.get("/home"))
    assert f'href="/contracts/resident/{resident.id}"' in home
    assert request_signing(helper, resident, team).status_code == 303
    (contract,) = contracts_of(resident)
    assert contract.requested_by_id == proxy.id
    act(client_for(doctor), contract, "accept")

    html = html_of(helper.get(resident_page(resident)))
    assert f"代{resident.name}同意" in html
    response = post_form(
        helper,
        f"/contracts/{contract.id}/consent",
        {"text_version": VERSION},
        page=resident_page(resident),
    )
    assert response.status_code == 303
    assert contract.consents[0].method == ConsentMethod.PROXY


def test_a_view_only_caregiver_sees_no_request_button_and_is_refused(
    client_for, resident, team, make_link
):
    viewer = make_link(resident, scope=CaregiverScope.VIEW).caregiver
    helper = client_for(viewer)
    page = helper.get(resident_page(resident))
    assert page.status_code == 200
    assert "/request" not in html_of(page)
    assert "申请签约" not in html_of(page)
    assert request_signing(helper, resident, team).status_code == 403
    assert contracts_of(resident) == []


def test_a_view_only_caregiver_cannot_agree_or_cancel(client_for, resident, team, make_link):
    viewer = make_link(resident, scope=CaregiverScope.VIEW).caregiver
    contract = make_contract(resident, team, ContractStatus.PENDING_CONSENT)
    helper = client_for(viewer)
    html = html_of(helper.get(resident_page(resident)))
    assert "/consent" not in html
    assert "/cancel" not in html
    response = post_form(
        helper,
        f"/contracts/{contract.id}/consent",
        {"text_version": VERSION},
        page=resident_page(resident),
    )
    assert response.status_code == 403
    assert (
        post_form(
            helper, f"/contracts/{contract.id}/cancel", {}, page=resident_page(resident)
        ).status_code
        == 403
    )
    assert contract.status == ContractStatus.PENDING_CONSENT


# --- the team's contract page and its actions ------------------------------------------------


def test_declining_needs_a_reason_shown_next_to_the_field(
    client_for, resident, account, team, doctor
):
    contract = make_contract(resident, team, requested_by_id=account.id)
    team_side = client_for(doctor)

    response = act(team_side, contract, "reject", {"reject-end_reason": "  "})
    assert response.status_code == 422
    assert "理由" in error_next_to(html_of(response), "reject-end_reason")
    assert contract.status == ContractStatus.REQUESTED

    response = act(team_side, contract, "reject", {"reject-end_reason": "不在本团队服务范围"})
    assert response.status_code == 303
    assert contract.status == ContractStatus.REJECTED
    assert contract.end_reason == "不在本团队服务范围"
    # the resident sees why, and may ask again
    html = html_of(client_for(account).get(resident_page(resident)))
    assert "不在本团队服务范围" in html
    assert "申请签约" in html


def test_a_wrong_transition_shows_the_current_state(client_for, resident, team, doctor):
    contract = make_contract(resident, team, ContractStatus.PENDING_CONSENT)
    response = act(client_for(doctor), contract, "accept")
    assert response.status_code == 409
    assert "待本人确认" in problem_of(html_of(response))
    assert contract.status == ContractStatus.PENDING_CONSENT


def test_a_stale_agreement_text_is_refused(client_for, resident, account, team):
    contract = make_contract(resident, team, ContractStatus.PENDING_CONSENT)
    response = post_form(
        client_for(account),
        f"/contracts/{contract.id}/consent",
        {"text_version": "2019-01"},
        page=resident_page(resident),
    )
    assert response.status_code == 422
    assert VERSION in problem_of(html_of(response))
    assert contract.status == ContractStatus.PENDING_CONSENT


def test_another_teams_doctor_gets_404(client_for, resident, team, make_team):
    contract = make_contract(resident, team)
    stranger = client_for(make_team().lead)
    assert stranger.get(f"/contracts/{contract.id}").status_code == 404
    assert stranger.get(resident_page(resident)).status_code == 404
    assert act(stranger, contract, "accept").status_code == 404
    assert contract.status == ContractStatus.REQUESTED


def test_the_team_drafts_and_records_consent_in_person(
    client_for, resident, team, doctor, make_team
):
    make_team(name="别的团队")  # listed only to those who belong to it
    team_side = client_for(doctor)
    page = team_side.get(f"/contracts/new?resident_id={resident.id}")
    html = html_of(page)
    assert page.status_code == 200
    assert checked_value(html, "team_id") == str(team.id)
    assert "别的团队" not in html

    response = post_form(
        team_side,
        f"/contracts/new?resident_id={resident.id}",
        {"team_id": team.id, "package": "hypertension"},
    )
    assert response.status_code == 303, html_of(response)[:2000]
    (contract,) = contracts_of(resident)
    assert response.headers["Location"].endswith(f"/contracts/{contract.id}")
    assert contract.status == ContractStatus.DRAFTED

    assert act(team_side, contract, "accept").status_code == 303
    html = html_of(team_side.get(f"/contracts/{contract.id}"))
    assert "家庭医生签约服务协议" in html  # read out to the resident before they sign
    response = act(team_side, contract, "consent", {"text_version": VERSION})
    assert response.status_code == 303
    assert contract.status == ContractStatus.ACTIVE
    consent = db.session.scalar(sa.select(ContractConsent).filter_by(contract_id=contract.id))
    assert consent.method == ConsentMethod.IN_PERSON
    assert consent.given_by_id is None
    assert consent.recorded_by_id == doctor.id
    assert consent.text_version == VERSION


def test_terminating_needs_a_reason_and_the_history_shows_every_step(
    client_for, resident, team, doctor
):
    contract = make_contract(resident, team, ContractStatus.ACTIVE)
    team_side = client_for(doctor)
    assert act(team_side, contract, "terminate").status_code == 422
    response = act(team_side, contract, "terminate", {"terminate-end_reason": "搬离本镇"})
    assert response.status_code == 303
    assert contract.status == ContractStatus.TERMINATED
    assert contract.active_until == local_today()
    html = html_of(team_side.get(f"/contracts/{contract.id}"))
    history = re.search(r"<h2>历史记录</h2>.*?</table>", html, re.S).group(0)
    assert "搬离本镇" in history
    assert doctor.display_name in history
    assert "已解约" in history


def test_a_draft_for_a_resident_with_an_open_request_is_refused(client_for, resident, team, doctor):
    make_contract(resident, team)
    response = post_form(
        client_for(doctor),
        f"/contracts/new?resident_id={resident.id}",
        {"team_id": team.id, "package": "basic"},
    )
    assert response.status_code == 409
    assert len(contracts_of(resident)) == 1


# --- the worklist ----------------------------------------------------------------------------


def test_the_worklist_lists_requests_endings_and_unsigned_elderly(
    client_for, resident, team, doctor, make_resident
):
    neighbourhood = team.neighbourhoods[0]
    unsigned = make_resident(
        neighbourhood=neighbourhood, name="李老伯", birth_date=date(1950, 1, 1)
    )
    young = make_resident(neighbourhood=neighbourhood, name="小张", birth_date=date(1990, 1, 1))
    ending_soon = make_resident(
        neighbourhood=neighbourhood, name="赵阿姨", birth_date=date(1949, 1, 1)
    )
    make_contract(resident, team)
    ending = make_contract(ending_soon, team, ContractStatus.EXPIRING, ends_in=12)

    html = html_of(client_for(doctor).get("/contracts/worklist"))

    to_review, ending_part, unsigned_part = re.split(r'id="ending"|id="unsigned"', html)
    assert resident.name in to_review
    assert ending_soon.name in ending_part
    assert f'href="/contracts/new?resident_id={ending.resident_id}"' in ending_part
    assert unsigned.name in unsigned_part
    assert f'href="/contracts/new?resident_id={unsigned.id}"' in unsigned_part
    assert young.name not in html  # under 65
    assert resident.name not in unsigned_part  # has a request under way
    assert ending_soon.name not in unsigned_part


def test_staff_links_to_the_worklist(client_for, doctor):
    html = html_of(client_for(doctor).get("/home"))
    assert 'href="/contracts/worklist"' in html


# --- renewal ---------------------------------------------------------------------------------


def test_the_renewal_form_appears_only_within_the_window(
    client_for, resident, account, team, make_team
):
    other = make_team(neighbourhoods=[team.neighbourhoods[0]], name="A团队")  # listed first
    contract = make_contract(resident, team, ContractStatus.ACTIVE, ends_in=100)
    me = client_for(account)
    html = html_of(me.get(resident_page(resident)))
    assert "申请续约" not in html
    assert "/request" not in html

    contract.end_date = contract.active_until = local_today() + timedelta(days=20)
    html = html_of(me.get(resident_page(resident)))
    assert "申请续约" in html
    assert checked_value(html, "team_id") == str(team.id)  # the current team
    assert other.name in html

    assert request_signing(me, resident, team).status_code == 303
    renewal = contracts_of(resident)[-1]
    assert renewal.renews_id == contract.id
    assert renewal.start_date == contract.end_date


# --- the list --------------------------------------------------------------------------------


def test_the_list_filters_and_asks_an_administrator_why(
    client_for, resident, team, doctor, make_resident, make_user
):
    other = make_resident(neighbourhood=team.neighbourhoods[0], name="钱老伯")
    make_contract(resident, team, ContractStatus.ACTIVE)
    make_contract(other, team)
    team_side = client_for(doctor)

    html = html_of(team_side.get("/contracts/?status=active"))
    assert resident.name in html
    assert other.name not in html
    assert other.name in html_of(team_side.get("/contracts/"))
    assert team_side.get("/contracts/?ends_within_days=abc").status_code == 422

    admin = client_for(make_user(Role.ADMIN))
    html = html_of(admin.get("/contracts/"))
    assert resident.name not in html
    assert 'name="reason"' in html
    html = html_of(admin.get("/contracts/?reason=质量检查"))
    assert resident.name in html
    entry = db.session.scalar(
        sa.select(AuditEntry).where(
            AuditEntry.resident_id == resident.id, AuditEntry.reason == "质量检查"
        )
    )
    assert entry is not None


def test_an_administrator_opens_a_contract_only_with_a_reason(
    client_for, resident, team, make_user
):
    contract = make_contract(resident, team)
    admin = client_for(make_user(Role.ADMIN))
    html = html_of(admin.get(f"/contracts/{contract.id}"))
    assert resident.name not in html
    assert 'name="reason"' in html
    html = html_of(admin.get(f"/contracts/{contract.id}?reason=投诉处理"))
    assert resident.name in html
    assert 'type="hidden" name="reason" value="投诉处理"' in html  # carried by the actions


# --- English, and notifications --------------------------------------------------------------


def test_pages_in_english_with_the_language_cookie(client_for, resident, account, team, doctor):
    me = client_for(account)
    me.set_cookie("lang", "en")
    html = html_of(me.get(resident_page(resident)))
    assert "My family-doctor contract" in html
    assert "Request signing" in html
    assert "Package for residents aged 65 and over" in html
    make_contract(resident, team, ContractStatus.PENDING_CONSENT)
    html = html_of(me.get(resident_page(resident)))
    assert "Family-doctor service agreement" in html
    assert "I agree" in html

    team_side = client_for(doctor)
    team_side.set_cookie("lang", "en")
    html = html_of(team_side.get("/contracts/worklist"))
    assert "Requests and drafts to review" in html
    assert "Waiting for agreement" in html


def test_notifications_are_listed_counted_and_marked_read(client_for, account, resident):
    notify(
        account,
        "contract.ending",
        "The family-doctor contract of %(name)s ends on %(date)s: renew it in time.",
        {"name": resident.name, "date": "2027-01-01"},
        f"/contracts/resident/{resident.id}",
        "test:1",
    )
    me = client_for(account)
    home = html_of(me.get("/home"))
    assert 'href="/notifications/"' in home
    assert "1 条新消息" in home
    html = html_of(me.get("/notifications/"))
    assert f"{resident.name}的家庭医生签约将于 2027-01-01 到期" in html
    assert f'href="/contracts/resident/{resident.id}"' in html
    response = post_form(me, "/notifications/read", {}, page="/notifications/")
    assert response.status_code == 303
    assert "条新消息" not in html_of(me.get("/home"))
