"""The alerts API: each user sees the alerts of the residents they may see (worst first, then
the longest waiting), one alert with its evidence, and acknowledges, resolves or snoozes it
when they may act; whatever they may not see answers 404, what they may only see 403."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.alerts import services
from app.alerts.models import Alert, AlertStatus, Severity
from app.audit.models import AuditEntry, Event
from app.extensions import db
from app.residents.models import CaregiverScope
from app.timeutil import utcnow


@pytest.fixture
def family(make_team, make_resident, make_link, make_user, make_resident_user):
    team = make_team()
    resident = make_resident(neighbourhood=team.neighbourhoods[0], phone="13700000009")
    carer = make_link(resident, scope=CaregiverScope.CARE, priority=1).caregiver
    viewer = make_link(resident, scope=CaregiverScope.VIEW, priority=2).caregiver
    other_team = make_team()
    stranger = make_resident(neighbourhood=other_team.neighbourhoods[0])
    return {
        "team": team,
        "doctor": team.lead,
        "resident": resident,
        "resident_user": make_resident_user(resident),
        "carer": carer,
        "viewer": viewer,
        "outsider_doctor": other_team.lead,
        "other_carer": make_link(stranger, scope=CaregiverScope.PROXY).caregiver,
        "stranger": stranger,
        "admin": make_user(Role.ADMIN),
    }


def raise_one(resident, rule="threshold:heart_rate:high", severity=Severity.HIGH, at=None):
    alert, _ = services.raise_alert(
        resident.id,
        rule,
        severity,
        "Heart rate %(value)s/min",
        {"value": 131},
        evidence=[{"metric": "heart_rate", "value": 131, "observed_at": at or utcnow()}],
        now=at,
    )
    return alert


def test_the_list_is_worst_first_then_longest_waiting(client, api_token, family):
    resident, now = family["resident"], utcnow()
    low = raise_one(resident, "r:low", Severity.LOW, now - timedelta(hours=3))
    high_new = raise_one(resident, "r:high-new", Severity.HIGH, now - timedelta(minutes=5))
    high_old = raise_one(resident, "r:high-old", Severity.HIGH, now - timedelta(hours=2))
    critical = raise_one(resident, "r:critical", Severity.CRITICAL, now - timedelta(minutes=1))
    raise_one(family["stranger"], "r:elsewhere", Severity.CRITICAL)

    response = client.get("/api/v1/alerts", headers=api_token(family["doctor"]))

    assert response.status_code == 200
    assert [a["id"] for a in response.get_json()] == [critical.id, high_old.id, high_new.id, low.id]
    assert '"total": 4' in response.headers["X-Pagination"]


def test_filters_and_a_wrong_filter_named(client, api_token, family):
    resident = family["resident"]
    kept = raise_one(resident, "r:a", Severity.CRITICAL)
    done = raise_one(resident, "r:b", Severity.HIGH)
    services.resolve(family["doctor"], done, "seen to")
    headers = api_token(family["doctor"])

    def ids(query):
        return [a["id"] for a in client.get(f"/api/v1/alerts?{query}", headers=headers).get_json()]

    assert ids("status=resolved") == [done.id]
    assert ids("active=true") == [kept.id]
    assert ids("severity=critical") == [kept.id]
    assert ids(f"resident_id={family['stranger'].id}") == []
    wrong = client.get("/api/v1/alerts?status=sleeping", headers=headers)
    assert wrong.status_code == 422
    assert "status" in wrong.get_json()["errors"]["query"]


def test_each_user_lists_only_whom_they_may_see(client, api_token, family):
    mine = raise_one(family["resident"])
    theirs = raise_one(family["stranger"])

    def listed(user):
        return [a["id"] for a in client.get("/api/v1/alerts", headers=api_token(user)).get_json()]

    assert listed(family["carer"]) == [mine.id]
    assert listed(family["viewer"]) == [mine.id]
    assert listed(family["resident_user"]) == [mine.id]
    assert listed(family["outsider_doctor"]) == [theirs.id]
    assert listed(family["other_carer"]) == [theirs.id]


def test_one_alert_with_its_evidence(client, api_token, family):
    alert = raise_one(family["resident"])
    body = client.get(f"/api/v1/alerts/{alert.id}", headers=api_token(family["carer"])).get_json()
    assert body["status"] == "open"
    assert body["text"] == "Heart rate 131/min"
    assert body["resident_name"] == family["resident"].name
    assert [(e["metric"], e["value"]) for e in body["evidence"]] == [("heart_rate", 131.0)]
    assert body["evidence_count"] == 1


@pytest.mark.parametrize("who", ["outsider_doctor", "other_carer"])
def test_what_one_may_not_see_answers_404(client, api_token, family, who):
    alert = raise_one(family["resident"])
    headers = api_token(family[who])
    assert client.get(f"/api/v1/alerts/{alert.id}", headers=headers).status_code == 404
    acted = client.post(f"/api/v1/alerts/{alert.id}/acknowledge", headers=headers, json={})
    assert acted.status_code == 404
    assert db.session.get(Alert, alert.id).status == AlertStatus.OPEN


@pytest.mark.parametrize("who", ["viewer", "resident_user"])
def test_who_may_only_see_cannot_act(client, api_token, family, who):
    alert = raise_one(family["resident"])
    headers = api_token(family[who])
    assert client.get(f"/api/v1/alerts/{alert.id}", headers=headers).status_code == 200
    until = (utcnow() + timedelta(hours=1)).isoformat()
    for action, body in (
        ("acknowledge", {}),
        ("resolve", {"note": "x"}),
        ("snooze", {"until": until}),
    ):
        response = client.post(f"/api/v1/alerts/{alert.id}/{action}", headers=headers, json=body)
        assert response.status_code == 403, action
    assert db.session.get(Alert, alert.id).status == AlertStatus.OPEN


def test_acknowledge_stops_the_ladder_and_a_second_tap_changes_nothing(client, api_token, family):
    alert = raise_one(family["resident"])
    headers = api_token(family["carer"])
    first = client.post(f"/api/v1/alerts/{alert.id}/acknowledge", headers=headers, json={})
    again = client.post(f"/api/v1/alerts/{alert.id}/acknowledge", headers=headers)
    assert first.status_code == again.status_code == 200
    body = again.get_json()
    assert body["status"] == "acknowledged"
    assert body["acknowledged_by_id"] == family["carer"].id
    assert body["next_step_at"] is None
    names = db.session.scalars(
        sa.select(Event.name).where(Event.entity_type == "alert", Event.entity_id == alert.id)
    ).all()
    assert names.count("alert.acknowledged") == 1


def test_resolve_needs_a_note_and_happens_once(client, api_token, family):
    alert = raise_one(family["resident"])
    headers = api_token(family["doctor"])
    url = f"/api/v1/alerts/{alert.id}/resolve"

    missing = client.post(url, headers=headers, json={})
    blank = client.post(url, headers=headers, json={"note": "   "})
    stray = client.post(url, headers=headers, json={"note": "ok", "colour": "red"})
    assert missing.status_code == blank.status_code == stray.status_code == 422
    assert "note" in missing.get_json()["errors"]["json"]
    assert "note" in blank.get_json()["errors"]["json"]
    assert "colour" in stray.get_json()["errors"]["json"]

    done = client.post(url, headers=headers, json={"note": "上门查看，已服药"})
    assert done.status_code == 200
    assert (done.get_json()["status"], done.get_json()["resolution_note"]) == (
        "resolved",
        "上门查看，已服药",
    )
    twice = client.post(url, headers=headers, json={"note": "again"})
    assert twice.status_code == 409
    assert twice.get_json()["current"] == "resolved"


def test_snooze_holds_the_ladder_until_a_time_within_a_day(client, api_token, family):
    alert = raise_one(family["resident"])
    headers = api_token(family["carer"])
    url = f"/api/v1/alerts/{alert.id}/snooze"

    too_far = (utcnow() + timedelta(hours=25)).isoformat()
    naive = datetime.now(UTC).replace(tzinfo=None).isoformat()
    for body in ({}, {"until": too_far}, {"until": naive}):
        response = client.post(url, headers=headers, json=body)
        assert response.status_code == 422, body
        assert "until" in response.get_json()["errors"]["json"], body

    until = (utcnow() + timedelta(minutes=30)).replace(microsecond=0)
    done = client.post(url, headers=headers, json={"until": until.isoformat()})
    assert done.status_code == 200
    assert datetime.fromisoformat(done.get_json()["snoozed_until"]) == until
    assert datetime.fromisoformat(done.get_json()["next_step_at"]) == until


def test_an_administrator_reads_with_a_reason_that_is_logged(client, api_token, family):
    alert = raise_one(family["resident"])
    headers = api_token(family["admin"])
    assert client.get(f"/api/v1/alerts/{alert.id}", headers=headers).status_code == 403
    assert client.get("/api/v1/alerts", headers=headers).status_code == 403
    headers["X-Access-Reason"] = "检查告警处理"
    assert client.get(f"/api/v1/alerts/{alert.id}", headers=headers).status_code == 200
    logged = db.session.scalars(
        sa.select(AuditEntry).where(
            AuditEntry.object_type == "alert", AuditEntry.actor_id == family["admin"].id
        )
    ).all()
    assert [(e.action, e.reason) for e in logged] == [("view", "检查告警处理")]


def test_without_a_token_nothing_is_answered(client, family):
    alert = raise_one(family["resident"])
    assert client.get("/api/v1/alerts").status_code == 401
    assert client.post(f"/api/v1/alerts/{alert.id}/acknowledge", json={}).status_code == 401
