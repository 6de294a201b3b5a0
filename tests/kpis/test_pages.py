"""The KPI pages as a user meets them: the board (admin's town, a doctor's team), its colour
words against the API's colours, the trend charts, who is refused, the residents behind a
figure, and the settings sheet.

The world, known by construction: team A serves committee A, where four residents born in
1950 live and one is signed with team A (signing rate 1 / 4 = 25.0%, under the 35% yellow
edge: red, 未达标); team B serves committee B, with one resident, signed (100%: 达标).
"""

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext

from app.accounts.models import Role
from app.audit.models import AuditEntry, Event
from app.extensions import db
from app.followups.models import FollowUp, FollowUpMode, FollowUpSource, FollowUpStatus
from app.kpis import labels, registry, settings
from app.kpis.models import KpiSetting
from app.timeutil import local_today
from tests.conftest import csrf_from, sign_in

WORDS = {"green": "达标", "yellow": "接近", "red": "未达标"}


@pytest.fixture
def world(make_team, make_resident, make_contract, make_user):
    team_a, team_b = make_team(name="甲团队"), make_team(name="乙团队")
    area_a, area_b = team_a.neighbourhoods[0], team_b.neighbourhoods[0]
    ours = [make_resident(area_a, name=f"甲居民{n}") for n in range(4)]
    theirs = make_resident(area_b, name="乙居民")
    make_contract(ours[0], team_a, team_a.lead)
    make_contract(theirs, team_b, team_b.lead)
    db.session.flush()
    return {
        "team_a": team_a,
        "team_b": team_b,
        "doctor": team_a.lead,
        "admin": make_user(Role.ADMIN),
        "ours": ours,
        "theirs": theirs,
    }


def zh(app, message: str) -> str:
    """What the pages say for `message` in Chinese (whatever the catalogue holds today)."""
    with app.test_request_context(), force_locale("zh_CN"):
        text = gettext(message)
    return text[:1].upper() + text[1:]


def card(html: str, key: str) -> str:
    """The board's card of one KPI."""
    found = re.search(rf'<li[^>]*data-kpi="{key}".*?</li>', html, re.DOTALL)
    assert found, f"no card for {key}"
    return found.group(0)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_doctor_lands_on_their_team_and_the_words_match_the_api(world, signed_in):
    client = signed_in(world["doctor"])
    response = client.get("/kpis")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "甲团队" in html
    assert "乙团队" not in html
    signing = text(card(html, "signing_rate"))
    assert "签约率" in signing
    assert "25.0%" in signing
    assert "1 / 4" in signing

    api = client.get(f"/api/v1/kpis/board?area=team&area_id={world['team_a'].id}").get_json()
    figure = next(f for f in api["figures"] if f["key"] == "signing_rate")
    assert (figure["numerator"], figure["denominator"], figure["colour"]) == (1, 4, "red")
    assert WORDS[figure["colour"]] in signing
    # the key groups under the signing rate: all four are 65 and over
    assert re.search(r"65.*?25\.0%.*?1 / 4", signing)
    # every KPI has its card and its chart, an inline SVG named for screen readers
    assert len(re.findall(r'<svg[^>]*role="img"[^>]*aria-label="[^"]+"', html)) == len(
        registry.all_kpis()
    )
    assert "<?xml" not in html
    assert "<!DOCTYPE svg" not in html


def test_admin_sees_the_town_with_a_row_per_committee_and_team(world, signed_in):
    client = signed_in(world["admin"])
    html = client.get("/kpis").get_data(as_text=True)
    # the town: 2 of 5 signed (40.0%), between the yellow edge (35%) and the target (45%)
    assert "40.0%" in text(card(html, "signing_rate"))
    assert "接近" in text(card(html, "signing_rate"))
    rows = re.search(r'<table class="rag-table kpi-rows">.*?</table>', html, re.DOTALL).group(0)
    for team in (world["team_a"], world["team_b"]):
        assert f"area=team&amp;area_id={team.id}" in rows
    b_row = re.search(r"<tr>\s*<th scope=\"row\"><a[^>]*>[^<]*乙团队.*?</tr>", rows, re.DOTALL)
    assert "100.0%" in b_row.group(0)
    assert "达标" in b_row.group(0)
    score = text(re.search(r'<table class="kpi-score">.*?</table>', html, re.DOTALL).group(0))
    assert re.search(r"\d+\.\d / 1000", score)
    # a committee's own board, reached from its row
    area = world["team_b"].neighbourhoods[0]
    page = client.get(f"/kpis?area=neighbourhood&area_id={area.id}").get_data(as_text=True)
    assert "100.0%" in text(card(page, "signing_rate"))


def test_who_is_refused_and_why(app, world, signed_in, make_user):
    client = signed_in(world["doctor"])
    assert client.get("/kpis?area=town").status_code == 403
    other = client.get(f"/kpis?area=team&area_id={world['team_b'].id}")
    assert other.status_code == 403
    assert zh(app, "this area is not one of yours") in other.get_data(as_text=True)
    bad = client.get("/kpis?start=2025-02-30")
    assert bad.status_code == 422
    assert 'class="field-error"' in bad.get_data(as_text=True)
    long = client.get("/kpis?start=2020-01-01&end=2025-01-01")
    assert long.status_code == 422
    assert re.search(r'field-error" id="start-error"', long.get_data(as_text=True))
    caregiver = app.test_client()
    sign_in(caregiver, make_user(Role.CAREGIVER))
    assert caregiver.get("/kpis").status_code == 403


def test_drill_down_lists_only_what_the_doctor_may_see(world, signed_in):
    client = signed_in(world["doctor"])
    team = world["team_a"].id
    url = f"/kpis/signing_rate/residents?area=team&area_id={team}"
    html = client.get(url).get_data(as_text=True)
    for resident in world["ours"]:
        assert resident.name in html
    assert "乙居民" not in html
    unsigned = client.get(url + "&met=0").get_data(as_text=True)
    assert world["ours"][0].name not in unsigned  # the signed one counts
    assert all(r.name in unsigned for r in world["ours"][1:])
    refused = client.get(f"/kpis/signing_rate/residents?area=team&area_id={world['team_b'].id}")
    assert refused.status_code == 403


def test_drill_down_notes_are_words_and_dates_are_shanghai_days(app, world, signed_in):
    today = local_today()
    due = today - timedelta(days=3)
    db.session.add(
        FollowUp(
            resident=world["ours"][1],
            team=world["team_a"],
            mode=FollowUpMode.HOME,
            due_date=due,
            status=FollowUpStatus.MISSED,
            source=FollowUpSource.MANUAL,
            purpose="随访",
        )
    )
    client = signed_in(world["doctor"])
    period = f"start={today - timedelta(days=10)}&end={today}"
    html = client.get(
        f"/kpis/follow_ups_on_time/residents?area=team&area_id={world['team_a'].id}&{period}"
    )
    row = text(re.search(r"<tbody>.*?</tbody>", html.get_data(as_text=True), re.S).group(0))
    assert world["ours"][1].name in row
    assert zh(app, "Missed") in row
    assert due.isoformat() in row
    assert zh(app, "Not counted") in row


def test_drill_down_asks_an_administrator_why(world, signed_in):
    client = signed_in(world["admin"])
    url = "/kpis/signing_rate/residents?area=town"
    asked = client.get(url).get_data(as_text=True)
    assert 'name="reason"' in asked
    assert "乙居民" not in asked
    listed = client.get(url + "&reason=季度考核核对").get_data(as_text=True)
    assert "乙居民" in listed
    assert world["ours"][0].name in listed
    # the resident's page opens with the same reason
    assert f"/residents/{world['theirs'].id}?reason=" in listed
    reasons = db.session.scalars(
        sa.select(AuditEntry.reason).where(AuditEntry.object_type == "kpi")
    ).all()
    assert len(reasons) == 5
    assert set(reasons) == {"季度考核核对"}


def sheet(**changes) -> dict:
    """The settings form as the page fills it (shares in per cent), with `changes`."""
    data = {}
    for kpi in registry.all_kpis():
        if kpi.better is None:
            continue
        current = settings.current()[kpi.key]
        scale = 100 if kpi.unit == registry.SHARE else 1
        for part in ("target", "yellow"):
            value = getattr(current, part)
            data[f"{kpi.key}-{part}"] = "" if value is None else f"{value * scale:g}"
        data[f"{kpi.key}-weight"] = str(current.weight)
    return data | changes


def test_settings_save_a_change_and_refuse_weights_off_1000(world, signed_in):
    client = signed_in(world["admin"])
    page = client.get("/kpis/settings").get_data(as_text=True)
    assert re.search(r'name="signing_rate-target"[^>]*value="45"', page)
    token = csrf_from(page)
    wrong = client.post(
        "/kpis/settings",
        data={"csrf_token": token, **sheet(**{"signing_rate-weight": "200"})},
    )
    assert wrong.status_code == 422
    assert re.search(r'field-error" role="alert">.*?1050', wrong.get_data(as_text=True), re.S)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(KpiSetting)) == 0

    saved = client.post(
        "/kpis/settings",
        data={
            "csrf_token": token,
            "reason": "2026 年考核表",
            **sheet(**{"signing_rate-target": "50"}),
        },
        follow_redirects=True,
    )
    assert saved.status_code == 200
    assert 'class="flash flash-info"' in saved.get_data(as_text=True)
    row = db.session.get(KpiSetting, "signing_rate")
    assert row.target == pytest.approx(0.5)
    assert row.weight == 150
    event = db.session.scalar(sa.select(Event).where(Event.name == "kpi.settings_changed"))
    assert event.reason == "2026 年考核表"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(KpiSetting)) == 1


def test_a_wrong_yellow_edge_is_shown_next_to_its_field(world, signed_in):
    client = signed_in(world["admin"])
    token = csrf_from(client.get("/kpis/settings").get_data(as_text=True))
    # higher is better, so a yellow edge above the target is refused
    response = client.post(
        "/kpis/settings", data={"csrf_token": token, **sheet(**{"signing_rate-yellow": "60"})}
    )
    assert response.status_code == 422
    assert 'id="signing_rate-yellow-error"' in response.get_data(as_text=True)
    assert db.session.get(KpiSetting, "signing_rate") is None


def test_the_quick_periods_keep_the_area(world, signed_in):
    html = signed_in(world["doctor"]).get("/kpis").get_data(as_text=True)
    year = f"start={date(local_today().year, 1, 1)}"
    links = [href for href in re.findall(r'href="(/kpis\?[^"]+)"', html) if year in href]
    assert links
    assert all(f"area_id={world['team_a'].id}" in href for href in links)


def test_a_share_just_short_of_its_target_is_not_rounded_up_to_it(app):
    figure = {"key": "signing_rate", "unit": "share", "target": 0.45, "yellow": 0.35}
    with app.test_request_context():
        assert labels.figure_text(figure | {"value": 0.44996, "colour": "yellow"}) == "44.9%"
        assert labels.figure_text(figure | {"value": 0.44951, "colour": "yellow"}) == "44.9%"
        assert labels.figure_text(figure | {"value": 0.41251, "colour": "yellow"}) == "41.3%"
        escalated = {"key": "alerts_escalated", "unit": "share", "target": 0.1, "yellow": 0.25}
        assert labels.figure_text(escalated | {"value": 0.10004, "colour": "yellow"}) == "10.1%"
