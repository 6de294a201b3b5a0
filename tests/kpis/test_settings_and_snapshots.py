"""The town's targets, yellow edges and weights (PUT /api/v1/kpis/settings): a change moves the
colours and the score, a bad one is refused naming the field and saves nothing, each one is an
event; and the nightly snapshots the monthly trend reads."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit.models import Event
from app.contracts.models import Contract, ContractStatus, ServicePackage
from app.extensions import db
from app.kpis import board, registry
from app.kpis.areas import TOWN_ID, Area, AreaKind, Period
from app.kpis.models import KpiSetting, KpiSnapshot
from app.timeutil import add_months, local_today, utcnow
from telecall.models import Visit, VisitStatus, VisitType
from tests.kpis.conftest import EXPECTED, P, S
from tests.kpis.test_api import auth, by_key, errors

SETTINGS = "/api/v1/kpis/settings"
BOARD = "/api/v1/kpis/board"


def put(client, user, settings: dict, reason: str | None = "按区考核表调整"):
    body = {"settings": settings} | ({"reason": reason} if reason else {})
    return client.put(SETTINGS, json=body, headers=auth(user))


def figure(client, town, name: str, key: str) -> dict:
    response = client.get(f"{BOARD}?{town.query(name)}", headers=auth(town.admin))
    assert response.status_code == 200
    body = response.get_json()
    return by_key(body["figures"])[key] | {"score": body["score"]}


def saved() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(KpiSetting))


def test_a_new_target_changes_the_colour_and_the_points(client, town):
    # Team B's 65+ signing rate is 1/2: red under the default 0.75 / 0.65.
    before = figure(client, town, "B", "signing_rate_aged_65")
    assert before["colour"] == "red"
    response = put(client, town.admin, {"signing_rate_aged_65": {"target": 0.5, "yellow": 0.4}})
    assert response.status_code == 200, response.get_json()
    listed = by_key(response.get_json())["signing_rate_aged_65"]
    assert (listed["target"], listed["yellow"], listed["weight"]) == (0.5, 0.4, 150)
    after = figure(client, town, "B", "signing_rate_aged_65")
    assert (after["colour"], after["target"], after["yellow"]) == ("green", 0.5, 0.4)
    # 150 x 0.5 / 0.75 = 100 points before; full points once the target is 0.5
    points = [
        {row["key"]: row["points"] for row in got["score"]["rows"]}["signing_rate_aged_65"]
        for got in (before, after)
    ]
    assert points == [100.0, 150.0]


def test_weights_can_move_between_figures(client, town):
    response = put(
        client,
        town.admin,
        {"signing_rate": {"weight": 100}, "video_visits": {"target": 3, "weight": 50}},
    )
    assert response.status_code == 200, response.get_json()
    score = figure(client, town, "town", "video_visits")["score"]
    assert score["out_of"] == 1000
    rows = {row["key"]: row for row in score["rows"]}
    assert rows["signing_rate"]["weight"] == 100
    assert rows["video_visits"]["points"] == 50.0  # 4 held, target 3


def test_a_change_is_recorded_as_an_event(client, town):
    put(client, town.admin, {"signing_rate": {"target": 0.5}})
    event = db.session.scalars(sa.select(Event).where(Event.name == "kpi.settings_changed")).one()
    assert (event.actor_id, event.reason) == (town.admin.id, "按区考核表调整")
    assert event.data == {
        "signing_rate": {
            "from": {"target": 0.45, "yellow": 0.35, "weight": 150},
            "to": {"target": 0.5, "yellow": 0.35, "weight": 150},
        }
    }


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"signing_rate": {"weight": 200}}, "weight"),  # the sheet would add up to 1050
        ({"signing_rate": {"target": 1.2}}, "signing_rate.target"),  # a share above 1
        ({"signing_rate": {"yellow": 0.5}}, "signing_rate.yellow"),  # above its 0.45 target
        ({"alert_ack_median": {"yellow": 10}}, "alert_ack_median.yellow"),  # below 15
        ({"alert_ack_p90": {"target": -5}}, "alert_ack_p90.target"),
        ({"referrals_up": {"weight": 10}}, "referrals_up.weight"),  # a count: no direction
        ({"no_such_kpi": {"target": 0.5}}, "no_such_kpi"),
    ],
)
def test_a_bad_change_names_the_field_and_saves_nothing(client, town, settings, field):
    response = put(client, town.admin, settings)
    assert response.status_code == 422
    assert field in errors(response)
    assert saved() == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == 0


def test_an_unknown_setting_field_is_refused(client, town):
    response = put(client, town.admin, {"signing_rate": {"colour": "green"}})
    assert response.status_code == 422
    assert saved() == 0


def test_only_administrators_change_settings(client, town):
    for user in (town.teams["A"].lead, town.teams["A"].members[-1].user):
        assert put(client, user, {"signing_rate": {"target": 0.5}}).status_code == 403
    assert client.put(SETTINGS, json={"settings": {}}).status_code == 401
    assert saved() == 0


def test_a_count_with_a_target_shows_zero_in_red(client, town):
    """A team that held no video visit has held 0, which is data: with a target of 3 it is
    red (and 0 points), not "no data"."""
    assert put(client, town.admin, {"video_visits": {"target": 3, "yellow": 1}}).status_code == 200
    empty = Period(add_months(S, -1), add_months(S, -1) + timedelta(days=5))  # nothing held
    response = client.get(
        f"{BOARD}?area=team&area_id={town.area('A')[1]}&start={empty.start}&end={empty.end}",
        headers=auth(town.admin),
    )
    visits = by_key(response.get_json()["figures"])["video_visits"]
    assert (visits["value"], visits["colour"]) == (0, "red")


# --- snapshots and the trend --------------------------------------------------------------------


def snapshot(month, kind: AreaKind, area_id: int, key: str) -> KpiSnapshot:
    return db.session.scalars(
        sa.select(KpiSnapshot).where(
            KpiSnapshot.month == month,
            KpiSnapshot.area_kind == kind.value,
            KpiSnapshot.area_id == area_id,
            KpiSnapshot.key == key,
        )
    ).one()


def test_snapshots_keep_closed_months_and_the_trend_reads_them(town):
    this_month = local_today().replace(day=1)
    last_month = add_months(this_month, -1)
    kpis = len(registry.all_kpis())
    # Three closed months (P's month is the middle one) x 5 areas x every KPI.
    assert board.snapshot_closed_months(months=3) == 3 * 5 * kpis
    for name in ("town", "N1", "N2", "A", "B"):
        kind, area_id = town.area(name)
        for key, (value, numerator, denominator) in EXPECTED[name].items():
            row = snapshot(S, kind, area_id, key)
            got = (row.value, row.numerator, row.denominator)
            assert got == (pytest.approx(value), numerator, denominator), f"{name} {key}"
    # Last month, as of its last day L: all 11 registered; a1 a2 a3 a6 a7 b1 b2 b3 signed.
    assert snapshot(last_month, AreaKind.TOWN, TOWN_ID, "signing_rate").numerator == 8

    # Late entries: a5 turns out to have been signed since before P, and a visit is held now.
    p = town.people
    db.session.add(
        Contract(
            resident=p["a5"],
            team=town.teams["A"],
            package=ServicePackage.BASIC,
            status=ContractStatus.ACTIVE,
            start_date=S,
            end_date=P.end + timedelta(days=200),
            active_from=S,
            active_until=P.end + timedelta(days=200),
            requested_by_id=town.teams["A"].lead.id,
        )
    )
    now = utcnow()
    db.session.add(
        Visit(
            resident=p["a1"],
            team=town.teams["A"],
            doctor_id=town.teams["A"].lead.id,
            visit_type=VisitType.VIDEO_CONSULT,
            status=VisitStatus.COMPLETED,
            starts_at=now - timedelta(minutes=30),
            ends_at=now - timedelta(minutes=10),
            booked_by_id=town.teams["A"].lead.id,
        )
    )
    db.session.flush()
    live = board.values_for(Area(AreaKind.TOWN, TOWN_ID, ""), P)["signing_rate"]
    assert (live.numerator, live.denominator) == (7, 10)

    points = board.trend(Area(AreaKind.TOWN, TOWN_ID, ""), local_today())
    assert [point["month"] for point in points] == board.months_up_to(local_today())
    by_month = {point["month"]: point["values"] for point in points}
    assert by_month[S]["signing_rate"] == pytest.approx(0.6)  # the snapshot, not 0.7
    assert by_month[this_month]["video_visits"] == 1  # the running month is live
    # Today: a1-a7 and b1-b4 registered (11); all but a4 and b4 signed.
    assert by_month[this_month]["signing_rate"] == pytest.approx(9 / 11)

    # The next night recomputes last month (late entries change it) and keeps P's month.
    board.snapshot_closed_months(months=3)
    assert snapshot(last_month, AreaKind.TOWN, TOWN_ID, "signing_rate").numerator == 9
    assert snapshot(S, AreaKind.TOWN, TOWN_ID, "signing_rate").numerator == 6
