"""Booking, rescheduling and cancelling through the JSON API, as the resident, a caregiver and
the team would: who may book, what is refused (each refusal naming its field), a taken time,
a moved visit freeing its old time while its join links keep working, and a cancellation
that needs a reason, frees the time and tells the others."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.notifications.models import Notification
from app.residents.models import CaregiverScope
from app.timeutil import utcnow
from telecall import tokens
from telecall.models import ParticipantRole, SlotClaim, Visit, VisitStatus, VisitType
from tests.telecall.conftest import local_at, seat


def book(client, headers, clinic, starts_at, visit_type="video_consult", **extra):
    body = {
        "resident_id": clinic["resident"].id,
        "doctor_id": clinic["doctor"].id,
        "visit_type": visit_type,
        "starts_at": starts_at.isoformat(),
        **extra,
    }
    return client.post("/api/v1/visits", json=body, headers=headers)


def errors_of(response) -> dict:
    return response.get_json()["errors"]["json"]


def visit_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Visit.id)))


def notices_of(user, kind: str) -> list[Notification]:
    query = sa.select(Notification).where(
        Notification.user_id == user.id, Notification.kind == kind
    )
    return list(db.session.scalars(query))


@pytest.mark.parametrize("who", ["account", "carer", "doctor", "nurse"])
def test_the_resident_a_caregiver_and_the_team_book(client, clinic, api_token, who):
    answer = book(client, api_token(clinic[who]), clinic, local_at(1, 9), reason="dizzy")
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert (body["status"], body["visit_type"], body["booked_by_id"]) == (
        "booked",
        "video_consult",
        clinic[who].id,
    )
    assert body["starts_at"] == local_at(1, 9).isoformat()
    assert body["ends_at"] == local_at(1, 9, 20).isoformat()
    visit = client.get(f"/api/v1/visits/{body['id']}", headers=api_token(clinic["account"]))
    roles = {p["role"]: p for p in visit.get_json()["participants"]}
    assert roles.keys() == {"resident", "doctor"}
    assert roles["resident"]["user_id"] == clinic["account"].id
    # the resident's side hears of it; the doctor too unless they booked it themselves
    assert len(notices_of(clinic["account"], "visit.booked")) == 1
    assert len(notices_of(clinic["doctor"], "visit.booked")) == (0 if who == "doctor" else 1)


def test_a_caregiver_with_view_scope_cannot_book(client, clinic, api_token, make_link):
    viewer = make_link(clinic["resident"], scope=CaregiverScope.VIEW).caregiver
    answer = book(client, api_token(viewer), clinic, local_at(1, 9))
    assert answer.status_code == 404
    assert answer.get_json()["message"] == "resident not found"
    assert visit_count() == 0


def test_an_unsigned_resident_is_refused_naming_resident_id(client, clinic, api_token):
    body = {
        "resident_id": clinic["unsigned"].id,
        "doctor_id": clinic["doctor"].id,
        "visit_type": "video_consult",
        "starts_at": local_at(1, 9).isoformat(),
    }
    answer = client.post("/api/v1/visits", json=body, headers=api_token(clinic["doctor"]))
    assert answer.status_code == 422
    assert "family-doctor team" in errors_of(answer)["resident_id"][0]


def test_a_doctor_not_of_the_team_is_refused_naming_doctor_id(client, clinic, api_token):
    answer = book(
        client,
        api_token(clinic["account"]),
        clinic,
        local_at(1, 9),
        doctor_id=clinic["outsider"].id,
    )
    assert answer.status_code == 422
    assert list(errors_of(answer)) == ["doctor_id"]


def test_a_taken_time_is_a_conflict_naming_starts_at(client, clinic, api_token):
    headers = api_token(clinic["account"])
    assert book(client, headers, clinic, local_at(1, 9)).status_code == 201
    again = book(client, api_token(clinic["carer"]), clinic, local_at(1, 9))
    assert again.status_code == 409
    assert "not free" in errors_of(again)["starts_at"][0]
    overlapping = book(client, headers, clinic, local_at(1, 9, 15), "online_revisit")
    assert overlapping.status_code == 409
    assert list(errors_of(overlapping)) == ["starts_at"]
    assert visit_count() == 1


def test_times_outside_the_hours_or_too_far_ahead_are_refused(client, clinic, api_token):
    headers = api_token(clinic["account"])
    evening = book(client, headers, clinic, local_at(1, 19))
    assert (evening.status_code, list(errors_of(evening))) == (409, ["starts_at"])
    far = book(client, headers, clinic, local_at(40, 9))
    assert (far.status_code, list(errors_of(far))) == (422, ["starts_at"])
    assert "28 days" in errors_of(far)["starts_at"][0]


def test_rescheduling_frees_the_old_time_and_keeps_the_links(client, clinic, api_token, booked):
    visit = booked()  # tomorrow 09:00, by the resident
    link = tokens.make_token(seat(visit))
    headers = api_token(clinic["carer"])
    moved = client.post(
        f"/api/v1/visits/{visit.id}/reschedule",
        json={"starts_at": local_at(1, 10).isoformat()},
        headers=headers,
    )
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["starts_at"] == local_at(1, 10).isoformat()
    # someone else books the old time
    assert book(client, api_token(clinic["nurse"]), clinic, local_at(1, 9)).status_code == 201
    # the new time is held
    taken = book(client, api_token(clinic["account"]), clinic, local_at(1, 10))
    assert taken.status_code == 409
    # the resident's link still opens this visit, now at its new time
    participant = tokens.read_token(link)
    assert participant.visit_id == visit.id
    assert tokens.call_opens_at(participant) == local_at(1, 9, 30)
    assert len(notices_of(clinic["doctor"], "visit.rescheduled")) == 1


def test_rescheduling_to_another_doctor_revokes_the_old_doctors_link(
    client, clinic, booked, api_token
):
    visit = booked()
    old_doctor_link = tokens.make_token(seat(visit, ParticipantRole.DOCTOR))
    nurse = clinic["nurse"]
    from telecall import availability
    from tests.telecall.test_availability import put_week

    windows = [{"weekday": d, "start_time": "08:00", "end_time": "18:00"} for d in range(7)]
    assert put_week(client, api_token(nurse), clinic["team"].id, windows).status_code == 200
    assert availability.is_free(nurse.id, clinic["team"].id, visit.visit_type, local_at(1, 9))
    moved = client.post(
        f"/api/v1/visits/{visit.id}/reschedule",
        json={"starts_at": local_at(1, 9).isoformat(), "doctor_id": nurse.id},
        headers=api_token(clinic["account"]),
    )
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["doctor_id"] == nurse.id
    with pytest.raises(tokens.JoinRefused):
        tokens.read_token(old_doctor_link)
    assert tokens.read_token(tokens.make_token(seat(visit, ParticipantRole.DOCTOR))).user_id == (
        nurse.id
    )


def test_a_visit_moves_into_time_overlapping_its_own(client, clinic, api_token, booked):
    """A re-visit holds 09:00-09:15 and the consult 09:20-09:40: moving the consult to 09:15
    overlaps its own time, which the slot list offers only when told which visit is moving."""
    booked(local_at(1, 9), VisitType.ONLINE_REVISIT)
    consult = booked(local_at(1, 9, 20))
    headers = api_token(clinic["account"])
    tomorrow = local_at(1, 12).date().isoformat()
    query = {"resident_id": clinic["resident"].id, "visit_type": "video_consult", "first": tomorrow}

    def offered(**extra) -> set[str]:
        answer = client.get("/api/v1/visit-slots", query_string=query | extra, headers=headers)
        assert answer.status_code == 200, answer.get_json()
        return {slot["starts_at"] for slot in answer.get_json()}

    assert local_at(1, 9, 15).isoformat() not in offered()
    assert local_at(1, 9, 15).isoformat() in offered(visit_id=consult.id)
    moved = client.post(
        f"/api/v1/visits/{consult.id}/reschedule",
        json={"starts_at": local_at(1, 9, 15).isoformat()},
        headers=headers,
    )
    assert moved.status_code == 200, moved.get_json()
    claims = sa.select(SlotClaim.slot_start).where(SlotClaim.visit_id == consult.id)
    assert min(db.session.scalars(claims)) == local_at(1, 9, 15)
    other = client.get(
        "/api/v1/visit-slots", query_string=query | {"visit_id": 10**6}, headers=headers
    )
    assert (other.status_code, list(errors_of(other))) == (422, ["visit_id"])


def test_rescheduling_onto_a_taken_time_changes_nothing(client, clinic, api_token, booked):
    first, second = booked(local_at(1, 9)), booked(local_at(1, 10))
    answer = client.post(
        f"/api/v1/visits/{second.id}/reschedule",
        json={"starts_at": local_at(1, 9).isoformat()},
        headers=api_token(clinic["account"]),
    )
    assert answer.status_code == 409
    assert list(errors_of(answer)) == ["starts_at"]
    claims = sa.select(SlotClaim.visit_id).where(SlotClaim.slot_start == local_at(1, 10))
    assert list(db.session.scalars(claims)) == [second.id]  # still holds its time
    assert db.session.get(Visit, first.id).starts_at == local_at(1, 9)


def test_cancelling_needs_a_reason_frees_the_time_and_tells_the_others(
    client, clinic, api_token, booked
):
    visit = booked()
    headers = api_token(clinic["account"])
    url = f"/api/v1/visits/{visit.id}/cancel"
    missing = client.post(url, json={}, headers=headers)
    assert (missing.status_code, list(errors_of(missing))) == (422, ["reason"])
    blank = client.post(url, json={"reason": "   "}, headers=headers)
    assert (blank.status_code, list(errors_of(blank))) == (422, ["reason"])
    assert db.session.get(Visit, visit.id).status == VisitStatus.BOOKED

    done = client.post(url, json={"reason": "feeling better"}, headers=headers)
    assert done.status_code == 200, done.get_json()
    assert (done.get_json()["status"], done.get_json()["cancel_reason"]) == (
        "cancelled",
        "feeling better",
    )
    assert book(client, api_token(clinic["nurse"]), clinic, local_at(1, 9)).status_code == 201
    assert len(notices_of(clinic["doctor"], "visit.cancelled")) == 1
    assert len(notices_of(clinic["carer"], "visit.cancelled")) == 1
    assert notices_of(clinic["account"], "visit.cancelled") == []  # they did it themselves


def test_only_a_booked_future_visit_changes(client, clinic, api_token, booked):
    headers = api_token(clinic["doctor"])
    cancelled = booked(local_at(1, 9))
    assert (
        client.post(
            f"/api/v1/visits/{cancelled.id}/cancel", json={"reason": "ill"}, headers=headers
        ).status_code
        == 200
    )
    begun = booked(local_at(1, 10))
    begun.starts_at = utcnow() - timedelta(minutes=1)
    begun.ends_at = begun.starts_at + timedelta(minutes=20)
    running = booked(local_at(1, 11))
    running.status = VisitStatus.IN_PROGRESS
    for visit, status in ((cancelled, "cancelled"), (begun, "booked"), (running, "in_progress")):
        for action, body in (
            ("cancel", {"reason": "no"}),
            ("reschedule", {"starts_at": local_at(2, 9).isoformat()}),
        ):
            answer = client.post(f"/api/v1/visits/{visit.id}/{action}", json=body, headers=headers)
            assert answer.status_code == 409, (visit.id, action)
            assert answer.get_json()["current"] == status


def test_a_caregiver_with_view_scope_cannot_change_a_visit(
    client, clinic, api_token, booked, make_link
):
    visit = booked()
    viewer = make_link(clinic["resident"], scope=CaregiverScope.VIEW).caregiver
    answer = client.post(
        f"/api/v1/visits/{visit.id}/cancel", json={"reason": "x"}, headers=api_token(viewer)
    )
    assert answer.status_code == 403
    assert db.session.get(Visit, visit.id).status == VisitStatus.BOOKED


def test_visits_list_shows_each_person_only_theirs(client, clinic, api_token, booked):
    visit = booked()
    mine = client.get("/api/v1/visits", headers=api_token(clinic["account"])).get_json()
    assert [v["id"] for v in mine] == [visit.id]
    theirs = client.get("/api/v1/visits", headers=api_token(clinic["outsider"])).get_json()
    assert theirs == []
    hidden = client.get(f"/api/v1/visits/{visit.id}", headers=api_token(clinic["outsider"]))
    assert hidden.status_code == 404
