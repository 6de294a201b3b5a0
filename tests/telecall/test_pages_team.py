"""The team's video-visit pages: the workbench with who is waiting (and its JSON, which the
page polls), and the doctor's hours (weekly windows and the days that differ)."""

from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.extensions import db
from app.timeutil import local_today, utcnow
from telecall import calls
from telecall.models import Availability, AvailabilityException, ExceptionKind
from tests.conftest import post_form
from tests.telecall.conftest import local_at, seat
from tests.telecall.test_pages_resident import client_for, error_next_to, page, problem_of, zh

__all__ = ["client_for"]  # the fixture, shared with the resident's page tests


def now_visit(visit):
    """The visit moved to start now (the waiting room is open, it is on today's list)."""
    visit.starts_at = utcnow().replace(microsecond=0)
    visit.ends_at = visit.starts_at + timedelta(minutes=20)
    db.session.flush()
    return visit


# --- the workbench ------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_workbench_shows_today_and_the_coming_days(client_for, clinic, booked, lang):
    today, tomorrow = now_visit(booked()), booked(local_at(1, 11))
    name = clinic["resident"].name
    text = page(client_for(clinic["doctor"], lang).get("/visits/"))
    heading = "Video-visit workbench"
    assert (zh(heading) if lang == "zh_CN" else heading) in text
    assert f'data-visit-id="{today.id}"' in text
    assert f'href="/visits/{today.id}/call"' in text
    assert f"/visits/{tomorrow.id}" in text
    assert text.count(name) >= 2
    nobody = "Nobody is waiting"
    assert (zh(nobody) if lang == "zh_CN" else nobody) in text
    assert "/visits/availability" in text
    # the nurse of the team sees the doctor's visit among the team's
    nurse = page(client_for(clinic["nurse"], lang).get("/visits/"))
    assert f'data-visit-id="{today.id}"' in nurse
    assert clinic["doctor"].display_name in nurse


def test_the_workbench_says_who_is_waiting_and_its_json_follows(client_for, clinic, booked):
    visit = now_visit(booked())
    client = client_for(clinic["doctor"])
    before = client.get("/visits/waiting.json").get_json()
    assert [(v["id"], v["waiting"]) for v in before["visits"]] == [(visit.id, [])]
    calls.join(seat(visit), "browser")
    after = client.get("/visits/waiting.json").get_json()["visits"]
    assert after[0]["status"] == "booked"
    assert after[0]["waiting"] == [
        {
            "id": seat(visit).id,
            "role": "resident",
            "role_label": "Resident",
            "name": clinic["resident"].name,
        }
    ]
    text = page(client.get("/visits/"))
    assert f"{clinic['resident'].name} (Resident) is waiting" in text
    assert "workbench.js" in text
    assert client.get("/visits/static/workbench.js").status_code == 200


def test_only_the_team_reads_the_waiting_room(client_for, clinic, make_user):
    for user in (clinic["account"], clinic["carer"], make_user(Role.SPECIALIST)):
        assert client_for(user).get("/visits/waiting.json").status_code == 403
    # a doctor of no team (the outsider) has nobody to see
    assert client_for(clinic["outsider"]).get("/visits/waiting.json").get_json()["visits"] == []
    assert client_for(make_user(Role.ADMIN)).get("/visits/").status_code == 403
    assert client_for(clinic["account"]).get("/visits/").headers["Location"].endswith("/mine")


# --- the doctor's hours -------------------------------------------------------------------------


def weekly_rows(team_id: int, rows: list[tuple]) -> dict:
    data = {}
    for index, (weekday, start, end, *remove) in enumerate(rows):
        prefix = f"t{team_id}-rows-{index}-"
        data |= {prefix + "weekday": weekday, prefix + "start_time": start}
        data[prefix + "end_time"] = end
        if remove:
            data[prefix + "remove"] = "y"
    return data


def windows(doctor) -> list[tuple]:
    rows = db.session.scalars(
        sa.select(Availability)
        .where(Availability.doctor_id == doctor.id)
        .order_by(Availability.weekday, Availability.start_time)
    )
    return [(a.weekday, a.start_time, a.end_time) for a in rows]


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_hours_page_shows_the_saved_week(client_for, clinic, lang):
    text = page(client_for(clinic["doctor"], lang).get("/visits/availability"))
    title = "My hours for video visits"
    assert (zh(title) if lang == "zh_CN" else title) in text
    assert clinic["team"].name in text
    tid = clinic["team"].id
    assert f'id="t{tid}-rows-6-start_time"' in text  # seven saved windows, and blank rows
    assert f'name="t{tid}-rows-8-weekday"' in text
    assert 'value="08:00"' in text


def test_saving_the_weekly_hours(client_for, clinic):
    doctor, tid = clinic["doctor"], clinic["team"].id
    client = client_for(doctor)
    rows = [("0", "09:00", "12:00"), ("2", "14:00", "17:30"), ("3", "08:00", "18:00", "remove")]
    rows.append(("", "", ""))  # an empty row adds nothing
    response = post_form(
        client,
        f"/visits/availability/{tid}/weekly",
        weekly_rows(tid, rows),
        page="/visits/availability",
    )
    assert response.status_code == 303
    assert windows(doctor) == [(0, time(9), time(12)), (2, time(14), time(17, 30))]


def test_wrong_weekly_hours_are_named_on_their_row(client_for, clinic):
    doctor, tid = clinic["doctor"], clinic["team"].id
    client = client_for(doctor)
    url = f"/visits/availability/{tid}/weekly"
    before = windows(doctor)
    bad_order = weekly_rows(tid, [("0", "09:00", "12:00"), ("1", "12:00", "09:00")])
    response = post_form(client, url, bad_order, page="/visits/availability")
    assert response.status_code == 422
    text = page(response)
    assert error_next_to(text, f"t{tid}-rows-1-end_time").endswith(
        "The end must be after the start"
    )
    overlap = weekly_rows(tid, [("4", "09:00", "12:00"), ("4", "11:00", "13:00")])
    text = page(post_form(client, url, overlap, page="/visits/availability"))
    assert "overlaps another on the same day" in error_next_to(text, f"t{tid}-rows-1-end_time")
    missing = weekly_rows(tid, [("5", "09:00", "")])
    text = page(post_form(client, url, missing, page="/visits/availability"))
    assert error_next_to(text, f"t{tid}-rows-0-end_time").endswith("Please fill in this field.")
    off_grid = weekly_rows(tid, [("5", "09:03", "10:00")])
    text = page(post_form(client, url, off_grid, page="/visits/availability"))
    assert "5-minute step" in error_next_to(text, f"t{tid}-rows-0-end_time")
    assert windows(doctor) == before


def test_more_rows_saves_nothing(client_for, clinic):
    doctor, tid = clinic["doctor"], clinic["team"].id
    data = weekly_rows(tid, [("0", "09:00", "10:00")]) | {"more_rows": "1"}
    response = post_form(
        client_for(doctor), f"/visits/availability/{tid}/weekly", data, page="/visits/availability"
    )
    assert response.status_code == 200
    assert f'name="t{tid}-rows-3-weekday"' in page(response)
    assert len(windows(doctor)) == 7


def test_a_closed_day_is_added_and_removed(client_for, clinic):
    doctor, tid = clinic["doctor"], clinic["team"].id
    client = client_for(doctor)
    day = local_today() + timedelta(days=3)
    data = {f"x{tid}-on_date": day.isoformat(), f"x{tid}-kind": "closed", f"x{tid}-reason": "培训"}
    url = f"/visits/availability/{tid}/exceptions"
    assert post_form(client, url, data, page="/visits/availability").status_code == 303
    row = db.session.scalars(sa.select(AvailabilityException)).one()
    assert (row.on_date, row.kind, row.start_time, row.reason) == (
        day,
        ExceptionKind.CLOSED,
        None,
        "培训",
    )
    assert "培训" in page(client.get("/visits/availability"))
    removed = post_form(
        client,
        f"/visits/availability/exceptions/{row.id}/remove",
        {},
        page="/visits/availability",
    )
    assert removed.status_code == 303
    assert db.session.scalars(sa.select(AvailabilityException)).all() == []


def test_extra_hours_need_their_times(client_for, clinic):
    tid = clinic["team"].id
    data = {f"x{tid}-on_date": (local_today() + timedelta(days=2)).isoformat()}
    data[f"x{tid}-kind"] = "extra"
    response = post_form(
        client_for(clinic["doctor"]),
        f"/visits/availability/{tid}/exceptions",
        data,
        page="/visits/availability",
    )
    assert response.status_code == 422
    text = page(response)
    assert error_next_to(text, f"x{tid}-start_time").endswith("Extra hours need a start and an end")
    assert problem_of(text).endswith("Please correct the fields marked below.")


def test_the_hours_of_another_team_or_doctor_are_out_of_reach(client_for, clinic, make_team):
    other = make_team()
    client = client_for(clinic["doctor"])
    url = f"/visits/availability/{other.id}/weekly"
    assert post_form(client, url, {}, page="/visits/availability").status_code == 404
    theirs = AvailabilityException(
        doctor_id=other.lead.id,
        team_id=other.id,
        on_date=local_today() + timedelta(days=1),
        kind=ExceptionKind.CLOSED,
    )
    db.session.add(theirs)
    db.session.flush()
    remove = f"/visits/availability/exceptions/{theirs.id}/remove"
    assert post_form(client, remove, {}, page="/visits/availability").status_code == 404
    assert client_for(clinic["account"]).get("/visits/availability").status_code == 403
