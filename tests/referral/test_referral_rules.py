"""Refused transitions, who may see what, attachments, slots, and the time limits."""

import io
from datetime import timedelta

import pytest

from app.audit.models import Event
from app.extensions import db
from app.notifications.models import Notification
from app.timeutil import utcnow
from referral import lifecycle, services
from referral.models import AppointmentSlot, Referral, ReferralReturn, ReferralSource, SlotStatus

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def post(client, path, headers, body=None):
    return client.post(f"/api/v1{path}", json=body if body is not None else {}, headers=headers)


@pytest.fixture
def sent(client, loop, referral_body):
    rid = post(client, "/referrals", loop["doctor"], referral_body).get_json()["id"]
    response = post(
        client, f"/referrals/{rid}/send", loop["doctor"], {"slot_id": loop["slots"][0].id}
    )
    assert response.status_code == 200, response.get_json()
    return rid


def test_refused_transitions_name_the_current_state(client, loop, sent):
    for path, headers, body in (
        ("admit", loop["specialist"], {}),
        (
            "return",
            loop["specialist"],
            {"discharge_summary": "x", "diagnoses": "y", "care_plan": "z"},
        ),
        ("accept_return", loop["doctor"], {}),
        ("acknowledge", loop["doctor"], {}),
        ("answer", loop["doctor"], {"body": "no question was asked"}),
        ("send", loop["doctor"], {}),
    ):
        response = post(client, f"/referrals/{sent}/{path}", headers, body)
        assert response.status_code == 409, path
        assert response.get_json()["current"] == "sent"


def test_reject_needs_a_reason_and_frees_the_slot(client, loop, sent):
    missing = post(client, f"/referrals/{sent}/reject", loop["specialist"], {"reason": ""})
    assert missing.status_code == 422
    rejected = post(
        client, f"/referrals/{sent}/reject", loop["specialist"], {"reason": "建议先做动态血压"}
    )
    assert rejected.get_json()["status"] == "rejected"
    assert rejected.get_json()["rejection_reason"] == "建议先做动态血压"
    slot = db.session.get(AppointmentSlot, loop["slots"][0].id)
    assert (slot.status, slot.referral_id) == (SlotStatus.OPEN, None)


def test_sides_may_only_do_their_own_steps(client, loop, sent):
    assert post(client, f"/referrals/{sent}/accept", loop["doctor"]).status_code == 403
    assert post(client, f"/referrals/{sent}/cancel", loop["specialist"]).status_code == 403
    assert post(client, f"/referrals/{sent}/cancel", loop["nurse"]).status_code == 403  # a doctor


def test_a_specialist_of_another_department_sees_nothing(client, loop, sent):
    headers = loop["other_specialist"]
    assert client.get(f"/api/v1/referrals/{sent}", headers=headers).status_code == 404
    assert post(client, f"/referrals/{sent}/seen", headers).status_code == 404
    assert client.get("/api/v1/referrals", headers=headers).get_json() == []
    resident = loop["resident"].id
    assert client.get(f"/api/v1/residents/{resident}", headers=headers).status_code == 404
    assert (
        client.get(f"/api/v1/residents/{resident}", headers=loop["specialist"]).status_code == 200
    )


def test_another_hospital_needs_a_reason(client, loop, referral_body, make_org):
    from app.accounts.models import OrganisationKind

    municipal = make_org(OrganisationKind.MUNICIPAL_HOSPITAL)
    department = make_org(OrganisationKind.DEPARTMENT, parent=municipal)
    body = {**referral_body, "department_id": department.id}
    refused = post(client, "/referrals", loop["doctor"], body)
    assert refused.status_code == 422
    assert "other_hospital_reason" in refused.get_json()["errors"]["json"]
    body["other_hospital_reason"] = "该专科仅市级医院开设"
    assert post(client, "/referrals", loop["doctor"], body).status_code == 201


def test_only_reserved_slots_are_booked_at_referral(client, loop, referral_body):
    rid = post(client, "/referrals", loop["doctor"], referral_body).get_json()["id"]
    public_slot = loop["slots"][3]  # not reserved for referrals
    response = post(client, f"/referrals/{rid}/send", loop["doctor"], {"slot_id": public_slot.id})
    assert response.status_code == 409
    assert "slot_id" in response.get_json()["errors"]["json"]
    assert db.session.get(Referral, rid).status.value == "draft"  # nothing half-done


def test_a_booked_slot_is_not_booked_twice(client, loop, referral_body, sent, make_resident):
    other = make_resident(neighbourhood=loop["team"].neighbourhoods[0])
    body = {**referral_body, "resident_id": other.id, "other_hospital_reason": "就近"}
    rid = post(client, "/referrals", loop["doctor"], body).get_json()["id"]
    response = post(
        client, f"/referrals/{rid}/send", loop["doctor"], {"slot_id": loop["slots"][0].id}
    )
    assert response.status_code == 409


def test_accepting_needs_a_slot_when_none_was_booked(client, loop, referral_body):
    rid = post(client, "/referrals", loop["doctor"], referral_body).get_json()["id"]
    post(client, f"/referrals/{rid}/send", loop["doctor"], {})
    refused = post(client, f"/referrals/{rid}/accept", loop["specialist"], {})
    assert refused.status_code == 422
    offered = post(
        client, f"/referrals/{rid}/accept", loop["specialist"], {"slot_id": loop["slots"][3].id}
    )
    assert offered.get_json()["slot"]["id"] == loop["slots"][3].id


def upload(client, rid, headers, data, name):
    return client.post(
        f"/api/v1/referrals/{rid}/attachments",
        headers=headers,
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_attachments_by_type_and_size(client, loop, sent, app):
    ok = upload(client, sent, loop["doctor"], PDF, "ecg.pdf")
    assert ok.status_code == 201, ok.get_json()
    assert ok.get_json()["content_type"] == "application/pdf"
    assert upload(client, sent, loop["specialist"], PNG, "x-ray.png").status_code == 201
    fake = upload(client, sent, loop["doctor"], b"just text, named as a pdf", "notes.pdf")
    assert fake.status_code == 422
    assert "file" in fake.get_json()["errors"]["json"]
    too_big = PDF + b"0" * app.config["ATTACHMENT_MAX_BYTES"]
    response = upload(client, sent, loop["doctor"], too_big, "big.pdf")
    assert response.status_code in (413, 422)
    download = client.get(
        f"/api/v1/referrals/{sent}/attachments/{ok.get_json()['id']}", headers=loop["specialist"]
    )
    assert download.status_code == 200
    assert download.data == PDF
    assert download.mimetype == "application/pdf"
    assert upload(client, sent, loop["other_specialist"], PDF, "x.pdf").status_code == 404


def test_a_system_draft_waits_for_a_doctor(client, loop, referral_body):
    data = {k: v for k, v in referral_body.items() if k != "resident_id"}
    referral = services.draft_referral(
        None, loop["resident"], {**data, "team_id": loop["team"].id}, ReferralSource.SYSTEM
    )
    assert referral.status.value == "draft"
    assert referral.referring_doctor_id is None
    assert (
        client.get(f"/api/v1/referrals/{referral.id}", headers=loop["specialist"]).status_code
        == 404
    )
    sent = post(client, f"/referrals/{referral.id}/send", loop["doctor"], {})
    assert sent.get_json()["status"] == "sent"
    assert sent.get_json()["referring_doctor_id"] == loop["team"].lead.id


def test_escalation_with_a_controlled_clock(client, loop, sent, app):
    hours = app.config["REFERRAL_URGENT_ACCEPT_HOURS"]
    sent_at = db.session.get(Referral, sent).sent_at
    assert (
        lifecycle.escalate_unaccepted(now=sent_at + timedelta(hours=hours) - timedelta(minutes=1))
        == 0
    )
    assert lifecycle.escalate_unaccepted(now=sent_at + timedelta(hours=hours)) == 1
    assert lifecycle.escalate_unaccepted(now=sent_at + timedelta(hours=hours * 3)) == 0  # once
    told = {n.user_id for n in db.session.query(Notification).filter_by(kind="referral.escalated")}
    assert told == {loop["lead"], loop["team"].lead.id}
    assert db.session.query(Event).filter_by(name="referral.escalated", entity_id=sent).count() == 1


def test_routine_and_accepted_referrals_do_not_escalate(client, loop, sent):
    post(client, f"/referrals/{sent}/accept", loop["specialist"])
    assert lifecycle.escalate_unaccepted(now=utcnow() + timedelta(days=30)) == 0


def test_a_return_not_acknowledged_in_two_weeks_is_flagged(client, loop, sent):
    post(client, f"/referrals/{sent}/accept", loop["specialist"])
    body = {"discharge_summary": "好转出院", "diagnoses": "高血压", "care_plan": "随访"}
    post(client, f"/referrals/{sent}/return", loop["specialist"], body)
    returned_at = db.session.query(ReferralReturn).one().returned_at
    assert lifecycle.flag_unacknowledged_returns(now=returned_at + timedelta(days=13)) == 0
    assert lifecycle.flag_unacknowledged_returns(now=returned_at + timedelta(days=14)) == 1
    flagged = client.get("/api/v1/referrals?flagged=true", headers=loop["doctor"]).get_json()
    assert [r["id"] for r in flagged] == [sent]
    assert db.session.query(Notification).filter_by(kind="referral.return_overdue").count() >= 1


def test_the_resident_and_caregiver_see_the_booking_but_not_drafts(
    client, loop, referral_body, sent
):
    mine = client.get("/api/v1/referrals", headers=loop["resident_headers"]).get_json()
    assert [r["id"] for r in mine] == [sent]
    draft = post(
        client, "/referrals", loop["doctor"], {**referral_body, "urgency": "routine"}
    ).get_json()
    assert (
        client.get(f"/api/v1/referrals/{draft['id']}", headers=loop["carer_headers"]).status_code
        == 404
    )
