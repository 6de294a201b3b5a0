"""Hourly roll-ups: exact figures, incremental refresh, retention, the hourly API, and the
week and month pages reading roll-ups completed with what the last refresh has not seen."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app import scheduler
from app.audit.models import Event
from app.extensions import db
from app.timeutil import utcnow
from wearables import rollups
from wearables.charts import downsample_figures
from wearables.models import Device, DeviceKind, DeviceStatus, Reading, ReadingRollup, ReadingSource

HOUR = timedelta(hours=1)
MIN = timedelta(minutes=1)
# A whole UTC hour two days ago: inside every window, far from the hours the test runs in.
H = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(days=2)


@pytest.fixture
def world(make_team, make_resident, make_resident_user):
    team = make_team()
    residents = [make_resident(neighbourhood=team.neighbourhoods[0]) for _ in range(2)]
    devices = []
    for index, resident in enumerate(residents):
        device = Device(
            serial=f"W-ROLL-{index}",
            kind=DeviceKind.WATCH,
            resident=resident,
            status=DeviceStatus.ACTIVE,
            token_digest=str(index) * 64,
        )
        db.session.add(device)
        devices.append(device)
    db.session.flush()

    def add(who, metric, value, measured_at, received_at=None):
        """A reading of resident `who` (0 or 1); received a minute after it was measured."""
        reading = Reading(
            device_id=devices[who].id,
            resident_id=residents[who].id,
            metric=metric,
            value=value,
            unit=None if value is None else "/min",
            measured_at=measured_at,
            received_at=received_at or measured_at + MIN,
            source=ReadingSource.JSON,
        )
        db.session.add(reading)
        db.session.flush()
        return reading

    return {
        "team": team,
        "residents": residents,
        "add": add,
        "resident_user": make_resident_user(residents[0]),
    }


def stored(world):
    """Every roll-up as (resident 0 or 1, metric, hour, count, minimum, maximum, mean)."""
    index = {r.id: i for i, r in enumerate(world["residents"])}
    rows = db.session.execute(
        sa.select(
            ReadingRollup.resident_id,
            ReadingRollup.metric,
            ReadingRollup.hour,
            ReadingRollup.count,
            ReadingRollup.minimum,
            ReadingRollup.maximum,
            ReadingRollup.mean,
        )
    ).all()
    return {(index[r[0]], *r[1:]) for r in rows}


def refreshed_at(world, metric, hour):
    return db.session.scalar(
        sa.select(ReadingRollup.refreshed_at).where(
            ReadingRollup.resident_id == world["residents"][0].id,
            ReadingRollup.metric == metric,
            ReadingRollup.hour == hour,
        )
    )


def known_readings(add):
    add(0, "heart_rate", 60, H + 5 * MIN)
    add(0, "heart_rate", 70, H + 30 * MIN)
    add(0, "heart_rate", 80, H + 59 * MIN + timedelta(seconds=59))
    add(0, "heart_rate", 90, H + HOUR)  # on the boundary: the next hour
    add(0, "spo2", 95, H + 10 * MIN)
    add(0, "spo2", 97, H + 20 * MIN)
    add(0, "fall", None, H + 15 * MIN)
    add(0, "fall", None, H + 16 * MIN)
    add(1, "heart_rate", 100, H + 10 * MIN)


EXPECTED = {
    (0, "heart_rate", H, 3, 60.0, 80.0, 70.0),
    (0, "heart_rate", H + HOUR, 1, 90.0, 90.0, 90.0),
    (0, "spo2", H, 2, 95.0, 97.0, 96.0),
    (0, "fall", H, 2, None, None, None),  # events count; they have no value
    (1, "heart_rate", H, 1, 100.0, 100.0, 100.0),
}


def test_known_readings_give_exact_hourly_figures(world):
    if db.session.get_bind().dialect.name == "postgresql":
        # An hour is a UTC hour whatever the session's time zone; +05:30 would shift a
        # truncation made in the session's zone by half an hour.
        db.session.execute(sa.text("SET LOCAL TIME ZONE 'Asia/Kolkata'"))
    known_readings(world["add"])
    now = H + 2 * HOUR
    assert rollups.refresh(now) == 5
    assert stored(world) == EXPECTED
    assert refreshed_at(world, "spo2", H) == now


def test_a_late_reading_recomputes_its_hour_only(world):
    add = world["add"]
    known_readings(add)
    first = H + 2 * HOUR
    rollups.refresh(first)
    # measured in the first hour, pushed an hour later (a watch that was offline)
    add(0, "heart_rate", 50, H + 40 * MIN, received_at=first + HOUR)
    second = first + HOUR + MIN
    assert rollups.refresh(second) == 1
    assert (0, "heart_rate", H, 4, 50.0, 80.0, 65.0) in stored(world)
    assert stored(world) - EXPECTED == {(0, "heart_rate", H, 4, 50.0, 80.0, 65.0)}
    assert refreshed_at(world, "heart_rate", H) == second
    assert refreshed_at(world, "spo2", H) == first  # untouched hours are not recomputed


def test_a_reading_committed_after_a_refresh_but_stamped_before_it_is_not_missed(world):
    add = world["add"]
    known_readings(add)
    now = H + 2 * HOUR
    rollups.refresh(now)
    # its request began (and stamped it) before the refresh; it committed after
    add(0, "spo2", 93, H + 25 * MIN, received_at=now - 5 * MIN)
    rollups.refresh(now + 10 * MIN)
    assert (0, "spo2", H, 3, 93.0, 97.0, 95.0) in stored(world)


def test_refreshing_again_changes_nothing(world):
    add = world["add"]
    known_readings(add)
    now = H + 2 * HOUR
    add(0, "spo2", 99, H + HOUR + 30 * MIN, received_at=now - MIN)  # within the margin
    rollups.refresh(now)
    before = stored(world)
    # ten minutes on, the reading within the safety margin is recomputed, to the same figures
    assert rollups.refresh(now + 10 * MIN) == 1
    assert stored(world) == before
    assert rollups.refresh(now + 20 * MIN) == 0
    assert stored(world) == before
    assert (0, "spo2", H + HOUR, 1, 99.0, 99.0, 99.0) in before


def test_the_refresh_job_runs_through_the_scheduler(app, world):
    known_readings(world["add"])
    job = next(j for j in scheduler.all_jobs() if j.id == "wearables.refresh_rollups")
    assert scheduler.run_job(app, job) == 5
    assert stored(world) == EXPECTED


def test_purge_deletes_exactly_what_is_older_than_the_settings(app, world):
    add = world["add"]
    now = utcnow().replace(microsecond=0)
    reading_days = app.config["READINGS_RETENTION_DAYS"]
    rollup_days = app.config["ROLLUPS_RETENTION_DAYS"]
    cutoff = now - timedelta(days=reading_days)
    gone = add(0, "heart_rate", 61, cutoff - 2 * HOUR, received_at=cutoff - MIN)
    kept_edge = add(0, "heart_rate", 62, cutoff - HOUR, received_at=cutoff)
    kept = add(1, "heart_rate", 63, now - HOUR, received_at=now - HOUR)
    hour_cutoff = (now - timedelta(days=rollup_days)).replace(minute=0, second=0)
    for hour, count in ((hour_cutoff - HOUR, 7), (hour_cutoff + HOUR, 8)):
        db.session.add(
            ReadingRollup(
                resident_id=world["residents"][0].id,
                metric="steps",
                hour=hour,
                count=count,
                minimum=1.0,
                maximum=2.0,
                mean=1.5,
                refreshed_at=now - timedelta(days=rollup_days - 1),
            )
        )
    db.session.flush()
    rollups.refresh(now)

    assert rollups.purge(now) == {"readings": 1, "rollups": 1}

    left = set(db.session.scalars(sa.select(Reading.id)))
    assert left == {kept_edge.id, kept.id}
    assert gone.id not in left
    steps = db.session.scalars(
        sa.select(ReadingRollup.count).where(ReadingRollup.metric == "steps")
    )
    assert list(steps) == [8]
    # the roll-up of the deleted reading's hour stays: roll-ups outlive raw readings
    gone_hour = (cutoff - 2 * HOUR).replace(minute=0, second=0)
    assert (0, "heart_rate", gone_hour, 1, 61.0, 61.0, 61.0) in stored(world)
    event = db.session.scalars(sa.select(Event).where(Event.name == "wearables.purged")).one()
    assert event.data["readings"] == 1
    assert rollups.purge(now) == {"readings": 0, "rollups": 0}


def test_purge_keeps_readings_the_roll_ups_have_not_seen(app, world):
    now = utcnow()
    old = now - timedelta(days=app.config["READINGS_RETENTION_DAYS"] + 1)
    world["add"](0, "heart_rate", 61, old, received_at=old)
    assert rollups.purge(now) == {"readings": 0, "rollups": 0}  # never refreshed
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Reading)) == 1


def test_hours_of_reads_raw_readings_for_hours_cut_by_the_range(world):
    add = world["add"]
    add(0, "heart_rate", 60, H + 10 * MIN)
    add(0, "heart_rate", 90, H + 50 * MIN)
    add(0, "heart_rate", 70, H + HOUR + 10 * MIN)
    add(0, "heart_rate", 75, H + 2 * HOUR + 10 * MIN)
    rollups.refresh(H + 3 * HOUR)
    hours = rollups.hours_of(
        world["residents"][0].id, ["heart_rate"], H + 30 * MIN, H + 2 * HOUR + 5 * MIN
    )
    assert hours["heart_rate"] == [
        rollups.Hour(H, 1, 90.0, 90.0, 90.0),  # the 60 at H+10 min is before the start
        rollups.Hour(H + HOUR, 1, 70.0, 70.0, 70.0),
    ]  # the 75 at H+2 h 10 min is after the end


def test_the_hourly_api_answers_the_figures(client, world, api_token):
    known_readings(world["add"])
    rollups.refresh(H + 2 * HOUR)
    resident = world["residents"][0]
    since = (H - HOUR).isoformat().replace("+", "%2B")
    until = (H + 5 * HOUR).isoformat().replace("+", "%2B")
    url = f"/api/v1/residents/{resident.id}/readings/hourly?since={since}&until={until}"
    headers = api_token(world["team"].lead)
    response = client.get(url + "&metric=heart_rate", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert [datetime.fromisoformat(row.pop("hour")) for row in body] == [H, H + HOUR]
    assert body == [
        {"count": 3, "minimum": 60.0, "maximum": 80.0, "mean": 70.0},
        {"count": 1, "minimum": 90.0, "maximum": 90.0, "mean": 90.0},
    ]
    falls = client.get(url + "&metric=fall", headers=headers).get_json()
    assert [(f["count"], f["minimum"], f["mean"]) for f in falls] == [(2, None, None)]
    assert client.get(url + "&metric=pulse", headers=headers).status_code == 422


def test_another_teams_doctor_gets_404_from_the_hourly_api(client, world, api_token, make_team):
    known_readings(world["add"])
    rollups.refresh(H + 2 * HOUR)
    outsider = api_token(make_team().lead)
    url = (
        f"/api/v1/residents/{world['residents'][0].id}/readings/hourly?metric=heart_rate"
        "&since=2020-01-01T00:00:00%2B08:00&until=2040-01-01T00:00:00%2B08:00"
    )
    response = client.get(url, headers=outsider)
    assert response.status_code == 404
    assert "mean" not in response.get_data(as_text=True)


def week_page(client, world, range_name="week"):
    client.set_cookie("lang", "en")
    return client.get(f"/vitals/{world['residents'][0].id}?range={range_name}").get_data(
        as_text=True
    )


def test_the_week_page_reads_roll_ups_and_the_readings_they_have_not_seen(client, world, signed_in):
    now = utcnow()
    add = world["add"]
    add(0, "heart_rate", 70, now - timedelta(days=2))
    rollups.refresh(now - HOUR)
    # an hour rolled up from readings no longer at hand: only the roll-up knows 48 and 131
    db.session.add(
        ReadingRollup(
            resident_id=world["residents"][0].id,
            metric="heart_rate",
            hour=(now - timedelta(days=3)).replace(minute=0, second=0, microsecond=0),
            count=10,
            minimum=48.0,
            maximum=131.0,
            mean=80.0,
            refreshed_at=now - HOUR,
        )
    )
    add(0, "heart_rate", 140, now - 2 * HOUR, received_at=now)  # after the last refresh
    client = signed_in(world["resident_user"])

    week = week_page(client, world)
    assert "lowest 48, highest 140" in week
    # 10 + the rolled-up 70 (counted once, not again from the raw readings) + the fresh 140
    assert "12 readings" in week
    assert "average 84.2 /min" in week  # (10 × 80 + 70 + 140) / 12
    assert "<strong>140 /min</strong>" in week  # the latest, from the raw readings
    assert '<th scope="col">Lowest</th>' in week
    assert "from the lowest to the highest" in week  # the chart's description says so
    assert "lowest 48" in week_page(client, world, "month")
    day = week_page(client, world, "day")
    assert "lowest 140" in day
    assert "lowest 48" not in day  # the day reads raw readings only


def test_a_late_reading_for_a_rolled_up_hour_shows_before_the_next_refresh(
    client, world, signed_in
):
    now = utcnow()
    add = world["add"]
    measured = now - timedelta(days=2)
    add(0, "heart_rate", 70, measured)
    rollups.refresh(now - HOUR)
    add(0, "heart_rate", 50, measured + MIN, received_at=now)  # pushed late, same hour
    client = signed_in(world["resident_user"])
    week = week_page(client, world)
    assert "2 readings, lowest 50, highest 70, average 60 /min" in week


def test_month_figures_are_downsampled_with_their_bars():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    # 720 hours of (start, count, lowest, highest, mean)
    figures = [(start + i * HOUR, 2, 60.0 + i % 10, 80.0 + i % 10, 70.0) for i in range(720)]
    figures[5] = (figures[5][0], 6, 40.0, 150.0, 90.0)
    points, bars = downsample_figures(figures)
    assert len(points) == len(bars) == 300
    # 300 equal slices of 719 hours: the third holds hours 5, 6 and 7
    assert bars[2] == (start + 6 * HOUR, 40.0, 150.0)
    assert points[2] == (start + 6 * HOUR, (6 * 90 + 2 * 70 + 2 * 70) / 10)
    assert min(b[1] for b in bars) == 40.0
    assert max(b[2] for b in bars) == 150.0
    few = figures[:3]
    assert downsample_figures(few) == (
        [(f[0], f[4]) for f in few],
        [(f[0], f[2], f[3]) for f in few],
    )
