"""The follow-ups JSON API: who sees which, planning by hand, recording a result (which plans
the next one by the rules), the form's errors named, cancelling with a reason."""

from datetime import timedelta

import pytest

from app.accounts.models import Role
from app.extensions import db
from app.followups import services
from app.followups.models import FollowUp, FollowUpMode, FollowUpSource, FollowUpStatus
from app.timeutil import local_today

HYPERTENSION_FORM = {
    "condition": "hypertension",
    "systolic": 150,
    "diastolic": 95,
    "classification": "unsatisfactory",
}


@pytest.fixture
def fw(make_team, make_resident, make_resident_user, make_link, make_user):
    """Team A with a resident and their caregiver; team B's doctor is the outsider."""
    team, other = make_team(), make_team()
    resident = make_resident(neighbourhood=team.neighbourhoods[0])

    def due(days=0, condition=None, mode=FollowUpMode.CLINIC, source=FollowUpSource.MANUAL):
        return services.plan(
            resident.id,
            team.id,
            local_today() + timedelta(days=days),
            "复查血压",
            source,
            mode=mode,
            condition=condition,
        )

    return {
        "team": team,
        "resident": resident,
        "doctor": team.lead,
        "nurse": next(m.user for m in team.members if m.user is not team.lead),
        "resident_user": make_resident_user(resident),
        "caregiver": make_link(resident).caregiver,
        "outsider": other.lead,
        "specialist": make_user(Role.SPECIALIST),
        "admin": make_user(Role.ADMIN),
        "due": due,
    }


def errors(response) -> dict:
    return response.get_json()["errors"]["json"]


def test_list_shows_the_teams_and_the_residents_own(client, api_token, fw):
    mine = fw["due"]()
    for who, expected in (
        ("doctor", [mine.id]),
        ("nurse", [mine.id]),
        ("resident_user", [mine.id]),
        ("caregiver", [mine.id]),
        ("outsider", []),
        ("specialist", []),
    ):
        response = client.get("/api/v1/follow-ups", headers=api_token(fw[who]))
        assert response.status_code == 200, who
        assert [f["id"] for f in response.get_json()] == expected, who


def test_an_administrator_gives_a_reason(client, api_token, fw):
    fw["due"]()
    headers = api_token(fw["admin"])
    assert client.get("/api/v1/follow-ups", headers=headers).status_code == 403
    headers["X-Access-Reason"] = "audit"
    assert client.get("/api/v1/follow-ups", headers=headers).status_code == 200


def test_list_filters(client, api_token, fw):
    late = fw["due"](-3)
    home = fw["due"](2, mode=FollowUpMode.HOME)
    headers = api_token(fw["doctor"])

    def ids(query):
        response = client.get(f"/api/v1/follow-ups?{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return [f["id"] for f in response.get_json()]

    assert ids("overdue=true") == [late.id]
    assert ids("overdue=false") == [home.id]
    assert ids("mode=home") == [home.id]
    assert ids(f"due_from={local_today().isoformat()}") == [home.id]
    assert ids(f"team_id={fw['team'].id}&status=due") == [late.id, home.id]
    bad = client.get("/api/v1/follow-ups?mode=carrier-pigeon", headers=headers)
    assert bad.status_code == 422
    assert "mode" in bad.get_json()["errors"]["query"]


def test_detail_for_those_who_see_it_404_for_others(client, api_token, fw):
    follow_up = fw["due"]()
    path = f"/api/v1/follow-ups/{follow_up.id}"
    assert client.get(path, headers=api_token(fw["caregiver"])).get_json()["id"] == follow_up.id
    assert client.get(path, headers=api_token(fw["outsider"])).status_code == 404
    assert client.get(path, headers=api_token(fw["specialist"])).status_code == 404


def test_plan_by_hand(client, api_token, fw):
    body = {
        "resident_id": fw["resident"].id,
        "due_date": (local_today() + timedelta(days=5)).isoformat(),
        "mode": "home",
        "purpose": "上门看看伤口",
    }
    response = client.post("/api/v1/follow-ups", json=body, headers=api_token(fw["nurse"]))
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert (answer["team_id"], answer["source"], answer["status"]) == (
        fw["team"].id,
        "manual",
        "due",
    )
    outsider = client.post("/api/v1/follow-ups", json=body, headers=api_token(fw["outsider"]))
    assert outsider.status_code == 404
    resident = client.post("/api/v1/follow-ups", json=body, headers=api_token(fw["resident_user"]))
    assert resident.status_code == 403


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"due_date": "2001-01-01"}, "due_date"),
        ({"mode": "fax"}, "mode"),
        ({"purpose": ""}, "purpose"),
        ({"condition": "flu"}, "condition"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_plan_names_the_bad_field(client, api_token, fw, change, field):
    body = {
        "resident_id": fw["resident"].id,
        "due_date": local_today().isoformat(),
        "mode": "clinic",
        "purpose": "复查",
        **change,
    }
    response = client.post("/api/v1/follow-ups", json=body, headers=api_token(fw["doctor"]))
    assert response.status_code == 422
    assert field in errors(response)


def test_recording_a_chronic_result_plans_the_next_one(client, api_token, fw):
    follow_up = fw["due"](condition="hypertension", source=FollowUpSource.CHRONIC_SCHEDULE)
    response = client.post(
        f"/api/v1/follow-ups/{follow_up.id}/result",
        json={"mode": "phone", "form": HYPERTENSION_FORM},
        headers=api_token(fw["doctor"]),
    )
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["follow_up"]["status"] == "done"
    assert answer["follow_up"]["classification"] == "unsatisfactory"
    assert answer["follow_up"]["form"]["systolic"] == 150
    assert answer["next"]["due_date"] == (local_today() + timedelta(days=14)).isoformat()
    assert answer["follow_up"]["next_id"] == answer["next"]["id"]
    detail = client.get(f"/api/v1/follow-ups/{follow_up.id}", headers=api_token(fw["nurse"]))
    assert detail.get_json()["next"]["id"] == answer["next"]["id"]
    again = client.post(
        f"/api/v1/follow-ups/{follow_up.id}/result",
        json={"mode": "phone", "form": HYPERTENSION_FORM},
        headers=api_token(fw["doctor"]),
    )
    assert again.status_code == 409


def test_a_chronic_follow_up_without_the_form_is_refused(client, api_token, fw):
    follow_up = fw["due"](condition="hypertension", source=FollowUpSource.CHRONIC_SCHEDULE)
    response = client.post(
        f"/api/v1/follow-ups/{follow_up.id}/result",
        json={"mode": "clinic"},
        headers=api_token(fw["doctor"]),
    )
    assert response.status_code == 422
    assert "form" in errors(response)
    assert db.session.get(FollowUp, follow_up.id).status == FollowUpStatus.DUE


def test_a_bad_form_field_is_named(client, api_token, fw):
    follow_up = fw["due"](condition="hypertension", source=FollowUpSource.CHRONIC_SCHEDULE)
    form = {**HYPERTENSION_FORM, "systolic": 900}
    response = client.post(
        f"/api/v1/follow-ups/{follow_up.id}/result",
        json={"mode": "clinic", "form": form},
        headers=api_token(fw["doctor"]),
    )
    assert response.status_code == 422
    assert "systolic" in errors(response)["form"]


def test_a_plain_follow_up_needs_no_form(client, api_token, fw):
    follow_up = fw["due"](source=FollowUpSource.ANNUAL_CHECK)
    response = client.post(
        f"/api/v1/follow-ups/{follow_up.id}/result",
        json={"mode": "home"},
        headers=api_token(fw["nurse"]),
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["next"] is None
    assert response.get_json()["follow_up"]["mode"] == "home"


def test_only_the_team_acts(client, api_token, fw):
    follow_up = fw["due"]()
    path = f"/api/v1/follow-ups/{follow_up.id}/cancel"
    body = {"reason": "搬家了"}
    assert client.post(path, json=body, headers=api_token(fw["caregiver"])).status_code == 403
    assert client.post(path, json=body, headers=api_token(fw["outsider"])).status_code == 404
    admin = {**api_token(fw["admin"]), "X-Access-Reason": "audit"}
    assert client.post(path, json=body, headers=admin).status_code == 403


def test_cancel_needs_a_reason(client, api_token, fw):
    follow_up = fw["due"]()
    path = f"/api/v1/follow-ups/{follow_up.id}/cancel"
    headers = api_token(fw["doctor"])
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 422, body
        assert "reason" in errors(response)
    response = client.post(path, json={"reason": "搬家了"}, headers=headers)
    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"
    assert response.get_json()["closed_reason"] == "搬家了"
