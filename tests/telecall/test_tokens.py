"""Join links: the resident's works without signing in and for that visit only; a tampered
link, or one signed with another key, is refused; so is a link after the visit (its end plus
the grace), a link to a room not open yet (saying when it opens), the link of a removed
participant, an old link after a new one was given out, and any link of a cancelled visit."""

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeSerializer

from app.extensions import db
from telecall import calls, tokens
from telecall.models import ParticipantRole, RecordingConsent
from tests.telecall.conftest import local_at, seat
from tests.telecall.test_call_api import DOCTOR, call, join, token_of, under_way


def refusal(response) -> tuple[int, str]:
    return response.status_code, response.get_json()["message"]


def test_the_residents_link_works_without_signing_in(client, booked):
    visit = under_way(booked())
    body = join(client, token_of(visit))  # no cookie, no Authorization header
    assert (body["participant"]["role"], body["visit"]["id"]) == ("resident", visit.id)


def test_a_request_without_a_link_is_refused(client, booked):
    under_way(booked())
    answer = client.post("/api/v1/call/join", json={"client": "browser"})
    assert answer.status_code == 403
    assert "X-Join-Token" in answer.get_json()["message"]


def test_another_visits_link_cannot_act_on_this_visit(client, booked):
    mine = under_way(booked())
    theirs = under_way(booked(local_at(1, 11)), minutes_ago=1)
    foreign = token_of(theirs)
    join(client, foreign)
    answer = call(
        client,
        foreign,
        "signal",
        {"to": seat(mine, DOCTOR).id, "kind": "offer", "payload": {"type": "offer", "sdp": "x"}},
    )
    assert answer.status_code == 422
    assert list(answer.get_json()["errors"]["json"]) == ["to"]
    assert call(client, foreign, "consent").status_code == 201
    consents = db.session.scalars(sa.select(RecordingConsent)).all()
    assert [c.visit_id for c in consents] == [theirs.id]  # the consent went to its own visit


@pytest.mark.parametrize("how", ["tampered", "other key", "other salt", "garbage"])
def test_a_forged_link_is_refused(client, booked, app, how):
    visit = under_way(booked())
    participant = seat(visit)
    genuine = tokens.make_token(participant)
    forged = {
        "tampered": genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB"),
        "other key": URLSafeSerializer("not-our-key", salt=tokens.SALT).dumps(
            [participant.id, participant.token_nonce]
        ),
        "other salt": URLSafeSerializer(app.config["SECRET_KEY"], salt="other").dumps(
            [participant.id, participant.token_nonce]
        ),
        "garbage": "not.a.token",
    }[how]
    answer = call(client, forged, "join", {"client": "browser"})
    assert refusal(answer) == (403, "this link is not valid")


def test_a_link_signed_for_a_participant_that_does_not_exist_is_refused(client, booked, app):
    under_way(booked())
    token = URLSafeSerializer(app.config["SECRET_KEY"], salt=tokens.SALT).dumps([9999, "x"])
    answer = call(client, token, "join", {"client": "browser"})
    assert refusal(answer) == (403, "this link is no longer valid: ask for a new one")


def test_a_link_expires_an_hour_after_the_visit_ends(client, booked):
    visit = booked()
    under_way(visit, minutes_ago=20 + 59)  # ended 59 minutes ago: still inside the grace
    assert call(client, token_of(visit), "join", {"client": "browser"}).status_code == 200
    under_way(visit, minutes_ago=20 + 61)
    answer = call(client, token_of(visit), "join", {"client": "browser"})
    assert refusal(answer) == (403, "this link has expired: the visit is over")
    events = client.get("/api/v1/call/events", headers={"X-Join-Token": token_of(visit)})
    assert events.status_code == 403


def test_the_room_opens_thirty_minutes_before_and_says_when(client, booked, monkeypatch, app):
    visit = booked()  # tomorrow 09:00
    answer = call(client, token_of(visit), "join", {"client": "browser"})
    assert refusal(answer) == (403, "the visit room opens 30 minutes before the start")
    opens_at = datetime.fromisoformat(answer.get_json()["opens_at"])
    assert opens_at == local_at(1, 8, 30)
    events = client.get("/api/v1/call/events", headers={"X-Join-Token": token_of(visit)})
    assert events.status_code == 403
    # the link itself is good: the device check takes it (and says the media is not there)
    monkeypatch.setitem(app.config, "MEDIA_URL", "http://127.0.0.1:9")
    check = client.post(
        "/api/v1/device-check/offer",
        json={"type": "offer", "sdp": "v=0\r\n" + "a=x\r\n" * 3},
        headers={"X-Join-Token": token_of(visit)},
    )
    assert check.status_code == 503
    # 29 minutes before the start the room is open
    under_way(visit, minutes_ago=-29)
    assert call(client, token_of(visit), "join", {"client": "browser"}).status_code == 200


def test_a_removed_participants_link_is_refused(client, booked, clinic, api_token):
    visit = under_way(booked())
    headers = api_token(clinic["doctor"])
    invited = client.post(
        f"/api/v1/visits/{visit.id}/participants",
        json={"role": "interpreter", "display_name": "Li Na"},
        headers=headers,
    )
    assert invited.status_code == 201, invited.get_json()
    link = invited.get_json()["join_url"].rsplit("/v/", 1)[1]
    assert join(client, link)["participant"]["role"] == "interpreter"
    removed = client.delete(
        f"/api/v1/visits/{visit.id}/participants/{invited.get_json()['id']}", headers=headers
    )
    assert removed.status_code == 204
    answer = call(client, link, "join", {"client": "browser"})
    assert refusal(answer) == (403, "you were removed from this visit")


def test_a_new_link_revokes_the_old_one(client, booked, clinic):
    visit = under_way(booked())
    participant = seat(visit)
    old = tokens.make_token(participant)
    calls.new_link(clinic["doctor"], participant)
    answer = call(client, old, "join", {"client": "browser"})
    assert refusal(answer) == (403, "this link is no longer valid: ask for a new one")
    assert join(client, tokens.make_token(participant))["participant"]["id"] == participant.id


def test_a_cancelled_visits_links_are_refused(client, booked, clinic, api_token):
    visit = booked()
    token = token_of(visit)
    cancelled = client.post(
        f"/api/v1/visits/{visit.id}/cancel",
        json={"reason": "the doctor is ill"},
        headers=api_token(clinic["doctor"]),
    )
    assert cancelled.status_code == 200
    under_way(visit)  # even at the time it would have taken place
    answer = call(client, token, "join", {"client": "browser"})
    assert refusal(answer) == (403, "this visit was cancelled")


def test_the_join_links_point_at_the_one_tap_page(app, booked):
    visit = booked()
    for role in (ParticipantRole.RESIDENT, ParticipantRole.DOCTOR):
        participant = seat(visit, role)
        url = tokens.join_url(participant)
        assert url.startswith(app.config["PUBLIC_URL"].rstrip("/") + "/v/")
        assert tokens.read_token(url.rsplit("/", 1)[1]).id == participant.id
    # unguessable: two participants' tokens share nothing but the format
    first, second = (token_of(visit), token_of(visit, DOCTOR))
    assert first != second
    assert len(first) > 40


def test_links_are_read_at_use_time_not_from_the_token(booked):
    """A rescheduled visit keeps its links: the window is the visit's, read when used."""
    visit = booked()
    participant = seat(visit)
    token = tokens.make_token(participant)
    assert tokens.read_token(token, now=visit.ends_at + timedelta(minutes=59)).id == participant.id
    with pytest.raises(tokens.JoinRefused):
        tokens.read_token(token, now=visit.ends_at + timedelta(minutes=61))
