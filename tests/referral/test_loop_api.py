"""The whole loop through the API: refer up with a reserved slot, accept, return, close."""

from datetime import timedelta

from fhir.resources.R4B.bundle import Bundle

from app.extensions import db
from app.followups.models import FollowUp, FollowUpSource
from app.notifications.models import Notification
from app.timeutil import local_today


def post(client, path, headers, body=None):
    return client.post(f"/api/v1{path}", json=body if body is not None else {}, headers=headers)


def test_the_whole_loop(client, loop, referral_body):
    draft = post(client, "/referrals", loop["doctor"], referral_body)
    assert draft.status_code == 201, draft.get_json()
    rid = draft.get_json()["id"]
    assert draft.get_json()["status"] == "draft"
    # the department sees nothing until a doctor sends it
    assert client.get(f"/api/v1/referrals/{rid}", headers=loop["specialist"]).status_code == 404
    slot = loop["slots"][0]
    sent = post(client, f"/referrals/{rid}/send", loop["doctor"], {"slot_id": slot.id})
    assert sent.status_code == 200, sent.get_json()
    assert sent.get_json()["slot"]["id"] == slot.id
    inbox = client.get("/api/v1/referrals", headers=loop["specialist"]).get_json()
    assert [r["id"] for r in inbox] == [rid]
    assert post(client, f"/referrals/{rid}/seen", loop["specialist"]).get_json()["status"] == "seen"
    asked = post(
        client, f"/referrals/{rid}/ask_info", loop["specialist"], {"body": "请补充近期心电图"}
    )
    assert asked.get_json()["status"] == "info_requested"
    answered = post(client, f"/referrals/{rid}/answer", loop["doctor"], {"body": "已附心电图"})
    assert answered.get_json()["status"] == "seen"
    thread = client.get(f"/api/v1/referrals/{rid}/messages", headers=loop["doctor"]).get_json()
    assert [m["kind"] for m in thread] == ["question", "answer"]
    accepted = post(client, f"/referrals/{rid}/accept", loop["specialist"])
    assert accepted.get_json()["status"] == "accepted"
    told = {n.user_id for n in db.session.query(Notification).filter_by(kind="referral.booked")}
    assert told == {loop["account"].id, loop["carer"].id}
    assert (
        post(client, f"/referrals/{rid}/admit", loop["specialist"]).get_json()["status"]
        == "admitted"
    )
    returned = post(
        client,
        f"/referrals/{rid}/return",
        loop["specialist"],
        {
            "discharge_summary": "冠脉造影未见明显狭窄，调整降压方案。",
            "diagnoses": "高血压 3 级",
            "medication_changes": "加用缬沙坦 80mg qd",
            "long_prescription": True,
            "care_plan": "家庭医生 2 周内随访血压",
            "follow_up_actions": [],
        },
    )
    assert returned.get_json()["status"] == "returned"
    back = post(client, f"/referrals/{rid}/accept_return", loop["nurse"])
    assert back.get_json()["status"] == "return_accepted"
    planned = (
        db.session.query(FollowUp)
        .filter_by(source=FollowUpSource.REFERRAL_RETURN, source_id=rid)
        .all()
    )
    assert [f.due_date for f in planned] == [local_today() + timedelta(days=14)]
    closed = post(client, f"/referrals/{rid}/acknowledge", loop["doctor"])
    assert closed.get_json()["status"] == "closed"
    events = client.get(f"/api/v1/referrals/{rid}/events", headers=loop["doctor"]).get_json()
    assert [e["to_state"] for e in events] == [
        "draft",
        "sent",
        "seen",
        "info_requested",
        "seen",
        "accepted",
        "admitted",
        "returned",
        "return_accepted",
        "closed",
    ]
    bundle = client.get(f"/api/v1/referrals/{rid}/fhir", headers=loop["doctor"]).get_json()
    parsed = Bundle.model_validate(bundle)
    task = next(e.resource for e in parsed.entry if e.resource.get_resource_type() == "Task")
    assert task.status == "completed"
