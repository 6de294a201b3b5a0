"""Every KPI of the town, each committee and each team, on the population of conftest.py whose
figures are worked out there by hand; the Shanghai day boundaries; a period running to today.
"""

from datetime import timedelta

import pytest

from app.alerts.models import Alert, AlertStatus, Severity
from app.contracts.models import Contract, ContractStatus, ServicePackage
from app.extensions import db
from app.followups.models import FollowUp, FollowUpMode, FollowUpSource, FollowUpStatus
from app.kpis import board, registry
from app.kpis.areas import TOWN_ID, Area, AreaKind, Breakdown, Ctx, Period
from app.stats import percentile
from app.timeutil import local_today, utcnow
from tests.kpis.conftest import AREAS, EXPECTED, GROUPS, E, P, day, sh
from wearables.models import Device, DeviceKind, DeviceStatus, Reading, ReadingSource


def assert_figures(found: dict, expected: dict, where: str) -> None:
    for key, (value, numerator, denominator) in expected.items():
        measure = found.get(key)
        assert measure is not None, f"{where} {key}: no figure"
        got = (measure.value, measure.numerator, measure.denominator)
        assert got == (pytest.approx(value), numerator, denominator), f"{where} {key}"


def test_the_table_covers_every_kpi():
    # A KPI added later must get its figures here too.
    assert {kpi.key for kpi in registry.all_kpis()} == set(EXPECTED["town"])


@pytest.mark.parametrize("kind", list(AreaKind), ids=str)
def test_every_kpi_of_every_area(town, kind):
    found = board.compute(Breakdown(kind), P)
    names = [name for name, area_kind in AREAS.items() if area_kind == kind]
    assert set(found) == {town.area(name)[1] for name in names}
    for name in names:
        assert_figures(found[town.area(name)[1]], EXPECTED[name], name)


def test_signing_groups(town):
    for kind in AreaKind:
        found = board.compute(Breakdown(kind), P)
        for name, area_kind in AREAS.items():
            if area_kind == kind:
                detail = found[town.area(name)[1]]["signing_rate"].detail
                assert detail == {"groups": GROUPS[name]}, name


@pytest.mark.parametrize("name", ["N2", "A"])
def test_one_area_alone_counts_the_same(town, name):
    kind, area_id = town.area(name)
    assert_figures(board.values_for(Area(kind, area_id, ""), P), EXPECTED[name], name)


def test_percentiles_follow_the_shared_rule():
    # The hand-worked alert figures of conftest.py, by app.stats.percentile.
    town = [3, 5, 12, 20, 30, 45, 90]
    assert percentile(town, 0.5) == 20
    assert percentile(town, 0.9) == pytest.approx(63)
    assert percentile([5, 12, 20], 0.9) == pytest.approx(18.4)
    assert percentile([3, 30], 0.5) == 16.5


def _members(key: str, kind: AreaKind, area_id: int) -> list:
    kpi = registry.get(key)
    ids = None if kind == AreaKind.TOWN else (area_id,)
    return db.session.execute(kpi.members(Ctx(Breakdown(kind, ids), P))).all()


def test_a_follow_up_done_by_midnight_shanghai_is_on_time(town):
    # f2 (a2) was done at 23:30 on its due date, f3 (a3) at 00:10 the next day.
    rows = {row.resident_id: row for row in _members("follow_ups_on_time", *town.area("A"))}
    assert rows[town.people["a2"].id].met is True
    assert rows[town.people["a3"].id].met is False
    assert town.people["a1"].id in rows  # f1; f5 cancelled and f7 after P are not rows
    assert len(_members("follow_ups_on_time", *town.area("A"))) == 6


def test_an_alert_at_2359_on_the_last_day_counts_and_midnight_does_not(town):
    b4 = town.people["b4"].id
    rows = [r for r in _members("alerts_escalated", AreaKind.TOWN, TOWN_ID) if r.resident_id == b4]
    assert [row.at for row in rows] == [sh(E, 23, 59)]  # al8 in, al9 (E+1 00:00) out
    a1 = town.people["a1"].id
    rows = [r for r in _members("alerts_escalated", AreaKind.TOWN, TOWN_ID) if r.resident_id == a1]
    assert [row.at for row in rows] == [sh(day(2), 10)]  # al1; al10 before P


def test_a_period_running_to_today(make_team, make_resident):
    """The period ends today: signing and the device window are read now, and follow-ups
    due today are not counted yet (their day has not passed)."""
    today = local_today()
    now = utcnow()
    period = Period(today - timedelta(days=10), today)
    team = make_team()
    signed, unsigned = (make_resident(neighbourhood=team.neighbourhoods[0]) for _ in range(2))
    db.session.add(
        Contract(
            resident=signed,
            team=team,
            package=ServicePackage.BASIC,
            status=ContractStatus.ACTIVE,
            start_date=today,
            end_date=today + timedelta(days=365),
            active_from=today,
            active_until=today + timedelta(days=365),
            requested_by_id=team.lead.id,
        )
    )
    yesterday = today - timedelta(days=1)

    def follow_up(due, status, done_at=None):
        db.session.add(
            FollowUp(
                resident_id=signed.id,
                team_id=team.id,
                mode=FollowUpMode.PHONE,
                due_date=due,
                status=status,
                source=FollowUpSource.MANUAL,
                purpose="复查",
                done_at=done_at,
            )
        )

    follow_up(yesterday, FollowUpStatus.DONE, sh(yesterday, 10))  # on time
    follow_up(yesterday, FollowUpStatus.MISSED)  # counted, not on time
    follow_up(today, FollowUpStatus.DUE)  # today has not passed: not counted
    follow_up(today, FollowUpStatus.DONE, now - timedelta(minutes=1))  # nor this one

    for n, (who, arrived) in enumerate(((signed, 1), (unsigned, 25))):
        device = Device(
            serial=f"NOW-{n}",
            kind=DeviceKind.WATCH,
            resident=who,
            status=DeviceStatus.ACTIVE,
            token_digest=f"{n + 500:064d}",
        )
        db.session.add(device)
        db.session.flush()
        db.session.add(
            Reading(
                device_id=device.id,
                resident_id=who.id,
                metric="heart_rate",
                value=70,
                measured_at=now - timedelta(hours=arrived, minutes=1),
                received_at=now - timedelta(hours=arrived),
                source=ReadingSource.JSON,
            )
        )
    opened = now - timedelta(minutes=10)
    db.session.add(
        Alert(
            resident_id=signed.id,
            rule="event:sos",
            severity=Severity.CRITICAL,
            status=AlertStatus.ACKNOWLEDGED,
            message="SOS",
            opened_at=opened,
            acknowledged_at=opened + timedelta(minutes=4),
        )
    )
    db.session.flush()

    found = board.compute(Breakdown(AreaKind.TOWN), period)[TOWN_ID]
    assert_figures(
        found,
        {
            "signing_rate": (0.5, 1, 2),  # the contract from today counts today
            "follow_ups_on_time": (0.5, 1, 2),
            "wearable_adherence": (0.5, 1, 2),  # the window is the 24 hours before now
            "alert_ack_median": (4.0, None, 1),
            "alerts_escalated": (0.0, 0, 1),
        },
        "running",
    )
