"""One-tap acknowledge links: GET only shows, POST acknowledges as the link's recipient
(no sign-in, no CSRF token), expired answers 410 with the way on, tampered answers 404."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from app.accounts.models import Role
from app.alerts import links, services
from app.alerts.models import AlertStatus, Severity
from app.audit.models import Event
from app.extensions import db
from app.residents.models import CaregiverScope, LinkStatus
from app.timeutil import LOCAL_TZ, utcnow

FORM = '<form class="ack" method="post"'


@pytest.fixture
def case(make_team, make_resident, make_link, make_user):
    team = make_team()
    resident = make_resident(neighbourhood=team.neighbourhoods[0], name="赵国华")
    daughter = make_user(Role.CAREGIVER, display_name="赵敏")
    link = make_link(resident, caregiver=daughter)
    alert = services.raise_alert(resident.id, "event:fall", Severity.CRITICAL, "Fall")[0]
    db.session.commit()
    return {"team": team, "resident": resident, "daughter": daughter, "link": link, "alert": alert}


def url(alert, user, now=None) -> str:
    return f"/a/{links.make_token(alert.id, user.id if user else None, now)}"


def events(alert) -> int:
    query = sa.select(sa.func.count(Event.id)).where(
        Event.entity_type == "alert", Event.entity_id == alert.id
    )
    return db.session.scalar(query)


def test_looking_shows_the_alert_and_changes_nothing(client, case):
    alert = case["alert"]
    before = events(alert)
    page = client.get(url(alert, case["daughter"]))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "赵国华" in html
    assert "跌倒" in html
    assert FORM in html
    assert 'class="large-text"' in html  # big text and a 60 px+ button by default
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    db.session.refresh(alert)
    assert alert.status == AlertStatus.OPEN
    assert events(alert) == before


def test_the_button_acknowledges_as_the_recipient_without_signing_in(app, client, case):
    alert, daughter = case["alert"], case["daughter"]
    assert app.config["WTF_CSRF_ENABLED"]  # the form carries no CSRF token, on purpose
    response = client.post(url(alert, daughter))
    assert response.status_code == 200
    assert FORM not in response.get_data(as_text=True)
    db.session.refresh(alert)
    assert (alert.status, alert.acknowledged_by_id) == (AlertStatus.ACKNOWLEDGED, daughter.id)
    first_at, count = alert.acknowledged_at, events(alert)

    assert client.post(url(alert, daughter)).status_code == 200  # a second tap
    db.session.refresh(alert)
    assert alert.acknowledged_at == first_at
    assert events(alert) == count
    assert client.get("/home").status_code == 302  # and nobody was signed in


def test_a_link_to_an_alert_in_hand_says_who_and_when(client, case):
    alert, nurse = case["alert"], case["team"].members[1].user
    at = utcnow() - timedelta(minutes=3)
    services.acknowledge(nurse, alert, now=at)
    db.session.commit()
    html = client.get(url(alert, case["daughter"])).get_data(as_text=True)
    assert nurse.display_name in html
    assert f"{at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}" in html
    assert FORM not in html


def test_the_on_call_contacts_link_acknowledges_without_an_account(client, case):
    alert = case["alert"]
    assert client.post(url(alert, None)).status_code == 200
    db.session.refresh(alert)
    assert alert.status == AlertStatus.ACKNOWLEDGED
    assert alert.acknowledged_by_id is None
    event = db.session.scalars(
        sa.select(Event).where(Event.entity_id == alert.id, Event.name == "alert.acknowledged")
    ).one()
    assert event.actor_id is None
    assert event.data == {"via": "link", "recipient": "on-call"}


def test_an_expired_link_says_so_and_how_to_act(app, client, case):
    alert, daughter = case["alert"], case["daughter"]
    hours = app.config["ALERT_ACK_LINK_HOURS"]
    fresh = url(alert, daughter, utcnow() - timedelta(hours=hours) + timedelta(minutes=1))
    assert client.get(fresh).status_code == 200
    stale = url(alert, daughter, utcnow() - timedelta(hours=hours, minutes=1))
    page = client.get(stale)
    assert page.status_code == 410
    assert f"/login?next=/alerts/{alert.id}" in page.get_data(as_text=True).replace("%2F", "/")
    assert client.post(stale).status_code == 410
    db.session.refresh(alert)
    assert alert.status == AlertStatus.OPEN


def test_a_tampered_or_foreign_token_is_not_found(app, client, case):
    alert, daughter = case["alert"], case["daughter"]
    token = links.make_token(alert.id, daughter.id)
    payload, stamp, signature = token.split(".")
    other_user = links.make_token(alert.id, case["team"].lead.id).split(".")[0]
    forged = [
        f"{payload}.{stamp}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}",
        f"{other_user}.{stamp}.{signature}",  # someone else's name under her signature
        URLSafeTimedSerializer("another key", salt=links.SALT).dumps([alert.id, daughter.id]),
        URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="x").dumps([alert.id, None]),
        links.make_token(alert.id + 1000, daughter.id),  # genuine, but no such alert
        "not-a-token",
    ]
    for token in forged:
        assert client.get(f"/a/{token}").status_code == 404, token
        assert client.post(f"/a/{token}").status_code == 404, token
    db.session.refresh(alert)
    assert alert.status == AlertStatus.OPEN


def test_a_caregiver_whose_link_to_the_resident_ended_is_not_let_in(client, case):
    case["link"].status = LinkStatus.REVOKED
    db.session.commit()
    assert client.get(url(case["alert"], case["daughter"])).status_code == 404
    assert client.post(url(case["alert"], case["daughter"])).status_code == 404


def test_a_view_only_caregiver_sees_but_cannot_act(client, case, make_link):
    viewer = make_link(case["resident"], scope=CaregiverScope.VIEW).caregiver
    page = client.get(url(case["alert"], viewer))
    assert page.status_code == 200
    assert FORM not in page.get_data(as_text=True)
    assert client.post(url(case["alert"], viewer)).status_code == 403
    db.session.refresh(case["alert"])
    assert case["alert"].status == AlertStatus.OPEN


def test_a_resolved_alert_stays_resolved(client, case):
    alert = case["alert"]
    services.resolve(case["team"].lead, alert, "上门查看，无外伤")
    db.session.commit()
    assert client.post(url(alert, case["daughter"])).status_code == 409
    db.session.refresh(alert)
    assert alert.status == AlertStatus.RESOLVED
    assert alert.acknowledged_by_id is None
    assert FORM not in client.get(url(alert, case["daughter"])).get_data(as_text=True)


def test_the_page_speaks_the_recipients_language_unless_the_browser_chose(client, case):
    case["daughter"].locale = "en"
    db.session.commit()
    link = url(case["alert"], case["daughter"])
    assert '<html lang="en"' in client.get(link).get_data(as_text=True)
    client.set_cookie("lang", "zh_CN")
    html = client.get(link).get_data(as_text=True)
    assert '<html lang="zh-CN"' in html
    assert "跌倒" in html
