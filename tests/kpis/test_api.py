"""The KPI API: the board of the town, a committee and a team, who may see which, the
figures (the same as test_measures'), colours and score sheet against the default targets,
and the residents behind a figure with their audit entries."""

import pytest
import sqlalchemy as sa

from app.accounts.models import Role, TeamMemberRole
from app.audit.models import AuditEntry
from app.auth.services import issue_token
from app.extensions import db
from app.residents.models import CaregiverScope
from tests.kpis.conftest import EXPECTED, P, S

BOARD = "/api/v1/kpis/board"
REASON = "季度考核"


def auth(user, reason: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {issue_token(user)[0]}"}
    if reason:
        headers["X-Access-Reason"] = reason
    return headers


def by_key(figures: list[dict]) -> dict[str, dict]:
    return {figure["key"]: figure for figure in figures}


def assert_matches(figures: list[dict], expected: dict, where: str) -> None:
    found = by_key(figures)
    assert set(found) == set(expected), where
    for key, (value, numerator, denominator) in expected.items():
        got = found[key]
        assert got["value"] == pytest.approx(value), f"{where} {key}"
        assert (got["numerator"], got["denominator"]) == (numerator, denominator), f"{where} {key}"


def errors(response) -> dict:
    """The fields named, wherever they were (the query string, or the service's check)."""
    found = {}
    for fields in response.get_json()["errors"].values():
        found |= fields
    return found


@pytest.mark.parametrize("name", ["town", "N1", "A"])
def test_an_administrator_sees_any_area(client, town, name):
    response = client.get(f"{BOARD}?{town.query(name)}", headers=auth(town.admin))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    kind, area_id = town.area(name)
    assert (body["area"]["kind"], body["area"]["id"]) == (kind.value, area_id)
    assert body["period"] == {"start": S.isoformat(), "end": P.end.isoformat()}
    assert_matches(body["figures"], EXPECTED[name], name)
    # The trend: 12 months up to P's, the last one the same figures.
    assert len(body["trend"]) == 12
    assert body["trend"][-1]["month"] == S.isoformat()
    last = body["trend"][-1]["values"]
    for key, (value, _numerator, _denominator) in EXPECTED[name].items():
        assert last[key] == pytest.approx(value), key
    if name == "town":  # the committees and teams beneath it, each with its figures
        rows = {(row["kind"], row["id"]): row for row in body["rows"]}
        for sub in ("N1", "N2", "A", "B"):
            kind, area_id = town.area(sub)
            assert_matches(rows.pop((kind.value, area_id))["figures"], EXPECTED[sub], sub)
        assert rows == {}
    else:
        assert body["rows"] == []


def test_colours_against_the_default_targets(client, town):
    body = client.get(f"{BOARD}?{town.query('town')}", headers=auth(town.admin)).get_json()
    colours = {key: figure["colour"] for key, figure in by_key(body["figures"]).items()}
    assert colours == {
        "signing_rate": "green",  # 0.6 >= 0.45
        "signing_rate_aged_65": "red",  # 0.6 < 0.65
        "follow_ups_on_time": "red",  # 0.556 < 0.8
        "hypertension_control": "yellow",  # 0.5: the yellow edge itself
        "diabetes_control": "green",  # 0.667 >= 0.6
        "referrals_up": None,  # a count: no better direction
        "referrals_down": None,
        "referral_loop_closure": "red",  # 0.5 < 0.6
        "alert_ack_median": "yellow",  # 15 < 20 <= 30 (lower is better)
        "alert_ack_p90": "yellow",  # 60 < 63 <= 120
        "alerts_escalated": "red",  # 0.375 > 0.25
        "wearable_adherence": "yellow",  # 0.6: the yellow edge itself
        "video_visits": None,  # no target by default
    }


def test_score_sheet_of_the_town(client, town):
    score = client.get(f"{BOARD}?{town.query('town')}", headers=auth(town.admin)).get_json()[
        "score"
    ]
    assert score["out_of"] == 1000
    points = {row["key"]: row["points"] for row in score["rows"]}
    assert points == {
        "signing_rate": 150.0,  # 0.6 / 0.45 > 1: full weight
        "signing_rate_aged_65": 120.0,  # 150 x 0.6 / 0.75
        "follow_ups_on_time": 92.6,  # 150 x (5/9) / 0.9 = 92.59
        "hypertension_control": 104.2,  # 125 x 0.5 / 0.6 = 104.17
        "diabetes_control": 125.0,  # (2/3) / 0.6 > 1
        "referral_loop_closure": 62.5,  # 100 x 0.5 / 0.8
        "alert_ack_median": 37.5,  # 50 x 15 / 20
        "alert_ack_p90": 47.6,  # 50 x 60 / 63 = 47.62
        "alerts_escalated": 13.3,  # 50 x 0.1 / 0.375 = 13.33
        "wearable_adherence": 37.5,  # 50 x 0.6 / 0.8
    }
    assert score["points"] == 790.2


def test_a_doctor_sees_their_own_team_and_committee(client, town):
    doctor = town.teams["A"].lead
    for name in ("A", "N1"):
        response = client.get(f"{BOARD}?{town.query(name)}", headers=auth(doctor))
        assert response.status_code == 200, name
        assert_matches(response.get_json()["figures"], EXPECTED[name], name)
    nurse = next(m.user for m in town.teams["A"].members if m.member_role == TeamMemberRole.NURSE)
    assert client.get(f"{BOARD}?{town.query('A')}", headers=auth(nurse)).status_code == 200
    # No area named: their first team.
    body = client.get(f"{BOARD}?start={S}&end={P.end}", headers=auth(doctor)).get_json()
    assert body["area"]["id"] == town.area("A")[1]


@pytest.mark.parametrize(("name", "status"), [("town", 403), ("B", 403), ("N2", 403)])
def test_a_doctor_is_refused_other_areas(client, town, name, status):
    response = client.get(f"{BOARD}?{town.query(name)}", headers=auth(town.teams["A"].lead))
    assert response.status_code == status


def test_an_unknown_team_is_not_found(client, town):
    response = client.get(f"{BOARD}?area=team&area_id=999999", headers=auth(town.admin))
    assert response.status_code == 404


def test_an_unknown_team_is_not_found_for_a_doctor_either(client, town):
    response = client.get(f"{BOARD}?area=team&area_id=999999", headers=auth(town.teams["A"].lead))
    assert response.status_code == 404


def test_residents_caregivers_and_specialists_are_refused(
    client, town, make_resident_user, make_link, make_user
):
    resident = make_resident_user(town.people["a1"])
    caregiver = make_link(town.people["a1"], scope=CaregiverScope.PROXY).caregiver
    for user in (resident, caregiver, make_user(Role.SPECIALIST)):
        headers = auth(user)
        assert client.get(f"{BOARD}?{town.query('A')}", headers=headers).status_code == 403
        assert client.get("/api/v1/kpis", headers=headers).status_code == 403
        path = f"/api/v1/kpis/signing_rate/residents?{town.query('A')}"
        assert client.get(path, headers=headers).status_code == 403
    assert client.get(f"{BOARD}?{town.query('A')}").status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("area=town&start=2026-03-10&end=2026-03-01", "start"),  # starts after it ends
        ("area=town&start=2021-01-01&end=2024-12-31", "start"),  # four years
        ("area=street&start=2026-03-01&end=2026-03-31", "area"),
        ("area=team&start=2026-03-01&end=2026-03-31", "area_id"),
        ("area=town&start=2026-02-30", "start"),
    ],
)
def test_a_bad_request_names_the_field(client, town, query, field):
    response = client.get(f"{BOARD}?{query}", headers=auth(town.admin))
    assert response.status_code == 422
    assert field in errors(response)


def test_definitions(client, town):
    body = client.get("/api/v1/kpis", headers=auth(town.teams["A"].lead)).get_json()
    assert [kpi["key"] for kpi in body][:2] == ["signing_rate", "signing_rate_aged_65"]
    assert sum(kpi["weight"] for kpi in body) == 1000
    assert all(kpi["label"] and kpi["description"] for kpi in body)


# --- the residents behind a figure ---------------------------------------------------------------


def residents(client, town, key, name, user, reason=REASON, extra=""):
    path = f"/api/v1/kpis/{key}/residents?{town.query(name)}{extra}"
    return client.get(path, headers=auth(user, reason if user.role == Role.ADMIN else None))


def ids(response) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return sorted(item["resident_id"] for item in response.get_json()["items"])


def test_unsigned_residents_of_an_area(client, town):
    p = town.people
    unsigned = sorted([p["a4"].id, p["a5"].id])
    for name in ("N1", "A"):
        got = residents(client, town, "signing_rate", name, town.admin, extra="&met=false")
        assert ids(got) == unsigned, name
    got = residents(client, town, "signing_rate", "town", town.admin, extra="&met=false")
    assert ids(got) == sorted([*unsigned, p["b2"].id, p["b4"].id])
    signed = residents(client, town, "signing_rate", "N1", town.admin, extra="&met=true")
    assert ids(signed) == sorted(p[k].id for k in ("a1", "a2", "a3", "a6"))
    body = signed.get_json()
    assert body["total"] == 4
    assert {item["neighbourhood"] for item in body["items"]} == {"东一居委"}


def test_a_doctor_sees_only_residents_visible_to_them(client, town):
    # Team A's follow-up f9 is of b2, who lives in N2 and is not signed with team A: the
    # administrator sees that row, team A's doctor does not.
    p = town.people
    admin = residents(client, town, "follow_ups_on_time", "A", town.admin)
    assert ids(admin) == sorted(p[k].id for k in ("a1", "a2", "a3", "a4", "a5", "b2"))
    doctor = residents(client, town, "follow_ups_on_time", "A", town.teams["A"].lead)
    assert ids(doctor) == sorted(p[k].id for k in ("a1", "a2", "a3", "a4", "a5"))
    late = residents(
        client, town, "follow_ups_on_time", "A", town.teams["A"].lead, extra="&met=false"
    )
    assert ids(late) == sorted(p[k].id for k in ("a3", "a4"))  # f3 late, f4 missed (f9 hidden)
    refused = residents(client, town, "follow_ups_on_time", "N2", town.teams["A"].lead)
    assert refused.status_code == 403


def test_an_administrator_gives_a_reason(client, town):
    response = residents(client, town, "signing_rate", "N1", town.admin, reason=None)
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


def test_each_resident_listed_is_audited(client, town):
    got = residents(client, town, "signing_rate", "N1", town.admin, extra="&met=false")
    entries = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "kpi_drilldown")
    ).all()
    assert sorted(e.resident_id for e in entries) == ids(got)
    assert {(e.actor_id, e.object_type, e.object_id, e.reason) for e in entries} == {
        (town.admin.id, "kpi", "signing_rate", REASON)
    }


def test_an_unknown_figure_is_not_found(client, town):
    assert residents(client, town, "no_such_kpi", "A", town.teams["A"].lead).status_code == 404


def test_the_alerts_behind_the_escalated_share_and_the_response_times(client, town):
    p = town.people
    escalated = residents(client, town, "alerts_escalated", "town", town.admin, extra="&met=true")
    assert ids(escalated) == sorted(p[k].id for k in ("a5", "a6", "b3"))  # al4, al5, al7
    never_acted = residents(
        client, town, "alert_ack_median", "town", town.admin, extra="&met=false"
    )
    assert ids(never_acted) == [p["b3"].id]  # al7: nobody acknowledged or resolved it
