"""A doctor's availability and the free start times it leaves: the weekly pattern, a closed
day, closed hours, extra hours, the errors a doctor sees (each naming its field), starts in
the past or too soon never offered, visits of different lengths packed without gaps, and
Shanghai wall-clock times (no daylight saving) turned into the right UTC instants."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.timeutil import local_today
from telecall import availability, booking
from telecall.models import VisitType
from tests.telecall.conftest import local_at

CONSULT, REVISIT = VisitType.VIDEO_CONSULT, VisitType.ONLINE_REVISIT


def starts(clinic, day_offset: int, visit_type=CONSULT, now=None) -> list[datetime]:
    day = local_today() + timedelta(days=day_offset)
    doctor, team = clinic["doctor"], clinic["team"]
    return availability.free_starts(doctor.id, team.id, visit_type, day, day, now=now)


def hhmm(values: list[datetime]) -> list[str]:
    return [v.astimezone(availability.local_zone()).strftime("%H:%M") for v in values]


def put_week(client, headers, team_id, windows):
    return client.put(
        "/api/v1/availability", json={"team_id": team_id, "windows": windows}, headers=headers
    )


def add_exception(client, headers, body):
    return client.post("/api/v1/availability/exceptions", json=body, headers=headers)


def field_errors(response) -> dict:
    return response.get_json()["errors"]["json"]


def test_the_weekly_pattern_offers_each_window_stepped_by_the_visit_length(
    client, clinic, api_token
):
    doctor = clinic["doctor"]
    headers = api_token(doctor)
    tomorrow = local_today() + timedelta(days=1)
    windows = [
        {"weekday": tomorrow.weekday(), "start_time": "09:00", "end_time": "10:00"},
        {"weekday": tomorrow.weekday(), "start_time": "14:00", "end_time": "14:45"},
    ]
    answer = put_week(client, headers, clinic["team"].id, windows)
    assert answer.status_code == 200, answer.get_json()
    assert [(w["start_time"], w["end_time"]) for w in answer.get_json()["windows"]] == [
        ("09:00:00", "10:00:00"),
        ("14:00:00", "14:45:00"),
    ]
    # 20-minute consults: three in the hour, two in the 45 minutes (a third would overrun)
    assert hhmm(starts(clinic, 1)) == ["09:00", "09:20", "09:40", "14:00", "14:20"]
    assert hhmm(starts(clinic, 1, REVISIT)) == ["09:00", "09:15", "09:30", "09:45", "14:00"] + [
        "14:15",
        "14:30",
    ]
    assert starts(clinic, 2) == []  # the other days were replaced by the new pattern

    listed = client.get("/api/v1/availability", headers=headers).get_json()
    assert [len(team["windows"]) for team in listed] == [2]


def test_a_closed_day_and_closed_hours_take_slots_away(client, clinic, api_token):
    headers = api_token(clinic["doctor"])
    team_id = clinic["team"].id
    day_off = (local_today() + timedelta(days=2)).isoformat()
    answer = add_exception(
        client, headers, {"team_id": team_id, "on_date": day_off, "kind": "closed"}
    )
    assert answer.status_code == 201, answer.get_json()
    assert starts(clinic, 2) == []
    assert starts(clinic, 3)  # only that date

    meeting = (local_today() + timedelta(days=1)).isoformat()
    body = {
        "team_id": team_id,
        "on_date": meeting,
        "kind": "closed",
        "start_time": "12:00",
        "end_time": "14:00",
        "reason": "team meeting",
    }
    assert add_exception(client, headers, body).status_code == 201
    offered = hhmm(starts(clinic, 1))
    assert "11:40" in offered  # ends at 12:00 sharp
    assert not [t for t in offered if "11:45" <= t < "14:00"]
    assert "14:00" in offered

    exception_id = client.get("/api/v1/availability", headers=headers).get_json()[0]["exceptions"]
    assert [e["on_date"] for e in exception_id] == [meeting, day_off]
    answer = client.delete(
        f"/api/v1/availability/exceptions/{exception_id[1]['id']}", headers=headers
    )
    assert answer.status_code == 204
    assert starts(clinic, 2)  # the day is open again


def test_extra_hours_add_slots_outside_the_pattern(client, clinic, api_token):
    headers = api_token(clinic["doctor"])
    evening = (local_today() + timedelta(days=1)).isoformat()
    body = {
        "team_id": clinic["team"].id,
        "on_date": evening,
        "kind": "extra",
        "start_time": "19:00",
        "end_time": "20:00",
    }
    assert add_exception(client, headers, body).status_code == 201
    offered = hhmm(starts(clinic, 1))
    assert offered[-3:] == ["19:00", "19:20", "19:40"]
    assert "19:00" not in hhmm(starts(clinic, 2))


@pytest.mark.parametrize(
    ("windows", "field", "words"),
    [
        ([{"weekday": 0, "start_time": "09:03", "end_time": "10:00"}], "windows.0", "5-minute"),
        ([{"weekday": 0, "start_time": "10:00", "end_time": "09:00"}], "windows.0", "after"),
        (
            [
                {"weekday": 1, "start_time": "08:00", "end_time": "12:00"},
                {"weekday": 1, "start_time": "11:30", "end_time": "13:00"},
            ],
            "windows.1",
            "overlaps",
        ),
    ],
)
def test_bad_windows_are_refused_naming_the_window(
    client, clinic, api_token, windows, field, words
):
    headers = api_token(clinic["doctor"])
    answer = put_week(client, headers, clinic["team"].id, windows)
    assert answer.status_code == 422
    assert words in field_errors(answer)[field][0]
    assert hhmm(starts(clinic, 1))[0] == "08:00"  # the old pattern is still there


def test_bad_exceptions_are_refused_naming_the_field(client, clinic, api_token):
    headers = api_token(clinic["doctor"])
    base = {
        "team_id": clinic["team"].id,
        "on_date": (local_today() + timedelta(days=1)).isoformat(),
    }
    off_grid = add_exception(
        client, headers, {**base, "kind": "closed", "start_time": "12:02", "end_time": "13:00"}
    )
    assert off_grid.status_code == 422
    assert "5-minute" in field_errors(off_grid)["end_time"][0]
    half = add_exception(client, headers, {**base, "kind": "closed", "start_time": "12:00"})
    assert (half.status_code, list(field_errors(half))) == (422, ["end_time"])
    no_times = add_exception(client, headers, {**base, "kind": "extra"})
    assert (no_times.status_code, list(field_errors(no_times))) == (422, ["start_time"])
    assert len(starts(clinic, 1)) == 30  # nothing was stored


def test_another_teams_doctor_cannot_set_hours_for_this_team(client, clinic, api_token):
    answer = put_week(
        client,
        api_token(clinic["outsider"]),
        clinic["team"].id,
        [{"weekday": 0, "start_time": "09:00", "end_time": "10:00"}],
    )
    assert answer.status_code == 422
    assert list(field_errors(answer)) == ["doctor_id"]


def test_past_and_too_soon_starts_are_not_offered(clinic):
    noon = local_at(0, 12)
    offered = hhmm(starts(clinic, 0, now=noon + timedelta(minutes=5)))
    assert offered[0] == "12:20"  # 12:00 has begun; 12:20 is more than 10 minutes away
    assert "11:40" not in offered
    offered = hhmm(starts(clinic, 0, now=noon + timedelta(minutes=11)))
    assert offered[0] == "12:40"  # 12:20 is only nine minutes away: too soon to book
    assert starts(clinic, -1, now=noon) == []  # yesterday


def test_the_slot_api_offers_nothing_in_the_past(client, clinic, api_token):
    answer = client.get(
        "/api/v1/visit-slots",
        query_string={"resident_id": clinic["resident"].id, "visit_type": "video_consult"},
        headers=api_token(clinic["account"]),
    )
    assert answer.status_code == 200, answer.get_json()
    slots = answer.get_json()
    soonest = datetime.now(UTC) + timedelta(minutes=availability.LEAD_MINUTES)
    assert slots
    assert all(datetime.fromisoformat(s["starts_at"]) >= soonest for s in slots)
    assert {s["doctor_id"] for s in slots} == {clinic["doctor"].id}  # the nurse set no hours
    first = datetime.fromisoformat(slots[0]["starts_at"])
    assert datetime.fromisoformat(slots[0]["ends_at"]) - first == timedelta(minutes=20)


def test_visits_of_different_lengths_pack_without_gaps(clinic, booked):
    booked(local_at(1, 9), REVISIT)  # 09:00-09:15
    offered = hhmm(starts(clinic, 1))
    assert "08:40" in offered  # a consult ending just as the revisit starts
    assert "09:15" in offered  # and one starting just as it ends
    assert not {"09:00", "09:05", "09:10"} & set(offered)
    booked(local_at(1, 9, 15))  # 09:15-09:35
    offered = hhmm(starts(clinic, 1, REVISIT))
    assert "09:35" in offered
    assert not [t for t in offered if "08:50" < t < "09:35"]


def test_shanghai_times_convert_without_daylight_saving(clinic):
    doctor, team = clinic["doctor"], clinic["team"]
    summer, winter = date(2027, 7, 5), date(2027, 1, 4)  # both Mondays
    for day in (summer, winter):
        windows = availability.windows_on(doctor.id, team.id, day)
        assert [(w.starts_at, w.ends_at) for w in windows] == [
            (
                datetime.combine(day, time(0), UTC),  # 08:00 in Shanghai is 00:00 UTC
                datetime.combine(day, time(10), UTC),
            )
        ]
    # a visit booked for 09:00 local starts at 01:00 UTC whatever the season
    far_past = datetime(2026, 1, 1, tzinfo=UTC)
    found = availability.free_starts(doctor.id, team.id, CONSULT, summer, summer, now=far_past)
    assert found[:2] == [
        datetime(2027, 7, 5, 0, 0, tzinfo=UTC),
        datetime(2027, 7, 5, 0, 20, tzinfo=UTC),
    ]
    tomorrow = local_today() + timedelta(days=1)
    slots = booking.free_slots(clinic["resident"], {"visit_type": CONSULT, "first": tomorrow})
    assert slots[0]["starts_at"] == datetime.combine(tomorrow, time(0), UTC)


def test_availability_exceptions_belong_to_their_doctor(client, clinic, api_token):
    headers = api_token(clinic["doctor"])
    body = {
        "team_id": clinic["team"].id,
        "on_date": (local_today() + timedelta(days=1)).isoformat(),
        "kind": "closed",
    }
    made = add_exception(client, headers, body).get_json()
    other = api_token(clinic["nurse"])
    refused = client.delete(f"/api/v1/availability/exceptions/{made['id']}", headers=other)
    assert refused.status_code == 404
    assert starts(clinic, 1) == []  # still closed
