"""The follow-up form the doctor fills in during a visit (each bad field named, the saved
form on the visit record) and a completed remote follow-up counting toward the resident's
follow-up schedule: it fulfils the earliest due follow-up (done by video), or is recorded as
a follow-up done by video when none was planned."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.followups import services as followups
from app.followups.models import FollowUp, FollowUpMode, FollowUpSource, FollowUpStatus
from app.timeutil import local_today
from telecall import jobs
from telecall.models import VisitType
from tests.telecall.conftest import local_at
from tests.telecall.test_call_api import DOCTOR, join, token_of, under_way

GOOD_FORM = {
    "condition": "hypertension",
    "symptoms": ["headache_dizziness"],
    "systolic": 148,
    "diastolic": 92,
    "weight_kg": 63.5,
    "heart_rate": 76,
    "cigarettes_per_day": 0,
    "salt_intake": "moderate",
    "medication_adherence": "regular",
    "side_effects": False,
    "classification": "unsatisfactory",
    "next_visit_date": (local_today() + timedelta(days=14)).isoformat(),
}


@pytest.fixture
def running(client, booked, clinic, api_token):
    """A visit in progress (the doctor and the resident joined) and the doctor's headers."""
    visit = under_way(booked())
    join(client, token_of(visit))
    join(client, token_of(visit, DOCTOR))
    return visit, api_token(clinic["doctor"])


def put_form(client, visit, headers, form):
    return client.put(f"/api/v1/visits/{visit.id}/form", json=form, headers=headers)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"diastolic": 150}, "diastolic"),  # not below the systolic
        ({"diastolic": 148}, "diastolic"),
        ({"diastolic": None}, "diastolic"),  # one pressure without the other
        ({"symptoms": ["headache_dizziness", "third_eye"]}, "symptoms"),
        ({"classification": None}, "classification"),
        ({"side_effects": True}, "side_effects_detail"),
        ({"systolic": 400}, "systolic"),
        ({"salt_intake": "lots"}, "salt_intake"),
        ({"mood": "fine"}, "mood"),  # an unknown field is named too
    ],
)
def test_each_bad_field_is_named(client, running, change, field):
    visit, headers = running
    form = {**GOOD_FORM, **change}
    form = {k: v for k, v in form.items() if not (k == "classification" and v is None)}
    answer = put_form(client, visit, headers, form)
    assert answer.status_code == 422
    assert list(answer.get_json()["errors"]["json"]) == [field]
    db.session.refresh(visit)
    assert visit.form is None


def test_the_saved_form_is_on_the_visit_record(client, running, clinic, api_token):
    visit, headers = running
    form = {**GOOD_FORM, "side_effects": True, "side_effects_detail": "dry cough"}
    saved = put_form(client, visit, headers, form)
    assert saved.status_code == 200, saved.get_json()
    for reader in (clinic["doctor"], clinic["account"]):
        record = client.get(f"/api/v1/visits/{visit.id}", headers=api_token(reader))
        assert record.get_json()["form"] == form
    notes = client.put(
        f"/api/v1/visits/{visit.id}/notes", json={"notes": "BP high; review"}, headers=headers
    )
    assert notes.get_json()["notes"] == "BP high; review"


def test_only_the_team_fills_the_form_and_only_once_the_visit_began(
    client, booked, clinic, api_token
):
    visit = booked()
    doctor = api_token(clinic["doctor"])
    early = put_form(client, visit, doctor, GOOD_FORM)
    assert (early.status_code, early.get_json()["current"]) == (409, "booked")
    outsider = put_form(client, visit, api_token(clinic["outsider"]), GOOD_FORM)
    assert outsider.status_code == 404
    resident = put_form(client, visit, api_token(clinic["account"]), GOOD_FORM)
    assert resident.status_code == 403


def _remote_follow_up_done(client, booked, clinic, api_token):
    visit = under_way(booked(visit_type=VisitType.REMOTE_FOLLOW_UP))
    join(client, token_of(visit))
    join(client, token_of(visit, DOCTOR))
    ended = client.post(f"/api/v1/visits/{visit.id}/end", headers=api_token(clinic["doctor"]))
    assert ended.status_code == 200, ended.get_json()
    db.session.refresh(visit)
    return visit


def test_a_remote_follow_up_fulfils_the_earliest_due_follow_up(client, booked, clinic, api_token):
    resident, team = clinic["resident"], clinic["team"]
    later = followups.plan(
        resident.id, team.id, local_today() + timedelta(days=20), "BP", FollowUpSource.MANUAL
    )
    earliest = followups.plan(
        resident.id, team.id, local_today() + timedelta(days=3), "BP", FollowUpSource.MANUAL
    )
    visit = _remote_follow_up_done(client, booked, clinic, api_token)
    db.session.refresh(earliest)
    db.session.refresh(later)
    assert visit.follow_up_id == earliest.id
    assert (earliest.status, earliest.mode, earliest.done_at) == (
        FollowUpStatus.DONE,
        FollowUpMode.VIDEO,  # planned as a clinic visit, done by video
        visit.ended_at,
    )
    assert later.status == FollowUpStatus.DUE
    record = client.get(f"/api/v1/visits/{visit.id}", headers=api_token(clinic["doctor"]))
    assert record.get_json()["follow_up_id"] == earliest.id


def test_a_remote_follow_up_with_nothing_planned_is_recorded_as_done(
    client, booked, clinic, api_token
):
    visit = _remote_follow_up_done(client, booked, clinic, api_token)
    [done] = db.session.scalars(
        sa.select(FollowUp).where(FollowUp.resident_id == clinic["resident"].id)
    ).all()
    assert (done.status, done.mode, done.team_id, done.id) == (
        FollowUpStatus.DONE,
        FollowUpMode.VIDEO,
        clinic["team"].id,
        visit.follow_up_id,
    )


def test_without_a_form_a_chronic_follow_up_stays_due(client, booked, clinic, api_token):
    """Only a form's classification can plan a chronic schedule's next contact, so a remote
    follow-up without one is recorded on its own and the chronic one stays due."""
    chronic = followups.plan(
        clinic["resident"].id,
        clinic["team"].id,
        local_today() + timedelta(days=3),
        "BP",
        FollowUpSource.CHRONIC_SCHEDULE,
        condition="hypertension",
    )
    visit = _remote_follow_up_done(client, booked, clinic, api_token)
    db.session.refresh(chronic)
    assert chronic.status == FollowUpStatus.DUE
    done = db.session.get(FollowUp, visit.follow_up_id)
    assert (done.status, done.condition, done.source) == (
        FollowUpStatus.DONE,
        None,
        FollowUpSource.MANUAL,
    )


def test_a_video_consult_does_not_count_as_a_follow_up(client, booked, clinic, api_token):
    planned = followups.plan(
        clinic["resident"].id, clinic["team"].id, local_today(), "BP", FollowUpSource.MANUAL
    )
    visit = under_way(booked())
    join(client, token_of(visit, DOCTOR))
    client.post(f"/api/v1/visits/{visit.id}/end", headers=api_token(clinic["doctor"]))
    db.session.refresh(planned)
    assert planned.status == FollowUpStatus.DUE


def test_a_remote_follow_up_closed_by_the_job_counts_too(client, booked, clinic):
    visit = under_way(booked(local_at(1, 10), VisitType.REMOTE_FOLLOW_UP))
    join(client, token_of(visit))
    join(client, token_of(visit, DOCTOR))
    assert jobs.close_past_visits(now=visit.ends_at + timedelta(hours=2))["ended"] == 1
    db.session.refresh(visit)
    assert db.session.get(FollowUp, visit.follow_up_id).status == FollowUpStatus.DONE
