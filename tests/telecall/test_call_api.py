"""The call API as a peer's client uses it (X-Join-Token, no sign-in): joining returns the
peers present and the ICE servers (none by default: never a public STUN server), the doctor
joining starts the visit, messages relay to peers of the same visit only and not too large,
leaving tells the others, quality samples are summarised on the visit record, and the event
stream delivers each message once, also across a reconnect with Last-Event-ID."""

import json
import queue
import threading
from datetime import timedelta

import sqlalchemy as sa

from app.audit.models import Event
from app.extensions import db
from app.timeutil import utcnow
from telecall.models import ParticipantRole, Visit, VisitStatus
from telecall.tokens import make_token
from tests.telecall.conftest import local_at, seat

RESIDENT, DOCTOR = ParticipantRole.RESIDENT, ParticipantRole.DOCTOR


# --- helpers shared by the other call tests ------------------------------------------------


def under_way(visit: Visit, minutes_ago: int = 5) -> Visit:
    """Move a booked visit so that it began `minutes_ago` (tests cannot wait for tomorrow)."""
    length = visit.ends_at - visit.starts_at
    visit.starts_at = utcnow().replace(microsecond=0) - timedelta(minutes=minutes_ago)
    visit.ends_at = visit.starts_at + length
    db.session.flush()
    return visit


def token_of(visit: Visit, role=RESIDENT) -> str:
    return make_token(seat(visit, role))


def call(client, token: str, path: str, body=None, method: str = "POST"):
    return client.open(
        f"/api/v1/call/{path}", method=method, json=body, headers={"X-Join-Token": token}
    )


def join(client, token: str, client_kind: str = "browser") -> dict:
    answer = call(client, token, "join", {"client": client_kind})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


class EventReader:
    """An open `GET /api/v1/call/events`. The stream yields as soon as messages wait, so a
    test reads only what it knows was sent (a marker message proves nothing else came
    before it); a thread with a timeout turns a missing message into a failure, not a hang."""

    def __init__(self, client, token: str, after: int | None = None, last_id: int | None = None):
        headers = {"X-Join-Token": token}
        if last_id is not None:
            headers["Last-Event-ID"] = str(last_id)
        query = {} if after is None else {"after": after}
        self.response = client.get(
            "/api/v1/call/events", headers=headers, query_string=query, buffered=False
        )
        self.status = self.response.status_code
        self.chunks = iter(self.response.response)

    def _next_chunk(self, timeout: float) -> str:
        box: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: box.put(next(self.chunks, b"")), daemon=True).start()
        try:
            chunk = box.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("the stream sent nothing") from None
        return chunk.decode() if isinstance(chunk, bytes) else chunk

    def take(self, count: int, timeout: float = 5.0) -> list[dict]:
        """Messages {"id", "from", "kind", "payload"} until at least `count` came."""
        found: list[dict] = []
        while len(found) < count:
            found += parse(self._next_chunk(timeout))
        return found

    def close(self) -> None:
        self.response.close()


def parse(text: str) -> list[dict]:
    messages = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in fields:
            data = json.loads(fields["data"])
            assert fields["id"] == str(data["id"])  # the SSE id is the message's id
            messages.append(data)
    return messages


# --- the tests -----------------------------------------------------------------------------


def test_the_resident_joins_without_signing_in_and_gets_no_ice_servers(client, booked):
    visit = under_way(booked())
    body = join(client, token_of(visit))
    assert body["participant"] == {
        "id": seat(visit).id,
        "role": "resident",
        "display_name": visit.resident.name,
    }
    assert body["visit"]["id"] == visit.id
    assert body["visit"]["status"] == "booked"  # the doctor is not there yet
    assert body["peers"] == []
    assert body["ice_servers"] == []
    assert "stun" not in json.dumps(body).lower()  # no public STUN server sneaks in
    assert isinstance(body["after"], int)


def test_the_doctor_joining_starts_the_visit_and_sees_who_is_waiting(client, booked):
    visit = under_way(booked())
    resident = join(client, token_of(visit))
    stream = EventReader(client, token_of(visit), after=resident["after"])
    doctor = join(client, token_of(visit, DOCTOR))
    assert [p["role"] for p in doctor["peers"]] == ["resident"]
    assert doctor["visit"]["status"] == "in_progress"
    [joined] = stream.take(1)
    stream.close()
    assert (joined["kind"], joined["from"]) == ("joined", None)
    assert joined["payload"]["peer"] == doctor["participant"]

    db.session.refresh(visit)
    assert visit.status == VisitStatus.IN_PROGRESS
    assert visit.started_at is not None
    started = db.session.scalars(
        sa.select(Event).where(Event.entity_id == visit.id, Event.name == "visit.started")
    ).all()
    assert [(e.from_state, e.to_state, e.actor_id) for e in started] == [
        ("booked", "in_progress", visit.doctor_id)
    ]


def test_an_offer_reaches_its_peer_once_across_a_reconnect(client, booked):
    visit = under_way(booked())
    resident = join(client, token_of(visit))
    doctor = join(client, token_of(visit, DOCTOR))
    offer = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}
    sent = call(
        client,
        token_of(visit, DOCTOR),
        "signal",
        {"to": resident["participant"]["id"], "kind": "offer", "payload": offer},
    )
    assert sent.status_code == 201, sent.get_json()
    stream = EventReader(client, token_of(visit), after=resident["after"])
    joined, got = stream.take(2)
    stream.close()
    assert joined["kind"] == "joined"
    assert (got["id"], got["kind"], got["from"], got["payload"]) == (
        sent.get_json()["id"],
        "offer",
        doctor["participant"]["id"],
        offer,
    )
    # a reconnect from the last id gets only what came after it
    answer = {"type": "answer", "sdp": "v=0\r\n"}
    later = call(
        client,
        token_of(visit, DOCTOR),
        "signal",
        {"to": resident["participant"]["id"], "kind": "candidate", "payload": answer},
    )
    again = EventReader(client, token_of(visit), last_id=got["id"])
    assert [m["id"] for m in again.take(1)] == [later.get_json()["id"]]  # nothing twice
    again.close()


def test_a_message_to_another_visits_participant_is_refused_naming_to(client, booked):
    visit = under_way(booked())
    other = under_way(booked(local_at(1, 11)), minutes_ago=2)
    join(client, token_of(visit, DOCTOR))
    answer = call(
        client,
        token_of(visit, DOCTOR),
        "signal",
        {"to": seat(other).id, "kind": "offer", "payload": {"type": "offer", "sdp": "x"}},
    )
    assert answer.status_code == 422
    assert list(answer.get_json()["errors"]["json"]) == ["to"]
    marker = call(
        client,
        token_of(other, DOCTOR),
        "signal",
        {"to": seat(other).id, "kind": "candidate", "payload": {"candidate": ""}},
    )
    stream = EventReader(client, token_of(other), after=0)
    assert [m["id"] for m in stream.take(1)] == [marker.get_json()["id"]]  # nothing else
    stream.close()


def test_a_too_large_or_unknown_message_is_refused(client, booked):
    visit = under_way(booked())
    to = seat(visit).id
    token = token_of(visit, DOCTOR)
    huge = {"type": "offer", "sdp": "a=" + "x" * (70 * 1024)}
    answer = call(client, token, "signal", {"to": to, "kind": "offer", "payload": huge})
    assert answer.status_code == 422
    assert list(answer.get_json()["errors"]["json"]) == ["payload"]
    answer = call(client, token, "signal", {"to": to, "kind": "ended", "payload": {}})
    assert answer.status_code == 422
    assert "kind" in answer.get_json()["errors"]["json"]


def test_leaving_tells_the_others_and_the_record_shows_who_is_present(
    client, booked, clinic, api_token
):
    visit = under_way(booked())
    resident = join(client, token_of(visit))
    doctor = join(client, token_of(visit, DOCTOR))
    headers = api_token(clinic["doctor"])

    def present() -> dict:
        record = client.get(f"/api/v1/visits/{visit.id}", headers=headers).get_json()
        return {p["role"]: p["present"] for p in record["participants"]}

    assert present() == {"resident": True, "doctor": True}
    assert call(client, token_of(visit), "leave").status_code == 204
    assert present() == {"resident": False, "doctor": True}
    stream = EventReader(client, token_of(visit, DOCTOR), after=doctor["after"])
    [left] = stream.take(1)
    stream.close()
    assert (left["kind"], left["payload"]) == ("left", {"peer_id": resident["participant"]["id"]})
    # back again: the doctor is among the peers, and is told
    assert [p["id"] for p in join(client, token_of(visit))["peers"]] == [
        doctor["participant"]["id"]
    ]
    assert present() == {"resident": True, "doctor": True}


def test_quality_samples_are_summarised_on_the_visit(client, booked, clinic, api_token):
    visit = under_way(booked())
    token = token_of(visit, DOCTOR)
    join(client, token)
    peer = seat(visit).id
    for rtt, loss, kbps, audio_only in (
        (40, 0, 900, False),
        (60, 2, 700, False),
        (300, 10, 40, True),
    ):
        sample = {
            "peer_id": peer,
            "rtt_ms": rtt,
            "loss_percent": loss,
            "bitrate_kbps": kbps,
            "audio_only": audio_only,
        }
        assert call(client, token, "quality", sample).status_code == 201
    bad = call(client, token, "quality", {"peer_id": peer, "loss_percent": 140})
    assert (bad.status_code, list(bad.get_json()["errors"]["json"])) == (422, ["loss_percent"])
    record = client.get(f"/api/v1/visits/{visit.id}", headers=api_token(clinic["doctor"]))
    assert record.get_json()["quality"] == {
        "samples": 3,
        "rtt_ms_median": 60.0,
        "loss_percent_mean": 4.0,
        "bitrate_kbps_mean": 546.7,
        "audio_only_share": 0.33,
    }


def test_a_quality_sample_about_a_peer_of_another_visit_is_refused(client, booked):
    visit = under_way(booked())
    other = booked(local_at(1, 11))
    answer = call(client, token_of(visit), "quality", {"peer_id": seat(other).id, "rtt_ms": 50})
    assert answer.status_code == 422
    assert list(answer.get_json()["errors"]["json"]) == ["peer_id"]


def test_the_doctor_ends_the_visit_and_everyone_present_is_told(client, booked, clinic, api_token):
    visit = under_way(booked())
    resident = join(client, token_of(visit))
    join(client, token_of(visit, DOCTOR))
    stream = EventReader(client, token_of(visit), after=resident["after"])
    ended = client.post(f"/api/v1/visits/{visit.id}/end", headers=api_token(clinic["doctor"]))
    assert ended.status_code == 200, ended.get_json()
    assert ended.get_json()["status"] == "completed"
    assert [m["kind"] for m in stream.take(2)] == ["joined", "ended"]
    stream.close()
    refused = call(client, token_of(visit), "join", {"client": "browser"})
    assert (refused.status_code, refused.get_json()["message"]) == (403, "this visit is over")


def test_the_doctor_invites_up_to_four_in_all_each_with_their_own_link(
    client, booked, clinic, api_token
):
    from app.notifications.models import Notification
    from telecall.tokens import read_token

    visit = under_way(booked())
    headers = api_token(clinic["doctor"])
    url = f"/api/v1/visits/{visit.id}/participants"
    carer = client.post(
        url, json={"role": "caregiver", "user_id": clinic["carer"].id}, headers=headers
    )
    assert carer.status_code == 201, carer.get_json()
    assert carer.get_json()["display_name"] == clinic["carer"].display_name
    [told] = db.session.scalars(
        sa.select(Notification).where(
            Notification.user_id == clinic["carer"].id, Notification.kind == "visit.invited"
        )
    ).all()
    assert told.link == "/v/" + carer.get_json()["join_url"].rsplit("/v/", 1)[1]
    assert read_token(told.link[3:]).id == carer.get_json()["id"]

    not_invitable = client.post(
        url, json={"role": "recorder", "display_name": "x"}, headers=headers
    )
    assert (not_invitable.status_code, list(not_invitable.get_json()["errors"]["json"])) == (
        422,
        ["role"],
    )
    nameless = client.post(url, json={"role": "interpreter"}, headers=headers)
    assert list(nameless.get_json()["errors"]["json"]) == ["display_name"]
    fourth = client.post(
        url, json={"role": "interpreter", "display_name": "Li Na"}, headers=headers
    )
    assert fourth.status_code == 201
    fifth = client.post(url, json={"role": "specialist", "display_name": "Dr Wu"}, headers=headers)
    assert fifth.status_code == 409
    not_the_team = client.post(
        url,
        json={"role": "specialist", "display_name": "Dr Wu"},
        headers=api_token(clinic["account"]),
    )
    assert not_the_team.status_code == 403
