"""Every transition of a contract through the API, allowed and refused, and the jobs."""

from datetime import date, timedelta

import pytest

from app.accounts.models import OrganisationKind, Role
from app.audit.models import Event
from app.contracts import lifecycle
from app.contracts.models import Contract, ContractStatus
from app.extensions import db
from app.notifications.models import Notification
from app.residents.models import CaregiverScope
from app.timeutil import local_today

VERSION = "2026-01"


@pytest.fixture
def setting(make_team, make_resident, make_resident_user, api_token):
    team = make_team()
    resident = make_resident(neighbourhood=team.neighbourhoods[0], birth_date=date(1945, 3, 1))
    account = make_resident_user(resident)
    return {
        "team": team,
        "resident": resident,
        "account": account,
        "resident_headers": api_token(account),
        "doctor_headers": api_token(team.lead),
    }


def post(client, path, headers, body=None):
    return client.post(f"/api/v1{path}", json=body if body is not None else {}, headers=headers)


def request_signing(client, s, **extra):
    body = {"resident_id": s["resident"].id, "team_id": s["team"].id, "package": "elderly", **extra}
    return post(client, "/contracts", s["resident_headers"], body)


def sign(client, s) -> int:
    contract_id = request_signing(client, s).get_json()["id"]
    assert post(client, f"/contracts/{contract_id}/accept", s["doctor_headers"]).status_code == 200
    consent = {"method": "online", "text_version": VERSION}
    response = post(client, f"/contracts/{contract_id}/consent", s["resident_headers"], consent)
    assert response.status_code == 200, response.get_json()
    return contract_id


def test_request_accept_consent_makes_it_active(client, setting):
    response = request_signing(client, setting)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "requested"
    assert body["includes"]  # what the package includes is part of the answer
    contract_id = body["id"]
    assert (
        post(client, f"/contracts/{contract_id}/accept", setting["doctor_headers"]).get_json()[
            "status"
        ]
        == "pending_consent"
    )
    consent = {"method": "online", "text_version": VERSION}
    active = post(
        client, f"/contracts/{contract_id}/consent", setting["resident_headers"], consent
    ).get_json()
    assert active["status"] == "active"
    assert active["active_from"] == local_today().isoformat()
    assert active["end_date"] == local_today().replace(year=local_today().year + 1).isoformat()
    assert active["consents"][0]["method"] == "online"
    assert active["consents"][0]["given_by_id"] == setting["account"].id
    events = client.get(
        f"/api/v1/contracts/{contract_id}/events", headers=setting["doctor_headers"]
    ).get_json()
    assert [(e["from_state"], e["to_state"]) for e in events] == [
        (None, "requested"),
        ("requested", "pending_consent"),
        ("pending_consent", "active"),
    ]


def test_wrong_transitions_answer_409_with_the_current_state(client, setting):
    contract_id = request_signing(client, setting).get_json()["id"]
    headers = setting["doctor_headers"]
    for action, body in (
        ("terminate", {"reason": "x"}),
        ("consent", {"method": "in_person", "text_version": VERSION}),
    ):
        response = post(client, f"/contracts/{contract_id}/{action}", headers, body)
        assert response.status_code == 409, action
        assert response.get_json()["current"] == "requested"
    post(client, f"/contracts/{contract_id}/reject", headers, {"reason": "请先来中心面谈"})
    again = post(client, f"/contracts/{contract_id}/accept", headers)
    assert again.status_code == 409
    assert again.get_json()["current"] == "rejected"


def test_reject_and_terminate_need_a_reason(client, setting):
    contract_id = request_signing(client, setting).get_json()["id"]
    response = post(
        client, f"/contracts/{contract_id}/reject", setting["doctor_headers"], {"reason": ""}
    )
    assert response.status_code == 422
    assert "reason" in response.get_json()["errors"]["json"]
    assert db.session.get(Contract, contract_id).status == ContractStatus.REQUESTED


def test_terminate_ends_coverage_today(client, setting):
    contract_id = sign(client, setting)
    response = post(
        client,
        f"/contracts/{contract_id}/terminate",
        setting["doctor_headers"],
        {"reason": "搬离本镇"},
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "terminated"
    assert body["end_reason"] == "搬离本镇"
    assert body["active_until"] == local_today().isoformat()


def test_one_open_and_one_active_contract_per_resident(client, setting):
    assert request_signing(client, setting).status_code == 201
    second = request_signing(client, setting)
    assert second.status_code == 409
    assert "resident_id" in second.get_json()["errors"]["json"]


def test_team_capacity_is_enforced(client, setting, make_resident, make_resident_user, api_token):
    setting["team"].capacity = 1
    db.session.flush()
    sign(client, setting)
    other = make_resident(neighbourhood=setting["team"].neighbourhoods[0])
    headers = api_token(make_resident_user(other))
    contract_id = post(
        client,
        "/contracts",
        headers,
        {"resident_id": other.id, "team_id": setting["team"].id, "package": "basic"},
    ).get_json()["id"]
    response = post(client, f"/contracts/{contract_id}/accept", setting["doctor_headers"])
    assert response.status_code == 409
    assert "panel is full" in response.get_json()["message"]


def test_text_version_must_be_the_current_one(client, setting):
    contract_id = request_signing(client, setting).get_json()["id"]
    post(client, f"/contracts/{contract_id}/accept", setting["doctor_headers"])
    response = post(
        client,
        f"/contracts/{contract_id}/consent",
        setting["resident_headers"],
        {"method": "online", "text_version": "2019-01"},
    )
    assert response.status_code == 422
    assert "text_version" in response.get_json()["errors"]["json"]


def test_consent_methods_belong_to_their_people(client, setting, make_link, api_token):
    contract_id = request_signing(client, setting).get_json()["id"]
    post(client, f"/contracts/{contract_id}/accept", setting["doctor_headers"])
    viewer = make_link(setting["resident"], scope=CaregiverScope.CARE).caregiver
    # a caregiver without proxy scope cannot even see a way to consent
    response = post(
        client,
        f"/contracts/{contract_id}/consent",
        api_token(viewer),
        {"method": "proxy", "text_version": VERSION},
    )
    assert response.status_code == 403
    # the doctor cannot pretend the resident consented online
    response = post(
        client,
        f"/contracts/{contract_id}/consent",
        setting["doctor_headers"],
        {"method": "online", "text_version": VERSION},
    )
    assert response.status_code == 403
    proxy = make_link(setting["resident"], scope=CaregiverScope.PROXY).caregiver
    response = post(
        client,
        f"/contracts/{contract_id}/consent",
        api_token(proxy),
        {"method": "proxy", "text_version": VERSION},
    )
    assert response.status_code == 200
    assert response.get_json()["consents"][0]["given_by_id"] == proxy.id


def test_team_records_in_person_consent_for_a_resident_without_an_account(
    client, make_team, make_resident, api_token
):
    team = make_team()
    resident = make_resident(neighbourhood=team.neighbourhoods[0])
    headers = api_token(team.lead)
    draft = post(
        client,
        "/contracts",
        headers,
        {"resident_id": resident.id, "team_id": team.id, "package": "basic"},
    )
    assert draft.status_code == 201
    assert draft.get_json()["status"] == "drafted"
    contract_id = draft.get_json()["id"]
    post(client, f"/contracts/{contract_id}/accept", headers)
    active = post(
        client,
        f"/contracts/{contract_id}/consent",
        headers,
        {"method": "in_person", "text_version": VERSION},
    )
    assert active.get_json()["status"] == "active"
    assert active.get_json()["consents"][0]["given_by_id"] is None


def test_a_caregiver_needs_proxy_scope_to_request(client, setting, make_link, api_token):
    body = {
        "resident_id": setting["resident"].id,
        "team_id": setting["team"].id,
        "package": "basic",
    }
    viewer = make_link(setting["resident"], scope=CaregiverScope.VIEW).caregiver
    assert post(client, "/contracts", api_token(viewer), body).status_code == 404
    proxy = make_link(setting["resident"], scope=CaregiverScope.PROXY).caregiver
    response = post(client, "/contracts", api_token(proxy), body)
    assert response.status_code == 201
    assert response.get_json()["requested_by_id"] == proxy.id


def test_hospitals_must_be_of_the_right_level(client, setting, make_org):
    district = make_org(OrganisationKind.DISTRICT_HOSPITAL)
    municipal = make_org(OrganisationKind.MUNICIPAL_HOSPITAL)
    wrong = request_signing(client, setting, district_hospital_id=municipal.id)
    assert wrong.status_code == 422
    assert "district_hospital_id" in wrong.get_json()["errors"]["json"]
    right = request_signing(
        client, setting, district_hospital_id=district.id, municipal_hospital_id=municipal.id
    )
    assert right.status_code == 201


def test_renewal_takes_over_at_the_end_date(client, setting):
    first_id = sign(client, setting)
    first = db.session.get(Contract, first_id)
    first.end_date = first.active_until = local_today() + timedelta(days=20)
    db.session.flush()
    renewal = request_signing(client, setting)
    assert renewal.get_json()["renews_id"] == first_id
    assert renewal.get_json()["start_date"] == first.end_date.isoformat()
    renewal_id = renewal.get_json()["id"]
    post(client, f"/contracts/{renewal_id}/accept", setting["doctor_headers"])
    consent = {"method": "online", "text_version": VERSION}
    renewed = post(
        client, f"/contracts/{renewal_id}/consent", setting["resident_headers"], consent
    ).get_json()
    assert renewed["status"] == "active"
    assert renewed["active_from"] == first.end_date.isoformat()
    db.session.refresh(first)
    assert first.status == ContractStatus.RENEWED
    assert (
        first.active_until == renewed["active_from"]
        or first.active_until.isoformat() == renewed["active_from"]
    )


def test_changing_team_ends_the_old_contract(client, setting, make_team):
    first_id = sign(client, setting)
    other_team = make_team(neighbourhoods=[setting["resident"].neighbourhood])
    moved = request_signing(client, setting, team_id=other_team.id)
    assert moved.get_json()["renews_id"] is None
    moved_id = moved.get_json()["id"]
    post(
        client,
        f"/contracts/{moved_id}/accept",
        {"Authorization": _token_header(client, other_team.lead)},
    )
    consent = {"method": "online", "text_version": VERSION}
    assert (
        post(
            client, f"/contracts/{moved_id}/consent", setting["resident_headers"], consent
        ).status_code
        == 200
    )
    old = db.session.get(Contract, first_id)
    assert old.status == ContractStatus.TERMINATED
    assert old.end_reason == "changed team"


def _token_header(client, user):
    from app.auth.services import issue_token

    return f"Bearer {issue_token(user)[0]}"


def test_cancel_by_the_resident(client, setting):
    contract_id = request_signing(client, setting).get_json()["id"]
    response = post(
        client,
        f"/contracts/{contract_id}/cancel",
        setting["resident_headers"],
        {"reason": "想再考虑一下"},
    )
    assert response.get_json()["status"] == "cancelled"
    assert request_signing(client, setting).status_code == 201  # may ask again


def test_other_teams_and_strangers_see_nothing(client, setting, make_team, api_token, make_user):
    contract_id = request_signing(client, setting).get_json()["id"]
    outsider = api_token(make_team().lead)
    assert client.get(f"/api/v1/contracts/{contract_id}", headers=outsider).status_code == 404
    assert post(client, f"/contracts/{contract_id}/accept", outsider).status_code == 404
    listed = client.get("/api/v1/contracts", headers=outsider).get_json()
    assert listed == []


def test_the_team_sees_residents_who_signed_with_it_from_elsewhere(
    client, setting, make_team, make_resident, make_resident_user, api_token
):
    far = make_resident()  # lives in a neighbourhood no team of ours serves
    headers = api_token(make_resident_user(far))
    body = {"resident_id": far.id, "team_id": setting["team"].id, "package": "basic"}
    contract_id = post(client, "/contracts", headers, body).get_json()["id"]
    assert (
        client.get(f"/api/v1/residents/{far.id}", headers=setting["doctor_headers"]).status_code
        == 200
    )
    assert (
        client.get(
            f"/api/v1/contracts/{contract_id}", headers=setting["doctor_headers"]
        ).status_code
        == 200
    )


def test_filters(client, setting):
    sign(client, setting)
    headers = setting["doctor_headers"]
    assert len(client.get("/api/v1/contracts?status=active", headers=headers).get_json()) == 1
    assert client.get("/api/v1/contracts?status=requested", headers=headers).get_json() == []
    assert (
        len(client.get("/api/v1/contracts?ends_within_days=400", headers=headers).get_json()) == 1
    )
    assert client.get("/api/v1/contracts?ends_within_days=30", headers=headers).get_json() == []
    bad = client.get("/api/v1/contracts?status=happy", headers=headers)
    assert bad.status_code == 422
    assert "status" in bad.get_json()["errors"]["query"]


def test_jobs_mark_expiring_then_expired_and_remind_once(client, setting, make_link, app):
    contract_id = sign(client, setting)
    proxy = make_link(setting["resident"], scope=CaregiverScope.PROXY).caregiver
    contract = db.session.get(Contract, contract_id)
    contract.end_date = contract.active_until = local_today() + timedelta(days=30)
    db.session.flush()
    assert lifecycle.mark_expiring_and_expired() == {"expired": 0, "expiring": 1}
    assert contract.status == ContractStatus.EXPIRING
    sent = lifecycle.remind_before_end()
    told = {n.user_id for n in db.session.query(Notification).all()}
    assert setting["account"].id in told
    assert proxy.id in told
    assert setting["team"].lead.id in told
    assert sent == len(told)
    assert lifecycle.remind_before_end() == 0  # never twice
    contract.end_date = local_today()
    db.session.flush()
    assert lifecycle.mark_expiring_and_expired() == {"expired": 1, "expiring": 0}
    assert contract.status == ContractStatus.EXPIRED
    assert contract.active_until == local_today()
    names = [
        e.name
        for e in db.session.query(Event).filter_by(entity_type="contract", entity_id=contract_id)
    ]
    assert names[-2:] == ["contract.expiring", "contract.expired"]


def test_no_reminder_while_a_renewal_is_under_way(client, setting):
    contract_id = sign(client, setting)
    contract = db.session.get(Contract, contract_id)
    contract.end_date = contract.active_until = local_today() + timedelta(days=7)
    db.session.flush()
    request_signing(client, setting)
    assert lifecycle.remind_before_end() == 0


def test_residents_and_caregivers_cannot_accept(client, setting):
    contract_id = request_signing(client, setting).get_json()["id"]
    assert (
        post(client, f"/contracts/{contract_id}/accept", setting["resident_headers"]).status_code
        == 403
    )
    assert setting["account"].role == Role.RESIDENT
