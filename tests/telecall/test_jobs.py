"""The video visits' jobs: reminders the day before and just before, each sent once, to the
resident's account and caregivers with the resident's join link (in the platform, and by
e-mail through a real local SMTP server); none "tomorrow" for a visit booked a few hours
ahead; a visit the resident never came to becomes a no-show, one left in progress is
completed; a failing mail server loses no reminder and stops no other."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit.services import history
from app.extensions import db
from app.notifications.models import Notification
from telecall import booking, jobs, tokens
from telecall.models import SlotClaim, VisitStatus
from tests.smtp import free_port, plain
from tests.telecall.conftest import local_at, seat
from tests.telecall.test_call_api import DOCTOR, join, token_of, under_way

LINK_RE = re.compile(r"https?://\S+/v/([A-Za-z0-9_.\-]+)")


@pytest.fixture
def addressed(clinic):
    clinic["account"].email = "resident@example.org"
    clinic["carer"].email = "daughter@example.org"
    clinic["doctor"].email = "doctor@centre.example"
    db.session.flush()
    return clinic


def reminders_of(user) -> list[Notification]:
    query = (
        sa.select(Notification)
        .where(Notification.user_id == user.id, Notification.kind.like("visit.reminder.%"))
        .order_by(Notification.id)
    )
    return list(db.session.scalars(query))


@pytest.mark.allow_messages
def test_reminders_go_once_each_with_the_residents_join_link(app, addressed, booked, inbox):
    clinic = addressed
    visit = booked(local_at(2, 9))  # booked well ahead: both reminders are due in turn
    link = tokens.join_path(seat(visit))
    public = app.config["PUBLIC_URL"].rstrip("/")

    day_before = visit.starts_at - timedelta(hours=23)
    assert jobs.send_reminders(now=visit.starts_at - timedelta(hours=25))["reminders"] == 0
    assert jobs.send_reminders(now=day_before) == {
        "reminders": 1,
        "emails": 2,
        "email_failures": 0,
    }
    assert jobs.send_reminders(now=day_before + timedelta(minutes=1))["reminders"] == 0
    soon = visit.starts_at - timedelta(minutes=14)
    assert jobs.send_reminders(now=soon)["emails"] == 2
    assert jobs.send_reminders(now=soon + timedelta(minutes=1))["reminders"] == 0

    for user in (clinic["account"], clinic["carer"]):
        told = reminders_of(user)
        assert [n.kind for n in told] == ["visit.reminder.day_before", "visit.reminder.soon"]
        assert {n.link for n in told} == {link}  # the resident's own one-tap link
        mails = inbox.to(user.email)
        assert len(mails) == 2
        for mail in mails:
            text = plain(mail)
            assert public + link in text
            assert tokens.read_token(LINK_RE.search(text).group(1)).id == seat(visit).id
    assert reminders_of(clinic["doctor"]) == []
    assert inbox.to("doctor@centre.example") == []
    assert inbox.count() == 4


@pytest.mark.allow_messages
def test_no_day_before_reminder_for_a_visit_booked_three_hours_ahead(addressed, booked, inbox):
    visit = booked(local_at(1, 15))
    visit.created_at = visit.starts_at - timedelta(hours=3)  # when it was booked
    assert jobs.send_reminders(now=visit.starts_at - timedelta(hours=2))["reminders"] == 0
    assert jobs.send_reminders(now=visit.starts_at - timedelta(minutes=10))["reminders"] == 1
    kinds = [n.kind for n in reminders_of(addressed["account"])]
    assert kinds == ["visit.reminder.soon"]
    assert inbox.count() == 2


def test_a_rescheduled_visit_is_reminded_again_for_its_new_time(clinic, booked):
    visit = booked(local_at(2, 9))  # nobody has an e-mail address: in the platform only
    assert jobs.send_reminders(now=visit.starts_at - timedelta(minutes=10))["reminders"] == 1
    booking.reschedule(clinic["account"], visit, local_at(3, 9))
    result = jobs.send_reminders(now=visit.starts_at - timedelta(minutes=10))
    assert result == {"reminders": 1, "emails": 0, "email_failures": 0}
    assert [n.params["when"][-5:] for n in reminders_of(clinic["account"])] == ["09:00"] * 2
    assert len({n.dedupe_key for n in reminders_of(clinic["account"])}) == 2


@pytest.mark.allow_messages
def test_a_mail_server_that_is_down_loses_no_reminder(app, addressed, booked, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nothing listens
    first, second = booked(local_at(1, 9)), booked(local_at(2, 10))
    result = jobs.send_reminders(now=first.starts_at - timedelta(minutes=10))
    assert result == {"reminders": 1, "emails": 2, "email_failures": 2}
    assert first.reminded_soon_at is not None  # stamped: no second reminder later
    assert len(reminders_of(addressed["carer"])) == 1  # told in the platform all the same
    result = jobs.send_reminders(now=second.starts_at - timedelta(minutes=10))
    assert result["reminders"] == 1


def test_a_visit_the_resident_never_joined_is_a_no_show(client, booked):
    visit = under_way(booked(), minutes_ago=20 + 59)
    join(client, token_of(visit, DOCTOR))  # the doctor waited in vain
    assert jobs.close_past_visits() == {
        "no_shows": 0,
        "missed_by_team": 0,
        "ended": 0,
    }  # the link still works
    under_way(visit, minutes_ago=20 + 61)
    assert jobs.close_past_visits() == {"no_shows": 1, "missed_by_team": 0, "ended": 0}
    db.session.refresh(visit)
    assert visit.status == VisitStatus.NO_SHOW
    assert [e.name for e in history("visit", visit.id)][-1] == "visit.no_show"
    claims = db.session.scalars(sa.select(SlotClaim).where(SlotClaim.visit_id == visit.id))
    assert claims.all() == []
    assert jobs.close_past_visits() == {"no_shows": 0, "missed_by_team": 0, "ended": 0}


def test_a_visit_nobody_of_the_team_joined_is_missed_by_the_team(client, booked, clinic):
    visit = under_way(booked(), minutes_ago=20 + 59)
    join(client, token_of(visit))  # the resident waited in vain
    assert jobs.close_past_visits() == {"no_shows": 0, "missed_by_team": 0, "ended": 0}
    under_way(visit, minutes_ago=20 + 61)
    assert jobs.close_past_visits() == {"no_shows": 0, "missed_by_team": 1, "ended": 0}
    db.session.refresh(visit)
    assert visit.status == VisitStatus.MISSED_BY_TEAM
    claims = db.session.scalars(sa.select(SlotClaim).where(SlotClaim.visit_id == visit.id))
    assert claims.all() == []
    told = {n.user_id: n.message for n in db.session.scalars(sa.select(Notification))}
    assert "Please book again" in told[clinic["account"].id]
    assert "nobody of the team joined" in told[clinic["doctor"].id]
    assert jobs.close_past_visits() == {"no_shows": 0, "missed_by_team": 0, "ended": 0}


def test_a_visit_left_in_progress_is_completed(client, booked):
    visit = under_way(booked())
    join(client, token_of(visit))
    join(client, token_of(visit, DOCTOR))
    later = visit.ends_at + timedelta(minutes=61)
    assert jobs.close_past_visits(now=later) == {"no_shows": 0, "missed_by_team": 0, "ended": 1}
    db.session.refresh(visit)
    assert (visit.status, visit.ended_at) == (VisitStatus.COMPLETED, later)
    completed = [e for e in history("visit", visit.id) if e.name == "visit.completed"]
    assert [(e.from_state, e.to_state, e.actor_id) for e in completed] == [
        ("in_progress", "completed", None)
    ]
