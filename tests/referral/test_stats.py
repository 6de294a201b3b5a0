"""The referral figures, against a population whose answers are worked out by hand.

Period P = [2025-06-01, 2025-06-30] (Shanghai), i.e. [05-31 16:00 UTC, 06-30 16:00 UTC).
Alpha Hospital (district): Cardiology (C), Endocrinology (E); Beta Hospital (municipal):
Neurology (N), Orthopaedics (O, never referred to). Teams A and B. Times are Shanghai's.

 #   team dept urgency   sent         accepted        returned     status       closed
 1   A    C    routine   05-31 22:00  06-01 00:00 2h  -            accepted     -
 2   A    C    urgent    06-03 08:00  06-03 12:00 4h  06-10        returned     -
 3   A    E    routine   06-04 08:00  06-04 14:00 6h  06-08        closed       06-09 08:00 (5 d)
 4   B    N    emergency 06-05 00:00  06-05 10:00 10h -            admitted     -
 5   B    C    routine   06-01 00:00  -               -            rejected "不需要转诊"
 6   A    C    urgent    05-31 20:00  05-31 23:59:59  -            completed    -
 7   B    E    urgent    06-30 23:00  07-01 00:00     -            accepted     -
 8   A    E    routine   06-15 08:00  -               -            rejected " 不需要转诊 "
 9   A    N    routine   06-16 08:00  -               -            rejected "资料不全"
10   A    C    routine   05-20 08:00  -               -            rejected "科室满员"
11   B    N    routine   05-10 08:00  05-10 12:00     06-30 23:59:59  closed    07-01 08:00 (52 d)
12   A    C    routine   05-01 08:00  05-01 12:00     05-31 23:59:59  closed    06-01 08:00
13   B    C    routine   05-15 08:00  05-15 10:00     06-20        return_accepted -
14   A    C    routine   (draft, never sent)
15   A    C    routine   07-01 00:00  -               -            sent         -
16   B    E    routine   06-20 08:00  -               -            cancelled    -

Over P: up (sent in P) = 2, 3, 4, 5, 7, 8, 9, 16 = 8 (routine 5, urgent 2, emergency 1);
down (returned in P) = 2, 3, 11, 13 = 4; accepted in P = 1, 2, 3, 4 (2, 4, 6, 10 hours:
median 5.0; p90 at position 3 x 0.9 = 2.7, so 6 + 0.7 x (10 - 6) = 8.8); rejected of those
sent in P = 5, 8, 9 (不需要转诊 2, 资料不全 1; the reason is trimmed); of the 4 returned,
3 and 11 are closed (share 0.5; 5 and 52 days: median 28.5); open loops now = 1, 2, 4, 6,
7, 13 = 6.
"""

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from app.accounts.models import OrganisationKind, Role
from app.extensions import db
from app.timeutil import LOCAL_TZ, local_today
from referral import stats
from referral.models import Referral, ReferralReturn, ReferralStatus, Urgency

URL = "/api/v1/stats/referrals"
PAGE = "/referrals/stats"
P = "from=2025-06-01&to=2025-06-30"
S = ReferralStatus
NO_REASONS = {"count": 0, "reasons": []}


def sh(month, day, hour=0, minute=0, second=0):
    """A Shanghai wall-clock time in 2025, as an aware UTC datetime."""
    return datetime(2025, month, day, hour, minute, second, tzinfo=LOCAL_TZ).astimezone(UTC)


@pytest.fixture
def town(make_org, make_team, make_user, make_resident):
    alpha = make_org(OrganisationKind.DISTRICT_HOSPITAL, name="Alpha Hospital")
    beta = make_org(OrganisationKind.MUNICIPAL_HOSPITAL, name="Beta Hospital")
    dept = {
        "C": make_org(OrganisationKind.DEPARTMENT, parent=alpha, name="Cardiology"),
        "E": make_org(OrganisationKind.DEPARTMENT, parent=alpha, name="Endocrinology"),
        "N": make_org(OrganisationKind.DEPARTMENT, parent=beta, name="Neurology"),
        "O": make_org(OrganisationKind.DEPARTMENT, parent=beta, name="Orthopaedics"),
    }
    teams = {"A": make_team(name="Team A"), "B": make_team(name="Team B")}
    residents = {k: make_resident(neighbourhood=t.neighbourhoods[0]) for k, t in teams.items()}
    specialist = make_user(Role.SPECIALIST, organisation_id=dept["C"].id)

    def referral(n, team, where, sent, status, urgency=Urgency.ROUTINE, **kw):
        returned = kw.pop("returned", None)
        department = dept[where]
        row = Referral(
            resident=residents[team],
            team=teams[team],
            referring_doctor_id=teams[team].lead.id,
            hospital_id=department.parent_id,
            department=department,
            urgency=urgency,
            status=status,
            reason=f"referral {n}",
            clinical_summary="血压偏高",
            sent_at=sent,
            **kw,
        )
        db.session.add(row)
        db.session.flush()
        if returned is not None:
            db.session.add(
                ReferralReturn(
                    referral=row,
                    discharge_summary="好转",
                    diagnoses="高血压",
                    care_plan="随访",
                    returned_by_id=specialist.id,
                    returned_at=returned,
                )
            )
        return row

    U = Urgency
    referral(1, "A", "C", sh(5, 31, 22), S.ACCEPTED, accepted_at=sh(6, 1))
    referral(
        2, "A", "C", sh(6, 3, 8), S.RETURNED, U.URGENT, accepted_at=sh(6, 3, 12), returned=sh(6, 10)
    )
    referral(
        3,
        "A",
        "E",
        sh(6, 4, 8),
        S.CLOSED,
        accepted_at=sh(6, 4, 14),
        returned=sh(6, 8),
        closed_at=sh(6, 9, 8),
    )
    referral(4, "B", "N", sh(6, 5), S.ADMITTED, U.EMERGENCY, accepted_at=sh(6, 5, 10))
    referral(5, "B", "C", sh(6, 1), S.REJECTED, rejection_reason="不需要转诊")
    referral(6, "A", "C", sh(5, 31, 20), S.COMPLETED, U.URGENT, accepted_at=sh(5, 31, 23, 59, 59))
    referral(7, "B", "E", sh(6, 30, 23), S.ACCEPTED, U.URGENT, accepted_at=sh(7, 1))
    referral(8, "A", "E", sh(6, 15, 8), S.REJECTED, rejection_reason=" 不需要转诊 ")
    referral(9, "A", "N", sh(6, 16, 8), S.REJECTED, rejection_reason="资料不全")
    referral(10, "A", "C", sh(5, 20, 8), S.REJECTED, rejection_reason="科室满员")
    referral(
        11,
        "B",
        "N",
        sh(5, 10, 8),
        S.CLOSED,
        accepted_at=sh(5, 10, 12),
        returned=sh(6, 30, 23, 59, 59),
        closed_at=sh(7, 1, 8),
    )
    referral(
        12,
        "A",
        "C",
        sh(5, 1, 8),
        S.CLOSED,
        accepted_at=sh(5, 1, 12),
        returned=sh(5, 31, 23, 59, 59),
        closed_at=sh(6, 1, 8),
    )
    referral(
        13, "B", "C", sh(5, 15, 8), S.RETURN_ACCEPTED, accepted_at=sh(5, 15, 10), returned=sh(6, 20)
    )
    referral(14, "A", "C", None, S.DRAFT)
    referral(15, "A", "C", sh(7, 1), S.SENT)
    referral(16, "B", "E", sh(6, 20, 8), S.CANCELLED)
    return {
        "alpha": alpha,
        "beta": beta,
        "dept": dept,
        "teams": teams,
        "specialist": specialist,
        "admin": make_user(Role.ADMIN),
    }


def figures_of(data) -> dict:
    """The figures of one block (overall or a row) as plain JSON, whatever the source."""
    if not isinstance(data, dict):
        from dataclasses import asdict

        data = asdict(data)
    keys = ("up", "down", "acceptance", "rejections", "loop", "open_loops")
    return {k: data[k] for k in keys}


def block(up, down, accepted, rejections, loop, open_loops) -> dict:
    """accepted = (count, median, p90); loop = (returned, closed, share, median days)."""
    count, med, p90 = accepted
    returned, closed, share, days = loop
    return {
        "up": up,
        "down": down,
        "acceptance": {"count": count, "median_hours": med, "p90_hours": p90},
        "rejections": rejections,
        "loop": {
            "returned": returned,
            "closed": closed,
            "closed_share": share,
            "median_days_to_close": days,
        },
        "open_loops": open_loops,
    }


def reasons(*pairs) -> dict:
    return {
        "count": sum(n for _, n in pairs),
        "reasons": [{"reason": r, "count": n} for r, n in pairs],
    }


ZERO = block(0, 0, (0, None, None), NO_REASONS, (0, 0, None, None), 0)
OVERALL = block(
    8, 4, (4, 5.0, 8.8), reasons(("不需要转诊", 2), ("资料不全", 1)), (4, 2, 0.5, 28.5), 6
)
HOSPITAL_ALPHA = block(
    6, 3, (3, 4.0, 5.6), reasons(("不需要转诊", 2)), (3, 1, pytest.approx(1 / 3), 5.0), 5
)
HOSPITAL_BETA = block(2, 1, (1, 10.0, 10.0), reasons(("资料不全", 1)), (1, 1, 1.0, 52.0), 1)
CARDIOLOGY = block(2, 2, (2, 3.0, 3.8), reasons(("不需要转诊", 1)), (2, 0, 0.0, None), 4)
ENDOCRINOLOGY = block(4, 1, (1, 6.0, 6.0), reasons(("不需要转诊", 1)), (1, 1, 1.0, 5.0), 1)
TEAM_A = block(
    4, 2, (3, 4.0, 5.6), reasons(("不需要转诊", 1), ("资料不全", 1)), (2, 1, 0.5, 5.0), 3
)
TEAM_B = block(4, 2, (1, 10.0, 10.0), reasons(("不需要转诊", 1)), (2, 1, 0.5, 52.0), 3)


def rows_by_name(rows) -> dict:
    return {row["name"]: row for row in rows}


def june(user, by="hospital"):
    return stats.report(user, date(2025, 6, 1), date(2025, 6, 30), by)


# --- the computations, by hand -----------------------------------------------------------------


def test_percentiles_interpolate_between_ranks():
    assert stats.median([10, 2, 6, 4]) == 5.0
    assert stats.percentile([2, 4, 6, 10], 0.9) == pytest.approx(8.8)
    assert stats.percentile([2, 4, 6], 0.9) == pytest.approx(5.6)
    assert stats.percentile([7], 0.9) == 7
    assert stats.median([]) is None
    assert stats.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 0.9) == 10


def test_only_the_ten_most_frequent_reasons_are_listed():
    tally = stats.Tally()
    for i in range(12):
        tally.rejected[f"reason {i:02d}"] = 12 - i  # reason 00: 12 times ... reason 11: once
    tally.rejected[None] = 12  # no reason given ties with the first, and comes after it
    listed = tally.figures().rejections
    assert listed.count == sum(range(1, 13)) + 12
    assert [r["reason"] for r in listed.reasons[:3]] == ["reason 00", None, "reason 01"]
    assert len(listed.reasons) == 10
    assert listed.reasons[-1] == {"reason": "reason 08", "count": 4}


def test_overall(town):
    report = june(town["admin"])
    assert figures_of(report["overall"]) == OVERALL
    assert report["overall"].up_by_urgency == {"routine": 5, "urgent": 2, "emergency": 1}
    assert (report["start"], report["end"]) == (date(2025, 6, 1), date(2025, 6, 30))


def test_by_hospital(town):
    rows = june(town["admin"])["rows"]
    assert [row["name"] for row in rows] == ["Alpha Hospital", "Beta Hospital"]
    assert figures_of(rows[0]) == HOSPITAL_ALPHA
    assert figures_of(rows[1]) == HOSPITAL_BETA
    assert "hospital" not in rows[0]


def test_by_department_lists_every_department(town):
    rows = rows_by_name(june(town["admin"], "department")["rows"])
    assert list(rows) == ["Cardiology", "Endocrinology", "Neurology", "Orthopaedics"]
    assert figures_of(rows["Cardiology"]) == CARDIOLOGY
    assert figures_of(rows["Endocrinology"]) == ENDOCRINOLOGY
    assert figures_of(rows["Neurology"]) == HOSPITAL_BETA
    assert figures_of(rows["Orthopaedics"]) == ZERO
    assert rows["Neurology"]["hospital"] == "Beta Hospital"


def test_by_team(town):
    rows = rows_by_name(june(town["admin"], "team")["rows"])
    assert list(rows) == ["Team A", "Team B"]
    assert figures_of(rows["Team A"]) == TEAM_A
    assert figures_of(rows["Team B"]) == TEAM_B


@pytest.mark.parametrize(
    ("day", "up", "down", "accepted"),
    [
        # 1 and 6 sent on 05-31 (22:00, 20:00); 6 accepted 23:59:59; 12 returned 23:59:59
        (date(2025, 5, 31), 2, 1, (1, 4.0, 4.0)),
        # 5 sent at 00:00:00 and 1 accepted at 00:00:00 belong to 06-01
        (date(2025, 6, 1), 1, 0, (1, 2.0, 2.0)),
        # 7 sent 23:00, 11 returned 23:59:59
        (date(2025, 6, 30), 1, 1, (0, None, None)),
        # 15 sent and 7 accepted at 00:00:00 (7 took 1 hour)
        (date(2025, 7, 1), 1, 0, (1, 1.0, 1.0)),
    ],
)
def test_period_boundaries_are_shanghai_days(town, day, up, down, accepted):
    figures = stats.report(town["admin"], day, day)["overall"]
    assert (figures.up, figures.down) == (up, down)
    acceptance = figures.acceptance
    assert (acceptance.count, acceptance.median_hours, acceptance.p90_hours) == accepted
    assert figures.open_loops == 6  # now, whatever the period


def test_a_closed_loop_counts_when_its_return_falls_in_the_period(town):
    may = stats.report(town["admin"], date(2025, 5, 1), date(2025, 5, 31))["overall"]
    # 12 returned on 05-31 and closed on 06-01: sent 05-01 08:00, closed 31 days later
    assert (may.loop.returned, may.loop.closed, may.loop.median_days_to_close) == (1, 1, 31.0)
    assert may.loop.closed_share == 1.0
    # 10 (sent 05-20) is the only rejection of May
    assert may.rejections.reasons == [{"reason": "科室满员", "count": 1}]


def test_default_period_is_the_30_days_up_to_today(town):
    report = stats.report(town["admin"])
    assert report["end"] == local_today()
    assert report["start"] == local_today() - timedelta(days=29)
    assert stats.period(None, date(2025, 6, 30)) == (date(2025, 6, 1), date(2025, 6, 30))
    assert stats.period(date(2025, 1, 1), None, today=date(2025, 2, 1)) == (
        date(2025, 1, 1),
        date(2025, 2, 1),
    )


# --- who sees what -----------------------------------------------------------------------------


def test_a_doctor_counts_only_their_team(town):
    doctor = town["teams"]["A"].lead
    assert figures_of(june(doctor)["overall"]) == TEAM_A
    assert [row["name"] for row in june(doctor, "team")["rows"]] == ["Team A"]
    hospitals = rows_by_name(june(doctor)["rows"])
    assert (hospitals["Alpha Hospital"]["up"], hospitals["Beta Hospital"]["up"]) == (3, 1)


def test_a_specialist_counts_only_their_department(town):
    report = june(town["specialist"])
    assert figures_of(report["overall"]) == CARDIOLOGY
    assert [row["name"] for row in report["rows"]] == ["Alpha Hospital"]
    assert figures_of(report["rows"][0]) == CARDIOLOGY
    assert [row["name"] for row in june(town["specialist"], "department")["rows"]] == ["Cardiology"]
    # Teams are listed as they referred to the department: sent in June, 2 for A, 5 for B.
    teams = rows_by_name(june(town["specialist"], "team")["rows"])
    assert (teams["Team A"]["up"], teams["Team B"]["up"]) == (1, 1)
    assert (teams["Team A"]["open_loops"], teams["Team B"]["open_loops"]) == (3, 1)


def test_a_specialist_of_another_department_counts_nothing(town, make_user):
    orthopaedist = make_user(Role.SPECIALIST, organisation_id=town["dept"]["O"].id)
    report = june(orthopaedist, "department")
    assert figures_of(report["overall"]) == ZERO
    assert [row["name"] for row in report["rows"]] == ["Orthopaedics"]
    assert figures_of(june(make_user(Role.SPECIALIST))["overall"]) == ZERO  # no department


def test_a_doctor_without_a_team_counts_nothing(town, make_user):
    report = june(make_user(Role.DOCTOR), "team")
    assert figures_of(report["overall"]) == ZERO
    assert report["rows"] == []


# --- the API -----------------------------------------------------------------------------------


def test_api_for_an_administrator(town, client, api_token):
    response = client.get(f"{URL}?{P}", headers=api_token(town["admin"]))
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert (data["from"], data["to"], data["by"]) == ("2025-06-01", "2025-06-30", "hospital")
    assert figures_of(data["overall"]) == OVERALL
    assert data["overall"]["up_by_urgency"] == {"routine": 5, "urgent": 2, "emergency": 1}
    rows = rows_by_name(data["rows"])
    assert figures_of(rows["Alpha Hospital"]) == HOSPITAL_ALPHA
    assert rows["Alpha Hospital"]["id"] == town["alpha"].id
    assert "up_by_urgency" not in rows["Alpha Hospital"]


def test_api_by_department_and_team(town, client, api_token):
    headers = api_token(town["admin"])
    data = client.get(f"{URL}?{P}&by=department", headers=headers).get_json()
    rows = rows_by_name(data["rows"])
    assert figures_of(rows["Endocrinology"]) == ENDOCRINOLOGY
    assert rows["Endocrinology"]["hospital"] == "Alpha Hospital"
    assert figures_of(rows["Orthopaedics"]) == ZERO
    data = client.get(f"{URL}?{P}&by=team", headers=headers).get_json()
    assert figures_of(rows_by_name(data["rows"])["Team B"]) == TEAM_B


def test_api_defaults_to_the_last_30_days(town, client, api_token):
    data = client.get(URL, headers=api_token(town["admin"])).get_json()
    assert data["to"] == local_today().isoformat()
    assert data["from"] == (local_today() - timedelta(days=29)).isoformat()
    assert data["by"] == "hospital"
    only_to = client.get(f"{URL}?to=2025-06-30", headers=api_token(town["admin"])).get_json()
    assert only_to["from"] == "2025-06-01"
    assert only_to["overall"]["up"] == 8


def test_api_for_a_nurse_and_a_specialist(town, client, api_token):
    nurse = next(m.user for m in town["teams"]["B"].members if m.user.role == Role.NURSE)
    data = client.get(f"{URL}?{P}&by=team", headers=api_token(nurse)).get_json()
    assert figures_of(data["overall"]) == TEAM_B
    assert [row["name"] for row in data["rows"]] == ["Team B"]
    data = client.get(f"{URL}?{P}", headers=api_token(town["specialist"])).get_json()
    assert figures_of(data["overall"]) == CARDIOLOGY


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.CAREGIVER])
def test_others_are_refused(town, client, api_token, make_user, signed_in, role):
    user = make_user(role)
    assert client.get(URL, headers=api_token(user)).status_code == 403
    assert signed_in(user).get(PAGE).status_code == 403


def test_anonymous_is_refused(client):
    assert client.get(URL).status_code == 401
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2025-13-01", "from"),
        ("to=yesterday", "to"),
        ("by=street", "by"),
        ("from=2025-07-01&to=2025-06-30", "from"),
        (f"from={(local_today() + timedelta(days=1)).isoformat()}", "from"),  # after today
        ("colour=red", "colour"),
    ],
)
def test_bad_parameters_name_the_field(town, client, api_token, query, field):
    response = client.get(f"{URL}?{query}", headers=api_token(town["admin"]))
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["query"]


def test_the_loop_through_the_api_is_counted(client, loop, referral_body):
    """A referral sent, accepted, returned and closed through the API counts today; the
    department's specialist sees it, the other department's sees nothing."""
    headers = loop["doctor"]

    def post(path, who, body=None):
        response = client.post(f"/api/v1/referrals/{rid}{path}", json=body or {}, headers=who)
        assert response.status_code == 200, response.get_json()

    rid = client.post("/api/v1/referrals", json=referral_body, headers=headers).get_json()["id"]
    post("/send", headers, {"slot_id": loop["slots"][0].id})
    post("/accept", loop["specialist"])
    body = {"discharge_summary": "好转", "diagnoses": "高血压", "care_plan": "随访"}
    post("/return", loop["specialist"], body)
    post("/accept_return", loop["nurse"])
    post("/acknowledge", headers)
    for who in (headers, loop["specialist"]):
        overall = client.get(URL, headers=who).get_json()["overall"]
        assert (overall["up"], overall["down"], overall["acceptance"]["count"]) == (1, 1, 1)
        assert overall["up_by_urgency"]["urgent"] == 1
        assert (overall["loop"]["closed_share"], overall["open_loops"]) == (1.0, 0)
        assert overall["loop"]["median_days_to_close"] == 0.0
    other = client.get(f"{URL}?by=department", headers=loop["other_specialist"]).get_json()
    assert figures_of(other["overall"]) == ZERO
    assert [row["id"] for row in other["rows"]] == [loop["endocrine"].id]


# --- the page ----------------------------------------------------------------------------------


def test_page_shows_the_figures(town, signed_in, make_user):
    admin = make_user(Role.ADMIN, locale="en")
    response = signed_in(admin).get(f"{PAGE}?{P}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r"Median time to acceptance \(hours\)</dt><dd>5.0</dd>", html)
    assert "<dd>8.8</dd>" in html
    assert re.search(r"<strong>50.0%</strong>\s*2 of 4 returned", html)
    assert "<dd>28.5</dd>" in html
    assert re.search(r"Emergency</th><td>1</td>", html)
    assert re.search(r"不需要转诊</th><td>2</td>", html)
    assert "Alpha Hospital" in html
    assert "33.3%" in html  # Alpha: 1 of 3 returned closed


def test_page_by_team_for_a_doctor_in_chinese(town, signed_in):
    html = signed_in(town["teams"]["A"].lead).get(f"{PAGE}?{P}&by=team").get_data(as_text=True)
    assert "Team A" in html
    assert "Team B" not in html
    assert "转诊统计" in html
    assert "仅统计您所在团队的转诊。" in html


def test_page_by_department_for_a_specialist(town, signed_in):
    html = signed_in(town["specialist"]).get(f"{PAGE}?{P}&by=department").get_data(as_text=True)
    assert "Cardiology" in html
    assert "Neurology" not in html


def test_page_refuses_bad_parameters_naming_the_field(town, signed_in):
    client = signed_in(town["admin"])
    response = client.get(f"{PAGE}?from=2025-13-01&by=street")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="from-error"' in html
    assert 'id="by-error"' in html
    response = client.get(f"{PAGE}?from=2025-07-01&to=2025-06-30")
    assert response.status_code == 422
    assert 'id="from-error"' in response.get_data(as_text=True)


def test_page_defaults_to_the_last_30_days(town, signed_in):
    html = signed_in(town["admin"]).get(PAGE).get_data(as_text=True)
    assert f'value="{local_today().isoformat()}"' in html
    assert f'value="{(local_today() - timedelta(days=29)).isoformat()}"' in html


def test_admin_home_links_to_the_page(town, signed_in):
    html = signed_in(town["admin"]).get("/home").get_data(as_text=True)
    assert '<a href="/referrals/stats">转诊统计</a>' in html
