"""The resident's side of the video-visit pages, as a resident and a caregiver use them: see
their visits, go in with one tap while the room is open, book (kind, time, confirm), move and
cancel a visit; and what outsiders get."""

import html
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import url_for
from flask_babel import force_locale, gettext

from app.accounts.models import Role
from app.extensions import db
from app.residents.models import CaregiverScope
from app.timeutil import utcnow
from telecall.models import Visit, VisitStatus, VisitType
from telecall.tokens import join_path
from tests.conftest import post_form, sign_in
from tests.telecall.conftest import local_at, seat


@pytest.fixture
def client_for(app):
    """A signed-in browser of its own for each user, in a language."""

    def _client(user, lang="en"):
        client = app.test_client()
        client.set_cookie("lang", lang)
        sign_in(client, user)
        return client

    return _client


def page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def zh(msgid: str, **params) -> str:
    """The page's words in Chinese (as the catalogue has them)."""
    with force_locale("zh_CN"):
        return gettext(msgid, **params)


def words(lang: str, msgid: str, **params) -> str:
    """What the page says in `lang`."""
    if lang == "zh_CN":
        return zh(msgid, **params)
    return msgid % params if params else msgid


def problem_of(text: str) -> str:
    match = re.search(r'id="problem">(.*?)</p>', text, re.S)
    assert match, "no refusal shown"
    return re.sub(r"<[^>]+>", "", match.group(1))


def error_next_to(text: str, field_id: str) -> str:
    match = re.search(rf'id="{field_id}-error">(.*?)</p>', text, re.S)
    assert match, f"no error shown next to {field_id}"
    return re.sub(r"<[^>]+>", "", match.group(1))


def open_soon(visit: Visit, minutes: int = 20) -> Visit:
    """Move a booked visit to start in `minutes` (the booking rules are not what is tested)."""
    visit.starts_at = utcnow() + timedelta(minutes=minutes)
    visit.ends_at = visit.starts_at + timedelta(minutes=20)
    db.session.flush()
    return visit


def pick_url(app, resident, doctor, starts_at, visit_type="video_consult") -> str:
    with app.test_request_context():
        return url_for(
            "visits.book",
            resident_id=resident.id,
            visit_type=visit_type,
            doctor_id=doctor.id,
            starts_at=starts_at.isoformat(),
        )


# --- my visits --------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("who", ["account", "carer"])
def test_my_visits_lists_the_coming_visit_in_both_languages(client_for, clinic, booked, who, lang):
    visit = booked()
    text = page(client_for(clinic[who], lang).get("/visits/mine"))
    assert ('lang="zh-CN"' if lang == "zh_CN" else 'lang="en"') in text
    heading = "My video visits" if who == "account" else "Video visits of the people you look after"
    assert (zh(heading) if lang == "zh_CN" else heading) in text
    assert clinic["doctor"].display_name in text
    assert local_at(1, 9).astimezone(visit.starts_at.tzinfo) == visit.starts_at
    assert "09:00–09:20" in text
    # not open yet: the device check of the resident's own link, no way in
    assert join_path(seat(visit)) + "/check" in text
    assert f'href="{join_path(seat(visit))}"' not in text
    check = zh("Device check") if lang == "zh_CN" else "Device check"
    assert check in text
    assert f"/visits/book/{clinic['resident'].id}" in text


def test_the_big_button_goes_in_from_thirty_minutes_before(client_for, clinic, booked):
    visit = open_soon(booked(), minutes=20)
    text = page(client_for(clinic["account"]).get("/visits/mine"))
    assert f'href="{join_path(seat(visit))}"' in text
    assert "Enter the video visit" in text
    assert zh("Enter the video visit") in page(
        client_for(clinic["carer"], "zh_CN").get("/visits/mine")
    )


def test_a_caregiver_who_may_only_view_sees_the_visit_but_not_the_link(
    client_for, clinic, booked, make_link
):
    visit = open_soon(booked())
    viewer = make_link(clinic["resident"], scope=CaregiverScope.VIEW).caregiver
    text = page(client_for(viewer).get("/visits/mine"))
    assert clinic["doctor"].display_name in text
    assert join_path(seat(visit)) not in text
    assert f"/visits/{visit.id}/cancel" not in text
    assert f"/visits/book/{clinic['resident'].id}" not in text


# --- booking ----------------------------------------------------------------------------------

BOOKING_PAGES = [
    ("{book}", "Book a video visit"),
    ("{book}?visit_type=remote_follow_up", "Choose a time"),
    ("{pick}", "Please check and confirm"),
    ("/visits/{visit}/booked", "The video visit is booked"),
    ("/visits/{visit}/reschedule", "Move the visit to another time"),
    ("/visits/{visit}/cancel", "Cancel the video visit"),
]


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("who", ["account", "carer", "doctor", "nurse"])
def test_the_booking_pages_open_for_everyone_who_books(app, client_for, clinic, booked, who, lang):
    visit = booked()
    client = client_for(clinic[who], lang)
    names = {
        "book": f"/visits/book/{clinic['resident'].id}",
        "pick": pick_url(app, clinic["resident"], clinic["doctor"], local_at(2, 9)),
        "visit": visit.id,
    }
    for address, heading in BOOKING_PAGES:
        response = client.get(address.format(**names))
        assert response.status_code == 200, address
        text = page(response)
        assert ('lang="zh-CN"' if lang == "zh_CN" else 'lang="en"') in text
        params = {}
        if heading == "Book a video visit" and who != "account":  # for someone else
            heading, params = "Book a video visit for %(name)s", {"name": clinic["resident"].name}
        expected = words(lang, heading, **params)
        assert f"<h1>{expected}</h1>" in text, address


def test_booking_through_the_pages_creates_the_visit(app, client_for, clinic):
    resident, doctor = clinic["resident"], clinic["doctor"]
    client = client_for(clinic["account"])
    kinds = page(client.get(f"/visits/book/{resident.id}"))
    for name in ("Video consult", "Online re-visit", "Remote follow-up", "20 minutes"):
        assert name in kinds
    slots = page(client.get(f"/visits/book/{resident.id}?visit_type=video_consult"))
    assert "Choose a time" in slots
    chosen = pick_url(app, resident, doctor, local_at(1, 9))
    assert f'href="{chosen}"' in slots
    confirm = page(client.get(chosen))
    assert "Confirm the booking" in confirm
    assert "09:00–09:20" in confirm
    response = post_form(client, chosen, {"reason": "血压偏高，想调药"})
    assert response.status_code == 303
    visit = db.session.scalars(sa.select(Visit).where(Visit.resident_id == resident.id)).one()
    assert response.headers["Location"].endswith(f"/visits/{visit.id}/booked")
    assert (visit.starts_at, visit.doctor_id, visit.visit_type) == (
        local_at(1, 9),
        doctor.id,
        VisitType.VIDEO_CONSULT,
    )
    assert visit.reason == "血压偏高，想调药"
    assert visit.booked_by_id == clinic["account"].id
    done = page(client.get(f"/visits/{visit.id}/booked"))
    assert "The video visit is booked" in done
    assert join_path(seat(visit)) + "/check" in done


def test_the_doctor_books_for_a_resident_from_the_workbench(app, client_for, clinic):
    client = client_for(clinic["doctor"], "zh_CN")
    response = client.get(f"/visits/book?resident_id={clinic['resident'].id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/visits/book/{clinic['resident'].id}")
    chosen = pick_url(app, clinic["resident"], clinic["doctor"], local_at(2, 15), "online_revisit")
    assert post_form(client, chosen, {}).status_code == 303
    visit = db.session.scalars(sa.select(Visit)).one()
    assert visit.visit_type == VisitType.ONLINE_REVISIT
    assert visit.ends_at - visit.starts_at == timedelta(minutes=15)


def test_a_taken_time_is_refused_with_a_clear_message_and_the_times_again(
    app, client_for, clinic, booked
):
    resident = clinic["resident"]
    chosen = pick_url(app, resident, clinic["doctor"], local_at(1, 9))
    client = client_for(clinic["carer"])
    html_before = client.get(chosen).get_data(as_text=True)  # the confirm page, then...
    booked(by=clinic["doctor"])  # ...the doctor books the same time first
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html_before).group(1)
    response = client.post(chosen, data={"csrf_token": token, "reason": ""})
    assert response.status_code == 409
    text = page(response)
    assert problem_of(text).endswith("This time is not free: choose another")
    assert "Choose a time" in text
    assert f'href="{chosen}"' not in text
    assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == 1


def test_a_resident_not_signed_with_a_team_is_told_why(client_for, clinic):
    response = client_for(clinic["doctor"]).get(f"/visits/book/{clinic['unsigned'].id}")
    assert response.status_code == 422
    assert "Video visits are for residents signed with a family-doctor team" in problem_of(
        page(response)
    )


def test_a_time_that_cannot_be_read_is_named(client_for, clinic):
    url = f"/visits/book/{clinic['resident'].id}?visit_type=video_consult&doctor_id=1&starts_at=x"
    response = client_for(clinic["account"]).get(url)
    assert response.status_code == 422
    assert "The chosen time could not be read" in problem_of(page(response))
    response = client_for(clinic["account"]).get(
        f"/visits/book/{clinic['resident'].id}?visit_type=x"
    )
    assert response.status_code == 422
    assert "Choose one of the kinds of visit" in problem_of(page(response))


# --- moving and cancelling ----------------------------------------------------------------------


def test_rescheduling_through_the_pages(client_for, clinic, booked):
    visit = booked()
    client = client_for(clinic["account"])
    slots = page(client.get(f"/visits/{visit.id}/reschedule"))
    assert "Move the visit to another time" in slots
    target = f"/visits/{visit.id}/reschedule?doctor_id={clinic['doctor'].id}&starts_at=" + (
        local_at(1, 10).isoformat().replace("+", "%2B")
    )
    assert "Move the visit to this time" in page(client.get(target))
    assert post_form(client, target, {}).status_code == 303
    assert visit.starts_at == local_at(1, 10)


def test_cancelling_needs_a_reason(client_for, clinic, booked):
    visit = booked()
    client = client_for(clinic["carer"])
    response = post_form(client, f"/visits/{visit.id}/cancel", {"reason": ""})
    assert response.status_code == 422
    assert error_next_to(page(response), "reason").endswith("Please fill in this field.")
    response = post_form(client, f"/visits/{visit.id}/cancel", {"reason": "  "})
    assert response.status_code == 422  # the service's own words, next to the field
    assert error_next_to(page(response), "reason").endswith("Give a reason for cancelling")
    assert visit.status == VisitStatus.BOOKED
    response = post_form(client, f"/visits/{visit.id}/cancel", {"reason": "老人住院了"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/visits/mine")
    assert (visit.status, visit.cancel_reason) == (VisitStatus.CANCELLED, "老人住院了")
    again = client.get(f"/visits/{visit.id}/cancel")
    assert again.status_code == 409
    assert "This visit cannot be changed" in page(again)


# --- outsiders --------------------------------------------------------------------------------


def test_outsiders_get_nothing(
    app, client_for, clinic, booked, make_resident, make_resident_user, make_link, make_user
):
    visit = booked()
    rid = clinic["resident"].id
    stranger = make_resident_user(make_resident())
    viewer = make_link(clinic["resident"], scope=CaregiverScope.VIEW).caregiver
    for user, expected in (
        (stranger, {"book": 404, "record": 404, "cancel": 404}),
        (clinic["outsider"], {"book": 404, "record": 404, "cancel": 404}),
        (viewer, {"book": 404, "record": 200, "cancel": 403}),
        (make_user(Role.SPECIALIST), {"book": 403, "record": 404, "cancel": 403}),
    ):
        client = client_for(user)
        got = {
            "book": client.get(f"/visits/book/{rid}").status_code,
            "record": client.get(f"/visits/{visit.id}").status_code,
            "cancel": client.get(f"/visits/{visit.id}/cancel").status_code,
        }
        assert got == expected, user.role
    assert client_for(clinic["doctor"]).get("/visits/mine").status_code == 403
    anonymous = app.test_client()
    assert "/login" in anonymous.get("/visits/mine").headers["Location"]
