"""The referral pages, as the family doctor, the hospital specialist, the team and the
resident use them: refer up with a reserved slot, the thread, accept, return, close the loop."""

import re
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
import sqlalchemy as sa

from app.accounts.models import OrganisationKind, Role, User
from app.extensions import db
from app.followups.models import FollowUp, FollowUpSource
from app.timeutil import LOCAL_TZ, local_today, to_local, utcnow
from referral import services
from referral.models import (
    AppointmentSlot,
    Referral,
    ReferralAttachment,
    ReferralStatus,
    SlotStatus,
    Urgency,
)
from tests.conftest import post_form, sign_in

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def html_of(response) -> str:
    return response.get_data(as_text=True)


def error_next_to(html: str, field_id: str) -> str:
    match = re.search(rf'id="{field_id}-error">(.*?)</p>', html, re.S)
    assert match, f"no error shown next to {field_id}"
    return re.sub(r"<[^>]+>", "", match.group(1))


def problem_of(html: str) -> str:
    match = re.search(r'id="problem">(.*?)</p>', html, re.S)
    assert match, "no refusal shown"
    return re.sub(r"<[^>]+>", "", match.group(1))


def local(value: datetime) -> str:
    return to_local(value).strftime("%Y-%m-%d")


@pytest.fixture
def people(loop):
    def specialist_of(department, but=None):
        query = sa.select(User).where(
            User.organisation_id == department.id, User.role == Role.SPECIALIST
        )
        return next(u for u in db.session.scalars(query) if u.id != but)

    team = loop["team"]
    return {
        "doctor": team.lead,
        "nurse": next(m.user for m in team.members if m.user.role == Role.NURSE),
        "specialist": specialist_of(loop["cardiology"], but=loop["lead"]),
        "other_specialist": specialist_of(loop["endocrine"]),
        "resident": loop["account"],
        "carer": loop["carer"],
    }


@pytest.fixture
def client_for(app):
    """A signed-in browser of its own for each user."""

    def _client(user, lang=None):
        client = app.test_client()
        if lang:
            client.set_cookie("lang", lang)
        sign_in(client, user)
        return client

    return _client


def referral_data(loop, **extra):
    return {
        "department_id": loop["cardiology"].id,
        "urgency": "urgent",
        "reason": "血压控制不佳，胸闷",
        "clinical_summary": "近两周血压 170/100 左右。",
        "current_medication": "氨氯地平 5mg qd",
        **extra,
    }


def make_referral(loop, people, status=ReferralStatus.SENT, slot=0) -> Referral:
    """A referral brought to `status` through the services, as the pages would."""
    doctor, specialist = people["doctor"], people["specialist"]
    data = referral_data(loop)
    referral = services.draft_referral(doctor, loop["resident"], data)
    if status == ReferralStatus.DRAFT:
        return referral
    services.send(doctor, referral, loop["slots"][slot].id if slot is not None else None)
    if status == ReferralStatus.SENT:
        return referral
    services.accept(specialist, referral, None if slot is not None else loop["slots"][3].id)
    if status == ReferralStatus.ACCEPTED:
        return referral
    raise ValueError(status)


def act(client, referral, action, data=None, **kwargs):
    page = f"/referrals/{referral.id}"
    return post_form(client, f"{page}/{action}", data or {}, page=page, **kwargs)


# --- the way up, as its users do it ----------------------------------------------------------


def test_doctor_refers_with_a_reserved_slot_specialist_asks_doctor_answers_specialist_accepts(
    client_for, loop, people
):
    doctor = client_for(people["doctor"])
    resident = loop["resident"]
    form_page = f"/referrals/new?resident_id={resident.id}"
    html = html_of(doctor.get(form_page))
    select = re.search(r'<select id="department_id".*?</select>', html, re.S).group(0)
    assert "上海市第七人民医院 · 与居民签约" in select  # the signed hospital, marked
    assert f'<option value="{loop["cardiology"].id}">心内科 · 上海市第七人民医院' in select

    response = post_form(doctor, form_page, referral_data(loop))
    assert response.status_code == 303, problem_of(html_of(response))
    (referral,) = db.session.scalars(sa.select(Referral)).all()
    assert response.headers["Location"].endswith(f"/referrals/{referral.id}")
    assert referral.status == ReferralStatus.DRAFT
    assert referral.referring_doctor_id == people["doctor"].id

    # The draft's page offers the department's reserved free slots, and no others.
    html = html_of(doctor.get(f"/referrals/{referral.id}"))
    reserved, other = loop["slots"][0], loop["slots"][2]
    assert f'name="slot_id" type="radio" value="{reserved.id}"' in html
    assert f'value="{other.id}"' not in html
    assert "草稿，未发送" in html
    response = act(doctor, referral, "send", {"slot_id": reserved.id})
    assert response.status_code == 303, problem_of(html_of(response))
    assert referral.status == ReferralStatus.SENT
    assert reserved.status == SlotStatus.BOOKED
    assert reserved.referral_id == referral.id

    # The specialist finds it in the department's inbox, urgent and with the appointment.
    specialist = client_for(people["specialist"])
    inbox = html_of(specialist.get("/referrals/inbox"))
    assert f'href="/referrals/{referral.id}"' in inbox
    assert "紧急" in inbox
    assert "已发送，等待医院处理: <strong>1</strong>" in inbox
    response = act(specialist, referral, "ask_info", {"body": "请补充近期心电图"})
    assert response.status_code == 303
    assert referral.status == ReferralStatus.INFO_REQUESTED

    html = html_of(doctor.get(f"/referrals/{referral.id}"))
    assert "请补充近期心电图" in html
    assert f'action="/referrals/{referral.id}/answer"' in html
    response = act(doctor, referral, "answer", {"body": "心电图已附上"})
    assert response.status_code == 303
    assert referral.status == ReferralStatus.SEEN

    html = html_of(specialist.get(f"/referrals/{referral.id}"))
    assert "心电图已附上" in html
    response = act(specialist, referral, "accept")
    assert response.status_code == 303, problem_of(html_of(response))
    assert referral.status == ReferralStatus.ACCEPTED
    html = html_of(specialist.get(f"/referrals/{referral.id}"))
    when = to_local(reserved.starts_at).strftime("%Y-%m-%d")
    assert when in re.search(r'id="appointment">(.*?)</dd>', html, re.S).group(1)
    history = html[html.index('id="history"') :]
    assert history.count("<tr>") == 1 + 5  # the head; draft, sent, info requested, seen, accepted


def test_the_referral_form_asks_why_another_hospital(client_for, loop, people, make_org):
    other = make_org(OrganisationKind.MUNICIPAL_HOSPITAL, name="仁济医院东院")
    department = make_org(OrganisationKind.DEPARTMENT, parent=other, name="心内科")
    doctor = client_for(people["doctor"])
    page = f"/referrals/new?resident_id={loop['resident'].id}"
    html = html_of(doctor.get(page))
    # the signed hospital's departments come before the others
    assert html.index("上海市第七人民医院 · 与居民签约") < html.index('label="仁济医院东院"')
    response = post_form(doctor, page, referral_data(loop, department_id=department.id))
    assert response.status_code == 422
    assert "选择该医院的理由" in error_next_to(html_of(response), "other_hospital_reason")
    response = post_form(doctor, page, referral_data(loop, reason=""))
    assert response.status_code == 422
    assert error_next_to(html_of(response), "reason")
    response = post_form(
        doctor, page, referral_data(loop, department_id=department.id, other_hospital_reason="专科")
    )
    assert response.status_code == 303
    assert db.session.scalar(sa.select(Referral.hospital_id)) == other.id


def test_only_doctors_refer(client_for, loop, people):
    nurse = client_for(people["nurse"])
    assert nurse.get(f"/referrals/new?resident_id={loop['resident'].id}").status_code == 403


def test_a_wrong_transition_shows_the_present_state(client_for, loop, people):
    referral = make_referral(loop, people)
    doctor = client_for(people["doctor"])
    response = act(doctor, referral, "acknowledge")
    assert response.status_code == 409
    assert "现在是：已发送，等待医院处理" in problem_of(html_of(response))
    assert referral.status == ReferralStatus.SENT


def test_declining_needs_a_reason(client_for, loop, people):
    referral = make_referral(loop, people)
    specialist = client_for(people["specialist"])
    response = act(specialist, referral, "reject", {"rejection_reason": ""})
    assert response.status_code == 422
    assert error_next_to(html_of(response), "rejection_reason")
    assert referral.status == ReferralStatus.SENT
    response = act(specialist, referral, "reject", {"rejection_reason": "本院无床位，建议转仁济"})
    assert response.status_code == 303
    assert referral.status == ReferralStatus.REJECTED
    assert loop["slots"][0].status == SlotStatus.OPEN  # the slot is free again
    html = html_of(client_for(people["doctor"]).get(f"/referrals/{referral.id}"))
    assert "本院无床位，建议转仁济" in html
    assert "医院已拒绝" in html


def test_a_specialist_of_another_department_sees_nothing(client_for, loop, people):
    referral = make_referral(loop, people)
    other = client_for(people["other_specialist"])
    assert other.get(f"/referrals/{referral.id}").status_code == 404
    assert other.get(f"/referrals/{referral.id}/return").status_code == 404
    inbox = html_of(other.get("/referrals/inbox"))
    assert f"/referrals/{referral.id}" not in inbox
    html = html_of(client_for(people["specialist"]).get("/referrals/inbox"))
    response = other.post(f"/referrals/{referral.id}/accept", data={"csrf_token": _csrf(html)})
    assert response.status_code in (400, 404)  # another session's token, or not found


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_a_draft_is_not_in_the_department_inbox(client_for, loop, people):
    referral = make_referral(loop, people, ReferralStatus.DRAFT)
    specialist = client_for(people["specialist"])
    assert specialist.get(f"/referrals/{referral.id}").status_code == 404
    assert f"/referrals/{referral.id}" not in html_of(specialist.get("/referrals/inbox"))


# --- attachments -----------------------------------------------------------------------------


def upload(client, referral, name, data):
    return act(
        client,
        referral,
        "attachments",
        {"file": (BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_a_pdf_uploads_and_downloads_a_renamed_text_file_is_refused(client_for, loop, people):
    referral = make_referral(loop, people)
    doctor = client_for(people["doctor"])
    response = upload(doctor, referral, "心电图.pdf", PDF)
    assert response.status_code == 303, html_of(response)[:3000]
    (attachment,) = referral.attachments
    assert attachment.content_type == "application/pdf"

    specialist = client_for(people["specialist"])
    html = html_of(specialist.get(f"/referrals/{referral.id}"))
    link = f"/referrals/{referral.id}/attachments/{attachment.id}"
    assert link in html
    download = specialist.get(link)
    assert download.status_code == 200
    assert download.data == PDF
    assert download.mimetype == "application/pdf"
    assert "attachment" in download.headers["Content-Disposition"]

    response = upload(doctor, referral, "notes.pdf", b"just some text, not a PDF\n")
    assert response.status_code == 422
    assert "PDF、PNG 或 JPEG" in error_next_to(html_of(response), "file")
    assert len(referral.attachments) == 1
    assert client_for(people["other_specialist"]).get(link).status_code == 404


def test_files_too_large_are_refused_next_to_the_field(client_for, loop, people, app, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 1000)
    referral = make_referral(loop, people)
    doctor = client_for(people["doctor"])
    response = upload(doctor, referral, "big.pdf", PDF + b"0" * 2000)
    assert response.status_code == 422
    assert "超过" in error_next_to(html_of(response), "file")
    response = upload(doctor, referral, "huge.pdf", PDF + b"0" * 200_000)
    assert response.status_code == 413
    assert "超过" in error_next_to(html_of(response), "file")
    response = upload(doctor, referral, "", b"")
    assert response.status_code == 422
    assert error_next_to(html_of(response), "file")
    assert db.session.scalar(sa.select(sa.func.count(ReferralAttachment.id))) == 0


# --- the way back: the return, the team, the loop closed -------------------------------------


def test_the_return_form_the_team_takes_back_the_doctor_closes_the_loop(client_for, loop, people):
    referral = make_referral(loop, people, ReferralStatus.ACCEPTED)
    specialist = client_for(people["specialist"])
    page = f"/referrals/{referral.id}/return"
    html = html_of(specialist.get(page))
    assert 'value="14天内随访"' in html  # the national rule's follow-up, prefilled
    assert re.search(r'name="follow_ups-0-due_in_days"[^>]*value="14"', html)
    response = post_form(specialist, page, {"discharge_summary": "", "diagnoses": "高血压 3 级"})
    assert response.status_code == 422
    assert error_next_to(html_of(response), "discharge_summary")

    data = {
        "discharge_summary": "冠脉造影未见明显狭窄，调整降压方案。",
        "diagnoses": "高血压 3 级",
        "medication_changes": "加用缬沙坦 80mg qd",
        "long_prescription": "y",
        "care_plan": "家庭医生 2 周内随访血压，每日家庭自测。",
        "follow_ups-0-action": "14天内随访",
        "follow_ups-0-due_in_days": "14",
        "follow_ups-0-mode": "clinic",
        "follow_ups-1-action": "电话随访用药",
        "follow_ups-1-due_in_days": "3",
        "follow_ups-1-mode": "phone",
        "follow_ups-2-action": "",
        "follow_ups-2-due_in_days": "",
        "follow_ups-2-mode": "clinic",
    }
    response = post_form(specialist, page, data)
    assert response.status_code == 303, html_of(response)[:3000]
    assert referral.status == ReferralStatus.RETURNED
    assert referral.discharge.long_prescription is True
    assert [a["mode"] for a in referral.discharge.follow_up_actions] == ["clinic", "phone"]

    # The team sees the return waiting; the nurse takes the resident back.
    nurse = client_for(people["nurse"])
    listing = html_of(nurse.get("/referrals/"))
    assert "等待家庭医生团队处理" in listing
    html = html_of(nurse.get(f"/referrals/{referral.id}"))
    assert "冠脉造影未见明显狭窄" in html
    assert "加用缬沙坦 80mg qd" in html
    assert "电话随访用药" in html
    assert f'action="/referrals/{referral.id}/acknowledge"' not in html  # doctors close it
    response = act(nurse, referral, "accept_return")
    assert response.status_code == 303
    assert referral.status == ReferralStatus.RETURN_ACCEPTED
    planned = db.session.scalars(
        sa.select(FollowUp).where(
            FollowUp.source == FollowUpSource.REFERRAL_RETURN, FollowUp.source_id == referral.id
        )
    ).all()
    assert sorted(f.due_date for f in planned) == [
        local_today() + timedelta(days=3),
        local_today() + timedelta(days=14),
    ]

    doctor = client_for(people["doctor"])
    response = act(doctor, referral, "acknowledge")
    assert response.status_code == 303
    assert referral.status == ReferralStatus.CLOSED
    html = html_of(doctor.get(f"/referrals/{referral.id}"))
    assert "已闭环" in html
    assert f'action="/referrals/{referral.id}/attachments"' not in html  # the loop is over


def test_the_return_form_refuses_a_referral_not_yet_accepted(client_for, loop, people):
    referral = make_referral(loop, people)
    specialist = client_for(people["specialist"])
    response = specialist.get(f"/referrals/{referral.id}/return")
    assert response.status_code == 409
    assert "已发送，等待医院处理" in problem_of(html_of(response))


# --- lists -----------------------------------------------------------------------------------


def test_the_team_list_shows_open_loops_and_escalations(client_for, loop, people):
    accepted = make_referral(loop, people, ReferralStatus.ACCEPTED)
    waiting = make_referral(loop, people, ReferralStatus.SENT, slot=1)
    waiting.escalated_at = utcnow()
    doctor = client_for(people["doctor"])
    html = html_of(doctor.get("/referrals/"))
    assert f'href="/referrals/{accepted.id}"' in html
    assert f'href="/referrals/{waiting.id}"' in html
    assert "已升级：未按时接收" in html
    open_loops = html_of(doctor.get("/referrals/?open_loop=y"))
    assert f'href="/referrals/{accepted.id}"' in open_loops
    assert f'href="/referrals/{waiting.id}"' not in open_loops
    flagged = html_of(doctor.get("/referrals/?flagged=y"))
    assert f'href="/referrals/{accepted.id}"' not in flagged


def test_the_resident_and_the_caregiver_see_the_appointment(client_for, loop, people):
    referral = make_referral(loop, people, ReferralStatus.ACCEPTED)
    draft = make_referral(loop, people, ReferralStatus.DRAFT)
    slot = loop["slots"][0]
    when = to_local(slot.starts_at).strftime("%Y-%m-%d")
    hour = to_local(slot.starts_at).strftime("%H:%M")
    for user in (people["resident"], people["carer"]):
        client = client_for(user)
        home = html_of(client.get("/home"))
        assert "/referrals/" in home
        html = html_of(client.get("/referrals/"))
        assert "上海市第七人民医院 · 心内科" in html
        assert when in html
        assert hour in html
        assert f'href="/referrals/{referral.id}"' in html
        assert f'href="/referrals/{draft.id}"' not in html
        assert client.get(f"/referrals/{referral.id}").status_code == 200
        assert client.get(f"/referrals/{draft.id}").status_code == 404


def test_pages_in_english_with_the_language_cookie(client_for, loop, people):
    referral = make_referral(loop, people)
    doctor = client_for(people["doctor"], lang="en")
    html = html_of(doctor.get(f"/referrals/{referral.id}"))
    assert "Sent, waiting for the hospital" in html
    assert "What happens next" in html
    assert "If it is not accepted within 24 hours" in html
    response = act(doctor, referral, "acknowledge")
    assert "It is now: Sent, waiting for the hospital." in problem_of(html_of(response))
    specialist = client_for(people["specialist"], lang="en")
    assert "Referral inbox" in html_of(specialist.get("/referrals/inbox"))
    assert "Publish a series of slots" in html_of(specialist.get("/referrals/slots"))


# --- slots -----------------------------------------------------------------------------------


def test_a_specialist_publishes_slots_in_shanghai_time(client_for, loop, people):
    specialist = client_for(people["specialist"])
    day = local_today() + timedelta(days=2)
    response = post_form(
        specialist,
        "/referrals/slots",
        {
            "start_date": day.isoformat(),
            "start_time": "09:00",
            "count": "4",
            "minutes": "15",
            "reserved_percent": "50",
        },
    )
    assert response.status_code == 303, html_of(response)[:3000]
    new = db.session.scalars(
        sa.select(AppointmentSlot)
        .where(AppointmentSlot.id.not_in([s.id for s in loop["slots"]]))
        .order_by(AppointmentSlot.starts_at)
    ).all()
    first = datetime(day.year, day.month, day.day, 9, 0, tzinfo=LOCAL_TZ).astimezone(UTC)
    assert [s.starts_at for s in new] == [first + timedelta(minutes=15 * i) for i in range(4)]
    assert [s.reserved_for_referrals for s in new] == [True, True, False, False]
    html = html_of(specialist.get("/referrals/slots"))
    assert day.isoformat() in html
    assert "09:00–09:15" in html

    yesterday = local_today() - timedelta(days=1)
    response = post_form(
        specialist,
        "/referrals/slots",
        {
            "start_date": yesterday.isoformat(),
            "start_time": "09:00",
            "count": "1",
            "minutes": "15",
            "reserved_percent": "50",
        },
    )
    assert response.status_code == 422
    assert error_next_to(html_of(response), "start_date")


def test_the_inbox_puts_waiting_and_urgent_referrals_first(client_for, loop, people):
    urgent = make_referral(loop, people, slot=0)
    routine = make_referral(loop, people, slot=1)
    routine.urgency = Urgency.ROUTINE
    routine.sent_at = urgent.sent_at + timedelta(minutes=5)  # newer, but routine
    accepted = make_referral(loop, people, ReferralStatus.ACCEPTED, slot=None)
    html = html_of(client_for(people["specialist"]).get("/referrals/inbox"))
    order = [int(i) for i in re.findall(r'<td><a href="/referrals/(\d+)">', html)]
    assert order == [urgent.id, routine.id, accepted.id]


def test_an_administrator_reads_a_referral_only_with_a_reason(client_for, loop, people, make_user):
    referral = make_referral(loop, people)
    admin = client_for(make_user(Role.ADMIN))
    asked = html_of(admin.get(f"/referrals/{referral.id}"))
    assert 'name="reason"' in asked
    assert "血压控制不佳" not in asked
    html = html_of(admin.get(f"/referrals/{referral.id}?reason=质控抽查"))
    assert "血压控制不佳" in html
    assert 'action="/referrals/' not in html  # an administrator reads, and acts on nothing
    assert f'href="/referrals/{referral.id}' not in html_of(admin.get("/referrals/"))
    found = html_of(admin.get("/referrals/?reason=质控抽查"))
    assert f'href="/referrals/{referral.id}?reason=' in found


def test_a_nurse_sees_no_action_she_may_not_take(client_for, loop, people):
    referral = make_referral(loop, people)
    html = html_of(client_for(people["nurse"]).get(f"/referrals/{referral.id}"))
    assert 'id="what-you-can-do"' not in html
    assert f'action="/referrals/{referral.id}/attachments"' in html  # but she may attach files


def test_an_upload_without_the_form_token_is_refused(client_for, loop, people):
    referral = make_referral(loop, people)
    doctor = client_for(people["doctor"])
    response = doctor.post(
        f"/referrals/{referral.id}/attachments",
        data={"file": (BytesIO(PDF), "ecg.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert referral.attachments == []
