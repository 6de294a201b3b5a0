"""The signing-rate figures, against a population whose answers are worked out by hand.

Day D = 2025-06-15. Ten residents, all registered on 2024-01-01 unless said otherwise:

Alpha (served by team A)                     Beta (served by team B)
r1 born 1950, hypertension, alone            r6 born 1950, hypertension
   A: [2025-01-01, 2026-01-01) active           A: [2025-06-15, 2026-06-15) active
r2 born 1960-06-16 (65 on D+1), diabetes     r7 born 1952, alone
   A: [2024-06-01, 2025-03-01) terminated       B: [2024-06-16, 2025-06-15) expired
      early (end date 2025-06-01)            r8 born 1970, no contract
r3 born 1945, wheelchair, both conditions    r9 born 1948, diabetes
   A: [2024-05-01, 2025-05-01) renewed          B: [2025-02-01, 2026-02-01) active
   A: [2025-05-01, 2026-05-01) active        r10 born 1990, registered 2025-06-16 00:00
r4 born 1955, bedridden, alone                   Shanghai; B: [2025-06-20, 2026-06-20)
   A: [2024-04-01, 2025-04-01) expired
r5 born 1980, registered D 23:59:59 Shanghai  Gamma (served by team B): nobody
   no contract

On D: registered r1-r9; signed r1, r3, r6, r9.
"""

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from app.accounts.models import Role
from app.contracts import stats
from app.contracts.models import Contract, ContractStatus, ServicePackage
from app.extensions import db
from app.residents.models import ChronicCondition, Mobility

D = date(2025, 6, 15)
URL = "/api/v1/stats/contracts"
HT, DM = ChronicCondition.HYPERTENSION, ChronicCondition.TYPE2_DIABETES
S = ContractStatus
EARLY = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def town(make_neighbourhood, make_team, make_resident, make_user):
    alpha = make_neighbourhood(name="Alpha")
    beta = make_neighbourhood(name="Beta")
    gamma = make_neighbourhood(name="Gamma")
    team_a = make_team(name="Team A", neighbourhoods=[alpha], capacity=10)
    team_b = make_team(name="Team B", neighbourhoods=[beta, gamma])
    clerk = make_user(Role.ADMIN)

    def resident(where, born, conditions=(), created_at=EARLY, **kw):
        return make_resident(
            neighbourhood=where,
            birth_date=born,
            conditions=conditions,
            created_at=created_at,
            **kw,
        )

    def contract(who, team, start, until, status, end=None, **kw):
        row = Contract(
            resident=who,
            team=team,
            package=ServicePackage.BASIC,
            status=status,
            start_date=start,
            end_date=end or until,
            active_from=start,
            active_until=until,
            requested_by_id=clerk.id,
            **kw,
        )
        db.session.add(row)
        db.session.flush()
        return row

    r = {}
    r[1] = resident(alpha, date(1950, 1, 1), [HT], living_alone=True)
    r[2] = resident(alpha, date(1960, 6, 16), [DM])
    r[3] = resident(alpha, date(1945, 3, 3), [HT, DM], mobility=Mobility.WHEELCHAIR)
    r[4] = resident(alpha, date(1955, 7, 7), living_alone=True, mobility=Mobility.BEDRIDDEN)
    r[5] = resident(
        alpha, date(1980, 1, 1), created_at=datetime(2025, 6, 15, 15, 59, 59, tzinfo=UTC)
    )
    r[6] = resident(beta, date(1950, 2, 2), [HT])
    r[7] = resident(beta, date(1952, 2, 2), living_alone=True)
    r[8] = resident(beta, date(1970, 1, 1))
    r[9] = resident(beta, date(1948, 1, 1), [DM])
    r[10] = resident(beta, date(1990, 1, 1), created_at=datetime(2025, 6, 15, 16, 0, tzinfo=UTC))

    contract(r[1], team_a, date(2025, 1, 1), date(2026, 1, 1), S.ACTIVE)
    contract(r[2], team_a, date(2024, 6, 1), date(2025, 3, 1), S.TERMINATED, end=date(2025, 6, 1))
    old = contract(r[3], team_a, date(2024, 5, 1), date(2025, 5, 1), S.RENEWED)
    contract(r[3], team_a, date(2025, 5, 1), date(2026, 5, 1), S.ACTIVE, renews=old)
    contract(r[4], team_a, date(2024, 4, 1), date(2025, 4, 1), S.EXPIRED)
    contract(r[6], team_a, date(2025, 6, 15), date(2026, 6, 15), S.ACTIVE)
    contract(r[7], team_b, date(2024, 6, 16), date(2025, 6, 15), S.EXPIRED)
    contract(r[9], team_b, date(2025, 2, 1), date(2026, 2, 1), S.ACTIVE)
    contract(r[10], team_b, date(2025, 6, 20), date(2026, 6, 20), S.ACTIVE)
    return {
        "alpha": alpha,
        "beta": beta,
        "gamma": gamma,
        "team_a": team_a,
        "team_b": team_b,
        "admin": clerk,
        "residents": r,
    }


def counts(groups) -> dict:
    """{group: (signed, registered)} from dataclasses or JSON."""
    out = {}
    for key, figure in groups.items():
        if isinstance(figure, dict):
            out[key] = (figure["signed"], figure["registered"])
        else:
            out[key] = (figure.signed, figure.registered)
    return out


def by_id(rows, key="id"):
    return {(row[key] if isinstance(row, dict) else row.id): row for row in rows}


# --- the figures, by hand ----------------------------------------------------------------------


def test_overall_on_d_by_group(town):
    overall = stats.signing_overall(D)
    assert counts(overall) == {
        "all": (4, 9),
        "aged_65_plus": (4, 6),  # r2 is 64 until D+1; r5, r8 are younger
        "hypertension": (3, 3),
        "type2_diabetes": (2, 3),
        "living_alone": (1, 3),
        "disabled": (1, 2),
    }
    assert overall["all"].rate == pytest.approx(4 / 9)
    assert overall["hypertension"].colour == "green"
    assert overall["disabled"].colour == "yellow"  # exactly 0.50
    assert overall["type2_diabetes"].colour == "yellow"
    assert overall["living_alone"].colour == "red"


@pytest.mark.parametrize(
    ("day", "signed", "registered"),
    [
        (date(2023, 12, 31), 0, 0),  # nobody registered yet: no data
        (date(2024, 3, 1), 0, 8),  # before any contract started (r5 not yet registered)
        (date(2024, 7, 1), 4, 8),  # r2, r3 (first), r4, r7
        (date(2025, 2, 28), 6, 8),  # r1, r2, r3, r4, r7, r9
        (date(2025, 3, 1), 5, 8),  # r2's contract ended early the day before
        (date(2025, 6, 14), 4, 8),  # r1, r3 (renewed), r7 (last day), r9
        (date(2025, 6, 16), 4, 10),  # r10 registered, not yet signed; r7 expired
        (date(2025, 6, 20), 5, 10),  # r10 signed
        (date(2026, 7, 1), 0, 10),  # every contract has ended
    ],
)
def test_overall_on_several_days(town, day, signed, registered):
    figure = stats.signing_overall(day)["all"]
    assert (figure.signed, figure.registered) == (signed, registered)
    if registered == 0:
        assert figure.rate is None
        assert figure.colour is None


def test_age_is_counted_on_the_day(town):
    assert counts(stats.signing_overall(D + timedelta(days=1)))["aged_65_plus"] == (4, 7)


def test_registered_by_the_shanghai_date(town):
    # r5 was created at 23:59:59 Shanghai time on D, r10 at midnight after it.
    alpha = by_id(stats.signing_by_neighbourhood(D))[town["alpha"].id]
    assert alpha.groups["all"].registered == 5
    beta = by_id(stats.signing_by_neighbourhood(D))[town["beta"].id]
    assert beta.groups["all"].registered == 4


def test_by_neighbourhood(town):
    rows = by_id(stats.signing_by_neighbourhood(D))
    assert counts(rows[town["alpha"].id].groups) == {
        "all": (2, 5),
        "aged_65_plus": (2, 3),
        "hypertension": (2, 2),
        "type2_diabetes": (1, 2),
        "living_alone": (1, 2),
        "disabled": (1, 2),
    }
    assert counts(rows[town["beta"].id].groups) == {
        "all": (2, 4),
        "aged_65_plus": (2, 3),
        "hypertension": (1, 1),
        "type2_diabetes": (1, 1),
        "living_alone": (0, 1),
        "disabled": (0, 0),
    }
    assert rows[town["alpha"].id].groups["all"].colour == "red"  # 0.40
    assert rows[town["beta"].id].groups["disabled"].colour is None
    gamma = rows[town["gamma"].id]
    assert all(f.registered == 0 and f.rate is None for f in gamma.groups.values())
    assert [row.name for row in stats.signing_by_neighbourhood(D)] == ["Alpha", "Beta", "Gamma"]


def test_by_team_with_panel_and_capacity(town):
    rows = by_id(stats.signing_by_team(D))
    a, b = rows[town["team_a"].id], rows[town["team_b"].id]
    assert counts(a.groups)["all"] == (2, 5)  # Alpha's residents, signed with any team
    assert counts(b.groups)["all"] == (2, 4)  # Beta and Gamma; r6 counts though signed with A
    assert counts(b.groups)["living_alone"] == (0, 1)
    assert (a.panel, a.capacity) == (3, 10)  # r1, r3 and r6 (of Beta) are under contract with A
    assert (b.panel, b.capacity) == (1, None)  # r9; r7 expired on D
    later = by_id(stats.signing_by_team(date(2025, 6, 20)))
    assert later[town["team_b"].id].panel == 2


def test_renewal_rate(town):
    default = stats.renewal(*stats.default_renewal_period(D))
    assert (default.start, default.end) == (date(2024, 6, 16), D)
    # ended in the period: r3's first (renewed), r4's and r7's (expired); r2's was terminated
    assert (default.renewed, default.expired) == (1, 2)
    assert default.rate == pytest.approx(1 / 3)
    assert stats.renewal(date(2025, 4, 2), date(2025, 12, 31)).rate == 0.5
    nothing = stats.renewal(date(2020, 1, 1), date(2020, 12, 31))
    assert (nothing.renewed, nothing.expired, nothing.rate) == (0, 0, None)


def test_colours_at_the_thresholds(app):
    assert stats.colour(0.70) == "green"
    assert stats.colour(7 / 10) == "green"
    assert stats.Figure(registered=10, signed=7).colour == "green"
    assert stats.colour(0.6999) == "yellow"
    assert stats.colour(0.50) == "yellow"
    assert stats.colour(0.4999) == "red"
    assert stats.colour(0) == "red"
    assert stats.colour(None) is None
    assert stats.Figure(registered=0, signed=0).rate is None


def test_page_percentages_never_round_up_into_a_colour(app):
    from app.contracts.stats_routes import percent

    assert percent(stats.Figure(registered=3, signed=2)) == "66.7%"
    assert percent(stats.Figure(registered=10000, signed=6996)) == "69.9%"  # yellow
    assert percent(stats.Figure(registered=10, signed=7)) == "70.0%"
    assert percent(stats.Figure(registered=0, signed=0)) == "–"


def test_colours_follow_the_configuration(app, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNING_RATE_GREEN", 0.9)
    monkeypatch.setitem(app.config, "SIGNING_RATE_YELLOW", 0.8)
    assert stats.colour(0.85) == "yellow"
    assert stats.colour(0.7) == "red"
    assert stats.thresholds() == {"green": 0.9, "yellow": 0.8}


# --- the API -----------------------------------------------------------------------------------


def test_api_for_an_administrator(town, client, api_token):
    response = client.get(f"{URL}?on=2025-06-15", headers=api_token(town["admin"]))
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["on"] == "2025-06-15"
    assert data["overall"]["all"] == {
        "registered": 9,
        "signed": 4,
        "rate": pytest.approx(4 / 9),
        "colour": "red",
    }
    assert data["overall"]["disabled"]["colour"] == "yellow"
    rows = by_id(data["rows"])
    assert counts(rows[town["alpha"].id]["groups"])["all"] == (2, 5)
    assert "panel" not in rows[town["alpha"].id]
    assert rows[town["gamma"].id]["groups"]["all"] == {
        "registered": 0,
        "signed": 0,
        "rate": None,
        "colour": None,
    }
    assert data["renewal"] == {
        "from": "2024-06-16",
        "to": "2025-06-15",
        "renewed": 1,
        "expired": 2,
        "rate": pytest.approx(1 / 3),
    }
    assert data["thresholds"] == {"green": 0.7, "yellow": 0.5}


def test_api_by_team_and_renewal_period(town, client, api_token):
    query = "on=2025-06-15&by=team&renewal_from=2025-04-02&renewal_to=2025-12-31"
    data = client.get(f"{URL}?{query}", headers=api_token(town["admin"])).get_json()
    rows = by_id(data["rows"])
    assert rows[town["team_a"].id]["panel"] == 3
    assert rows[town["team_a"].id]["capacity"] == 10
    assert rows[town["team_b"].id]["capacity"] is None
    assert counts(rows[town["team_b"].id]["groups"])["all"] == (2, 4)
    assert data["renewal"]["from"] == "2025-04-02"
    assert (data["renewal"]["renewed"], data["renewal"]["expired"]) == (1, 1)


def test_api_defaults_to_today(town, client, api_token):
    from app.timeutil import local_today

    data = client.get(URL, headers=api_token(town["admin"])).get_json()
    assert data["on"] == local_today().isoformat()
    assert data["rows"]
    assert "renewal" in data


def test_a_doctor_sees_only_their_teams(town, client, api_token):
    headers = api_token(town["team_a"].lead)
    data = client.get(f"{URL}?on=2025-06-15", headers=headers).get_json()
    assert [row["id"] for row in data["rows"]] == [town["alpha"].id]
    assert counts(data["overall"])["all"] == (2, 5)  # Alpha only
    assert (data["renewal"]["renewed"], data["renewal"]["expired"]) == (1, 1)  # r3, r4
    data = client.get(f"{URL}?on=2025-06-15&by=team", headers=headers).get_json()
    assert [row["id"] for row in data["rows"]] == [town["team_a"].id]


def test_a_nurse_sees_only_their_teams(town, client, api_token):
    nurse = next(m.user for m in town["team_b"].members if m.user.role == Role.NURSE)
    data = client.get(f"{URL}?on=2025-06-15", headers=api_token(nurse)).get_json()
    assert [row["id"] for row in data["rows"]] == [town["beta"].id, town["gamma"].id]
    assert counts(data["overall"])["all"] == (2, 4)


@pytest.mark.parametrize("role", [Role.CAREGIVER, Role.RESIDENT, Role.SPECIALIST])
def test_others_are_refused(town, client, api_token, make_user, signed_in, role):
    user = make_user(role)
    assert client.get(URL, headers=api_token(user)).status_code == 403
    assert signed_in(user).get("/contracts/stats").status_code == 403


def test_anonymous_is_refused(client):
    assert client.get(URL).status_code == 401
    response = client.get("/contracts/stats")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("on=2026-13-01", "on"),
        ("on=yesterday", "on"),
        ("by=street", "by"),
        ("renewal_from=2025-05-01&renewal_to=2025-04-01", "renewal_from"),
        ("on=2025-01-01&renewal_from=2025-02-01", "renewal_from"),
        ("renewal_to=2025-02-30", "renewal_to"),
        ("colour=red", "colour"),
    ],
)
def test_bad_parameters_name_the_field(town, client, api_token, query, field):
    response = client.get(f"{URL}?{query}", headers=api_token(town["admin"]))
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["query"]


# --- the page ----------------------------------------------------------------------------------


def test_page_shows_words_numbers_and_colours(town, signed_in, make_user):
    admin = make_user(Role.ADMIN, locale="en")
    response = signed_in(admin).get("/contracts/stats?on=2025-06-15")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "44.4%" in html  # 4 of 9
    assert "66.7%" in html  # 2 of 3, rounded
    assert "4 of 9 signed" not in html  # the overall table has its own columns
    assert re.search(
        r'class="rag rag-red">\s*<strong>40.0%</strong> <span class="rag-word">Below', html
    )
    assert "2 of 5 signed" in html
    assert 'class="rag rag-green"' in html
    assert "Good" in html
    assert 'class="rag rag-yellow"' in html
    assert "Near" in html
    assert 'class="rag rag-none"' in html
    assert "No data" in html
    assert "Gamma" in html
    assert "33.3%" in html


def test_page_by_team_in_chinese(town, signed_in):
    html = (
        signed_in(town["team_a"].lead)
        .get("/contracts/stats?on=2025-06-15&by=team")
        .get_data(as_text=True)
    )
    assert "Team A" in html
    assert "Team B" not in html
    assert "未达标" in html  # below
    assert "签约率" in html


def test_page_refuses_a_bad_date_naming_the_field(town, signed_in):
    response = signed_in(town["admin"]).get("/contracts/stats?on=2026-13-01&by=street")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="on-error"' in html
    assert 'id="by-error"' in html


def test_admin_home_links_to_the_page(town, signed_in):
    html = signed_in(town["admin"]).get("/home").get_data(as_text=True)
    assert '<a href="/contracts/stats">签约率</a>' in html
