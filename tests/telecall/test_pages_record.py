"""The visit record page: who joined when, the follow-up form's values, notes and quality;
and what the team does from it (invite with a link shown once, remove, end, download a
recording); an administrator reads it only with a reason."""

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.audit.models import AuditEntry
from app.extensions import db
from app.followups.schemas import FollowUpFormSchema
from app.timeutil import local_today, to_local
from telecall import calls, records
from telecall.models import (
    ParticipantRole,
    QualitySample,
    Recording,
    RecordingStatus,
    VisitParticipant,
    VisitStatus,
)
from telecall.tokens import join_url
from tests.conftest import post_form
from tests.telecall.conftest import seat
from tests.telecall.test_pages_resident import client_for, error_next_to, page, problem_of, zh
from tests.telecall.test_pages_team import now_visit

__all__ = ["client_for"]  # the fixture, shared with the resident's page tests

FORM = {
    "condition": "hypertension",
    "symptoms": ["headache_dizziness", "palpitations_chest_tightness"],
    "systolic": 152,
    "diastolic": 96,
    "heart_rate": 78,
    "salt_intake": "heavy",
    "medication_adherence": "intermittent",
    "side_effects": False,
    "classification": "unsatisfactory",
    "next_visit_date": "2030-01-15",
}


@pytest.fixture
def in_progress(clinic, booked):
    """A visit going on now: the resident came in, then the doctor."""
    visit = now_visit(booked())
    calls.join(seat(visit), "browser")
    calls.join(seat(visit, ParticipantRole.DOCTOR), "browser")
    db.session.flush()
    return visit


def test_the_record_shows_who_joined_when_and_the_follow_up_form(client_for, clinic, in_progress):
    visit, doctor = in_progress, clinic["doctor"]
    records.save_form(doctor, visit, FollowUpFormSchema().load(FORM))
    records.save_notes(doctor, visit, "血压控制欠佳。\n加用氢氯噻嗪。")
    db.session.add(
        QualitySample(visit_id=visit.id, participant_id=seat(visit).id, rtt_ms=80, loss_percent=1)
    )
    calls.leave(seat(visit))
    calls.end(doctor, visit)
    text = page(client_for(doctor).get(f"/visits/{visit.id}"))
    joined = to_local(seat(visit).first_joined_at).strftime("%H:%M:%S")
    assert re.search(rf"{joined} · {clinic['resident'].name} \(Resident\) joined", text)
    assert re.search(rf"{clinic['resident'].name} \(Resident\) left", text)
    assert re.search(rf"{doctor.display_name} \(Doctor\) joined", text)
    for label, value in (
        ("Condition followed up", "High blood pressure"),
        ("Symptoms", "Headache, dizziness、Palpitations, tight chest"),
        ("Systolic blood pressure (mmHg)", "152"),
        ("Diastolic blood pressure (mmHg)", "96"),
        ("Salt intake", "Heavy"),
        ("Taking medicine", "Now and then"),
        ("Side effects of medicine", "No"),
        ("Classification of this follow-up", "Not well controlled"),
        ("Next follow-up", "2030-01-15"),
    ):
        assert f"<dt>{label}</dt><dd>{value}</dd>" in text
    assert "加用氢氯噻嗪" in text
    assert "80.0 ms" in text
    assert 'id="duration"' in text
    assert "Completed" in text


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("who", ["account", "carer", "doctor", "nurse"])
def test_the_record_opens_for_everyone_who_may_see_it(client_for, clinic, in_progress, who, lang):
    text = page(client_for(clinic[who], lang).get(f"/visits/{in_progress.id}"))
    assert ('lang="zh-CN"' if lang == "zh_CN" else 'lang="en"') in text
    title = "Who joined when"
    assert (zh(title) if lang == "zh_CN" else title) in text
    team_only = f"/visits/{in_progress.id}/invite"
    assert (team_only in text) == (who in ("doctor", "nurse"))


def test_an_invitation_shows_its_link_once(client_for, clinic, in_progress):
    client = client_for(clinic["doctor"])
    url = f"/visits/{in_progress.id}/invite"
    response = post_form(
        client, url, {"role": "interpreter", "display_name": "手语翻译 周"}, url[:-7]
    )
    assert response.status_code == 201
    invited = db.session.scalars(
        sa.select(VisitParticipant).where(VisitParticipant.role == ParticipantRole.INTERPRETER)
    ).one()
    link = join_url(invited)
    assert f'value="{link}"' in page(response)
    assert "it is shown only this once" in page(response)
    later = page(client.get(f"/visits/{in_progress.id}"))
    assert link not in later
    assert "手语翻译 周" in later
    removed = post_form(
        client, f"/visits/{in_progress.id}/participants/{invited.id}/remove", {}, url[:-7]
    )
    assert removed.status_code == 303
    assert invited.removed_at is not None


def test_an_invited_caregiver_account_is_told(client_for, clinic, in_progress):
    url = f"/visits/{in_progress.id}/invite"
    carer = clinic["carer"]
    data = {"role": "caregiver", "user_id": str(carer.id)}
    response = post_form(client_for(clinic["doctor"]), url, data, url[:-7])
    assert response.status_code == 201
    invited = db.session.scalars(
        sa.select(VisitParticipant).where(VisitParticipant.user_id == carer.id)
    ).one()
    assert invited.display_name == carer.display_name


def test_a_wrong_invitation_is_named(client_for, clinic, in_progress, make_user):
    client = client_for(clinic["doctor"])
    url = f"/visits/{in_progress.id}/invite"
    text = page(post_form(client, url, {"role": "specialist"}, url[:-7]))
    assert error_next_to(text, "display_name").endswith("Give the participant's name")
    stranger = make_user(Role.CAREGIVER)
    text = page(post_form(client, url, {"role": "caregiver", "user_id": stranger.id}, url[:-7]))
    assert error_next_to(text, "user_id").endswith("Choose one of the resident's caregivers")
    response = post_form(client, url, {"display_name": "x"}, url[:-7])
    assert response.status_code == 422
    assert error_next_to(page(response), "role").endswith("Please fill in this field.")


def test_ending_the_visit(client_for, clinic, in_progress):
    client = client_for(clinic["doctor"])
    url = f"/visits/{in_progress.id}/end"
    assert post_form(client, url, {}, url[:-4]).status_code == 303
    assert in_progress.status == VisitStatus.COMPLETED
    again = post_form(client, url, {}, url[:-4])
    assert again.status_code == 409
    assert problem_of(page(again)).endswith("It is now: Completed.")


def test_only_the_team_runs_the_visit(client_for, clinic, in_progress):
    for who in ("account", "carer"):
        client = client_for(clinic[who])
        token = re.search(
            r'name="csrf_token"[^>]*value="([^"]+)"',
            client.get(f"/visits/{in_progress.id}").get_data(as_text=True),
        ).group(1)
        response = client.post(f"/visits/{in_progress.id}/end", data={"csrf_token": token})
        assert response.status_code == 403
    outsider = client_for(clinic["outsider"])
    assert outsider.get(f"/visits/{in_progress.id}").status_code == 404
    assert in_progress.status == VisitStatus.IN_PROGRESS


def test_a_finished_recording_is_downloaded_by_the_team_and_audited(
    app, client_for, clinic, in_progress, tmp_path, monkeypatch
):
    monkeypatch.setitem(app.config, "RECORDINGS_DIR", str(tmp_path))
    (tmp_path / "visit-rec.mkv").write_bytes(b"\x1a\x45\xdf\xa3matroska")
    done = Recording(
        visit_id=in_progress.id,
        file_name="visit-rec.mkv",
        status=RecordingStatus.FINISHED,
        started_by_id=clinic["doctor"].id,
        seconds=61.4,
        purge_after=local_today() + timedelta(days=90),
    )
    running = Recording(
        visit_id=in_progress.id,
        file_name="visit-live.mkv",
        status=RecordingStatus.RECORDING,
        started_by_id=clinic["doctor"].id,
        purge_after=date(2030, 1, 1),
    )
    db.session.add_all([done, running])
    db.session.flush()
    client = client_for(clinic["nurse"])
    url = f"/visits/{in_progress.id}/recordings/{done.id}"
    assert url in page(client.get(f"/visits/{in_progress.id}"))
    response = client.get(url)
    assert response.status_code == 200
    assert response.data == b"\x1a\x45\xdf\xa3matroska"
    assert "attachment" in response.headers["Content-Disposition"]
    audited = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "download")).one()
    assert (audited.object_type, audited.object_id) == ("visit_recording", str(done.id))
    assert client.get(f"/visits/{in_progress.id}/recordings/{running.id}").status_code == 404
    assert client_for(clinic["account"]).get(url).status_code == 403


def test_an_administrator_gives_a_reason(client_for, clinic, in_progress, make_user):
    client = client_for(make_user(Role.ADMIN))
    asked = page(client.get(f"/visits/{in_progress.id}"))
    assert 'name="reason"' in asked
    assert clinic["resident"].name not in asked
    shown = page(client.get(f"/visits/{in_progress.id}?reason=投诉核查"))
    assert clinic["resident"].name in shown
    audited = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.object_type == "visit")
    ).all()
    assert [a.reason for a in audited if a.actor_role == "admin"] == ["投诉核查"]
