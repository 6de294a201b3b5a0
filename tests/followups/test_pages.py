"""The follow-up pages: the worklist's buckets, the week's home visits by neighbourhood,
one follow-up with its result form (recording plans the next one; a chronic one needs the
form), cancelling with a reason, planning by hand; in Chinese and English; outsiders refused."""

from datetime import timedelta

import pytest

from app.accounts.models import Role
from app.extensions import db
from app.followups import services
from app.followups.models import FollowUp, FollowUpMode, FollowUpSource, FollowUpStatus
from app.timeutil import local_today
from tests.conftest import csrf_from, sign_in

LANGUAGES = [("zh_CN", 'lang="zh-CN"'), ("en", 'lang="en"')]


@pytest.fixture
def fw(make_team, make_resident, make_resident_user, make_link, make_user, make_neighbourhood):
    """Team A serving two neighbourhoods, a resident in each; team B's doctor is the outsider."""
    east, west = make_neighbourhood(name="东街居委"), make_neighbourhood(name="西街居委")
    team, other = make_team(neighbourhoods=[east, west]), make_team()
    resident = make_resident(neighbourhood=east, name="张阿姨", address="东街1号")
    neighbour = make_resident(neighbourhood=west, name="李伯伯", address="西街9号")

    def due(days=0, who=None, mode=FollowUpMode.CLINIC, condition=None, purpose="复查血压"):
        source = FollowUpSource.CHRONIC_SCHEDULE if condition else FollowUpSource.MANUAL
        return services.plan(
            (who or resident).id,
            team.id,
            local_today() + timedelta(days=days),
            purpose,
            source,
            mode=mode,
            condition=condition,
        )

    return {
        "team": team,
        "resident": resident,
        "neighbour": neighbour,
        "doctor": team.lead,
        "nurse": next(m.user for m in team.members if m.user is not team.lead),
        "resident_user": make_resident_user(resident),
        "caregiver": make_link(resident).caregiver,
        "outsider": other.lead,
        "admin": make_user(Role.ADMIN),
        "due": due,
    }


def as_user(client, user, locale="zh_CN"):
    user.locale = locale
    db.session.flush()
    sign_in(client, user)
    return client


def page(client, url, status=200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


@pytest.mark.parametrize(("locale", "marker"), LANGUAGES)
@pytest.mark.parametrize("who", ["doctor", "nurse"])
def test_team_pages_in_both_languages(client, fw, who, locale, marker):
    follow_up = fw["due"](1, mode=FollowUpMode.HOME)
    as_user(client, fw[who], locale)
    for url in (
        "/followups/",
        "/followups/routes",
        f"/followups/{follow_up.id}",
        f"/followups/new?resident_id={fw['resident'].id}",
    ):
        html = page(client, url)
        assert marker in html, url
        assert "张阿姨" in html, url
    assert 'href="/followups/"' in page(client, "/home")  # the nav and the workbench link


@pytest.mark.parametrize(("locale", "marker"), LANGUAGES)
@pytest.mark.parametrize("who", ["resident_user", "caregiver"])
def test_residents_and_caregivers_read_one(client, fw, who, locale, marker):
    follow_up = fw["due"](1)
    as_user(client, fw[who], locale)
    html = page(client, f"/followups/{follow_up.id}")
    assert marker in html
    assert "复查血压" in html
    assert "/result" not in html  # read-only
    assert client.get("/followups/").status_code == 403
    data = {"csrf_token": csrf_from(html), "reason": "不需要了"}
    assert client.post(f"/followups/{follow_up.id}/cancel", data=data).status_code == 403


def test_an_administrator_gives_a_reason(client, fw):
    follow_up = fw["due"](1)
    as_user(client, fw["admin"])
    asked = page(client, f"/followups/{follow_up.id}")
    assert "复查血压" not in asked
    assert "复查血压" in page(client, f"/followups/{follow_up.id}?reason=audit")
    assert client.get("/followups/").status_code == 403


def test_outsiders_are_refused(client, fw):
    follow_up = fw["due"](1)
    as_user(client, fw["outsider"])
    assert client.get(f"/followups/{follow_up.id}").status_code == 404
    assert "张阿姨" not in page(client, "/followups/")
    assert "张阿姨" not in page(client, "/followups/routes")
    html = page(client, "/followups/")
    data = {"csrf_token": csrf_from(html), "mode": "clinic"}
    assert client.post(f"/followups/{follow_up.id}/result", data=data).status_code == 404
    new = client.get(f"/followups/new?resident_id={fw['resident'].id}")
    assert new.status_code == 404


def test_worklist_buckets(client, fw):
    overdue = fw["due"](-3, purpose="逾期的")
    today = fw["due"](0, purpose="今天的")
    sixth = fw["due"](6, purpose="第六天的")
    fw["due"](7, purpose="下周的")
    missed_lately = fw["due"](-20, purpose="最近错过的")
    services.close(missed_lately, FollowUpStatus.MISSED, "not done in time")
    missed_long_ago = fw["due"](-60, purpose="很久以前错过的")
    services.close(missed_long_ago, FollowUpStatus.MISSED, "not done in time")
    _age_missed_event(missed_long_ago.id, days=40)
    done = fw["due"](1, purpose="做完的")
    services.complete(done, fw["doctor"], FollowUpMode.CLINIC, None)
    as_user(client, fw["nurse"], "en")
    html = page(client, "/followups/")
    sections = _sections(html)
    assert _purposes(sections["overdue"]) == ["逾期的"]
    assert _purposes(sections["this-week"]) == ["今天的", "第六天的"]
    assert _purposes(sections["missed"]) == ["最近错过的"]
    assert "下周的" not in html
    assert "做完的" not in html
    assert "很久以前错过的" not in html
    assert f"/followups/{overdue.id}#result" in sections["overdue"]
    assert f"/followups/{today.id}#result" in sections["this-week"]
    assert f"/followups/{sixth.id}#result" in sections["this-week"]
    assert "/residents/" in sections["overdue"]


def test_worklist_filters_by_mode_and_team(client, fw):
    fw["due"](1, purpose="门诊的")
    fw["due"](1, mode=FollowUpMode.PHONE, purpose="电话的")
    as_user(client, fw["doctor"])
    html = page(client, "/followups/?mode=phone")
    assert "电话的" in html
    assert "门诊的" not in html
    html = page(client, f"/followups/?team_id={fw['team'].id}")
    assert "电话的" in html
    assert "门诊的" in html


def test_routes_group_by_neighbourhood(client, fw):
    fw["due"](3, mode=FollowUpMode.HOME, purpose="东三")
    fw["due"](1, mode=FollowUpMode.HOME, purpose="东一")
    fw["due"](2, who=fw["neighbour"], mode=FollowUpMode.HOME, purpose="西二")
    fw["due"](2, mode=FollowUpMode.CLINIC, purpose="门诊不算")
    fw["due"](8, mode=FollowUpMode.HOME, purpose="下周不算")
    as_user(client, fw["doctor"], "en")
    html = page(client, "/followups/routes")
    east, west = html.index("东街居委"), html.index("西街居委")
    assert east < west  # by the committee's name
    assert html.index("东一") < html.index("东三") < west < html.index("西二")
    assert "东街1号" in html
    assert "西街9号" in html
    assert "门诊不算" not in html
    assert "下周不算" not in html
    assert 'media="print"' in html


def _result(client, follow_up_id, data):
    html = page(client, f"/followups/{follow_up_id}")
    body = {"csrf_token": csrf_from(html), **data}
    return client.post(f"/followups/{follow_up_id}/result", data=body)


def test_recording_a_result_plans_the_next_one(client, fw):
    follow_up = fw["due"](0, condition="hypertension")
    as_user(client, fw["doctor"], "en")
    response = _result(
        client,
        follow_up.id,
        {
            "mode": "home",
            "condition": "hypertension",
            "systolic": "132",
            "diastolic": "82",
            "symptoms": ["none"],
            "classification": "satisfactory",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    done = db.session.get(FollowUp, follow_up.id)
    assert done.status == FollowUpStatus.DONE
    assert done.mode == FollowUpMode.HOME
    following = db.session.get(FollowUp, done.next_id)
    assert following.due_date == local_today() + timedelta(days=90)
    html = page(client, response.headers["Location"])
    assert following.due_date.isoformat() in html
    assert f"/followups/{following.id}" in html
    assert "Well controlled" in html
    assert "132" in html
    assert "Recorded" in html
    assert "Next contact planned" in html


def test_a_chronic_follow_up_without_the_form_is_refused(client, fw):
    follow_up = fw["due"](0, condition="hypertension")
    as_user(client, fw["doctor"], "en")
    response = _result(client, follow_up.id, {"mode": "clinic", "condition": "hypertension"})
    assert response.status_code == 422
    assert "needs the form" in response.get_data(as_text=True)
    assert db.session.get(FollowUp, follow_up.id).status == FollowUpStatus.DUE


def test_a_bad_form_field_is_named(client, fw):
    follow_up = fw["due"](0, condition="hypertension")
    as_user(client, fw["doctor"], "en")
    data = {"mode": "clinic", "condition": "hypertension", "classification": "satisfactory"}
    response = _result(client, follow_up.id, {**data, "systolic": "900", "diastolic": "80"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="systolic-error"' in html
    response = _result(client, follow_up.id, {**data, "systolic": "120", "diastolic": "130"})
    assert response.status_code == 422
    assert 'id="diastolic-error"' in response.get_data(as_text=True)
    assert db.session.get(FollowUp, follow_up.id).status == FollowUpStatus.DUE


def test_a_plain_follow_up_is_recorded_without_the_form(client, fw):
    follow_up = fw["due"](0)
    as_user(client, fw["nurse"])
    assert _result(client, follow_up.id, {"mode": "phone"}).status_code == 303
    assert db.session.get(FollowUp, follow_up.id).status == FollowUpStatus.DONE


def test_cancel_needs_a_reason(client, fw):
    follow_up = fw["due"](2)
    as_user(client, fw["doctor"], "en")
    html = page(client, f"/followups/{follow_up.id}")
    url = f"/followups/{follow_up.id}/cancel"
    refused = client.post(url, data={"csrf_token": csrf_from(html), "reason": "  "})
    assert refused.status_code == 422
    assert 'id="reason-error"' in refused.get_data(as_text=True)
    assert db.session.get(FollowUp, follow_up.id).status == FollowUpStatus.DUE
    done = client.post(url, data={"csrf_token": csrf_from(html), "reason": "住院了"})
    assert done.status_code == 303
    cancelled = db.session.get(FollowUp, follow_up.id)
    assert (cancelled.status, cancelled.closed_reason) == (FollowUpStatus.CANCELLED, "住院了")
    assert "住院了" in page(client, f"/followups/{follow_up.id}")  # in the history


def test_plan_by_hand(client, fw):
    as_user(client, fw["nurse"], "en")
    url = f"/followups/new?resident_id={fw['resident'].id}"
    html = page(client, url)
    data = {
        "csrf_token": csrf_from(html),
        "team_id": str(fw["team"].id),
        "due_date": (local_today() + timedelta(days=3)).isoformat(),
        "mode": "home",
        "purpose": "换药",
        "condition": "",
    }
    response = client.post(url, data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    planned = db.session.scalar(db.select(FollowUp).where(FollowUp.purpose == "换药"))
    assert (planned.source, planned.mode) == (FollowUpSource.MANUAL, FollowUpMode.HOME)
    late = client.post(url, data={**data, "due_date": "2001-01-01"})
    assert late.status_code == 422
    assert 'id="due_date-error"' in late.get_data(as_text=True)


# --- helpers ---------------------------------------------------------------------------------


def _age_missed_event(follow_up_id: int, days: int) -> None:
    from app.audit.models import Event
    from app.timeutil import utcnow

    event = db.session.scalar(
        db.select(Event).where(Event.entity_id == follow_up_id, Event.name == "follow_up.missed")
    )
    event.at = utcnow() - timedelta(days=days)
    db.session.flush()


def _sections(html: str) -> dict:
    """The worklist's sections by their heading's id."""
    found = {}
    for name in ("overdue", "this-week", "missed"):
        start = html.index(f'aria-labelledby="{name}"')
        found[name] = html[start : html.index("</section>", start)]
    return found


def _purposes(section: str) -> list[str]:
    import re

    return re.findall(r"<td>([^<]+的)</td>", section)
