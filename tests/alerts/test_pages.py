"""The alert pages as their users meet them: the team's queue (worst first, with evidence,
a link to the vitals and the forms), the caregiver's phone page (a big acknowledge button,
big call buttons), the resident's own page (nothing to press but the call), one alert with
its chart and history, and the forms' answers."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import Organisation, Role
from app.alerts import services
from app.alerts.models import Alert, AlertStatus, Severity
from app.audit.models import AuditEntry
from app.extensions import db
from app.residents.models import CaregiverScope
from app.timeutil import utcnow
from tests.conftest import post_form, sign_in
from wearables.models import Device, DeviceKind, DeviceStatus, Reading, ReadingSource


@pytest.fixture
def family(make_team, make_resident, make_link, make_resident_user, make_user):
    team = make_team()
    db.session.get(Organisation, team.centre_id).phone = "021-58620000"
    resident = make_resident(
        neighbourhood=team.neighbourhoods[0], name="张桂英", phone="13700000001"
    )
    return {
        "team": team,
        "doctor": team.lead,
        "resident": resident,
        "resident_user": make_resident_user(resident),
        "carer": make_link(resident, scope=CaregiverScope.CARE).caregiver,
        "viewer": make_link(resident, scope=CaregiverScope.VIEW, priority=2).caregiver,
        "admin": make_user(Role.ADMIN),
    }


def raise_one(resident, rule, severity, value=186.0, ago=timedelta(minutes=10)):
    at = utcnow() - ago
    return services.raise_alert(
        resident.id,
        rule,
        severity,
        "Systolic blood pressure %(value)s mmHg, at or above %(limit)s",
        {"value": int(value), "limit": 180},
        evidence=[{"metric": "systolic_bp", "value": value, "observed_at": at}],
        now=at,
    )[0]


def english(client, url):
    client.set_cookie("lang", "en")
    return client.get(url)


def post(client, url, data, page):
    """The form of `page` that posts to `url`, sent as a browser sends it: its hidden
    fields (the CSRF token, where to go back to) and `data`."""
    html = client.get(page).get_data(as_text=True)
    form = re.search(rf'<form method="post" action="{re.escape(url)}".*?</form>', html, re.S)
    assert form, f"{page} has no form posting to {url}"
    hidden = dict(
        re.findall(r'<input[^>]*name="([^"]+)"[^>]*type="hidden"[^>]*value="([^"]*)"', form[0])
    )
    assert any(name.endswith("csrf_token") for name in hidden), hidden
    return client.post(url, data={**hidden, **data})


def test_the_queue_is_worst_first_with_evidence_vitals_and_forms(family, signed_in):
    resident = family["resident"]
    high = raise_one(resident, "threshold:systolic_bp:high", Severity.HIGH, ago=timedelta(hours=1))
    critical = raise_one(resident, "event:sos", Severity.CRITICAL, 190.0)
    done = raise_one(resident, "event:fall", Severity.CRITICAL)
    services.resolve(family["doctor"], done, "seen to")
    client = signed_in(family["doctor"])

    html = english(client, "/alerts/").get_data(as_text=True)

    cards = re.findall(r'<article id="alert-(\d+)"', html)
    assert cards == [str(critical.id), str(high.id)]
    assert "张桂英: Systolic blood pressure 190 mmHg, at or above 180" in html
    assert "Critical" in html
    assert "190 mmHg" in html  # the evidence reading
    assert f'href="/vitals/{resident.id}"' in html
    assert f'action="/alerts/{critical.id}/acknowledge"' in html
    assert f'for="a{critical.id}-resolve-note"' in html
    assert 'aria-live="assertive"' in html
    assert "/alerts/static/alerts.js" in html


def test_the_caregiver_page_has_big_acknowledge_and_call_buttons(family, signed_in):
    alert = raise_one(family["resident"], "event:sos", Severity.CRITICAL)
    client = signed_in(family["carer"])

    assert client.get("/alerts/").headers["Location"].endswith("/alerts/mine")
    html = english(client, "/alerts/mine").get_data(as_text=True)
    assert re.search(r'<button class="big-button primary" type="submit">I am on it</button>', html)
    assert 'href="tel:13700000001"' in html
    assert 'href="tel:021-58620000"' in html

    answer = post(client, f"/alerts/{alert.id}/acknowledge", {}, "/alerts/mine")
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/alerts/mine")
    assert db.session.get(Alert, alert.id).status == AlertStatus.ACKNOWLEDGED
    after = english(client, "/alerts/mine").get_data(as_text=True)
    assert "I am on it</button>" not in after
    assert f"Someone is taking care of it</strong>: {family['carer'].display_name}" in after


def test_a_view_scope_caregiver_sees_but_cannot_act(family, signed_in):
    alert = raise_one(family["resident"], "event:sos", Severity.CRITICAL)
    client = signed_in(family["viewer"])
    html = english(client, "/alerts/mine").get_data(as_text=True)
    assert f'id="alert-{alert.id}"' in html
    assert "I am on it" not in html
    # no button on the page; a hand-made request is refused
    assert (
        post_form(client, f"/alerts/{alert.id}/acknowledge", {}, "/alerts/mine").status_code == 403
    )
    assert db.session.get(Alert, alert.id).status == AlertStatus.OPEN


def test_the_resident_sees_their_alert_and_may_call_the_team(family, signed_in):
    raise_one(family["resident"], "event:sos", Severity.CRITICAL)
    html = english(signed_in(family["resident_user"]), "/alerts/mine").get_data(as_text=True)
    assert "My alerts" in html
    assert "Systolic blood pressure 186 mmHg" in html
    assert "I am on it" not in html
    assert '<form method="post" action="/alerts/' not in html
    assert 'href="tel:021-58620000"' in html
    assert 'href="tel:13700000001"' not in html  # not their own number


def test_one_alert_with_chart_evidence_who_was_told_and_history(family, signed_in):
    resident = family["resident"]
    device = Device(
        serial="W-ALERT",
        kind=DeviceKind.WATCH,
        resident=resident,
        status=DeviceStatus.ACTIVE,
        token_digest="c" * 64,
    )
    db.session.add(device)
    db.session.flush()
    for minutes, value in ((120, 150), (60, 165), (10, 186)):
        db.session.add(
            Reading(
                device_id=device.id,
                resident_id=resident.id,
                metric="systolic_bp",
                value=value,
                unit="mm[Hg]",
                measured_at=utcnow() - timedelta(minutes=minutes),
                source=ReadingSource.JSON,
            )
        )
    alert = raise_one(resident, "threshold:systolic_bp:high", Severity.HIGH)
    services.acknowledge(family["carer"], alert)
    client = signed_in(family["doctor"])

    html = english(client, f"/alerts/{alert.id}").get_data(as_text=True)

    assert '<svg class="chart" role="img"' in html
    assert "3 readings, lowest 150, highest 186 mmHg" in html
    assert "<td>186 mmHg</td>" in html
    assert f"<td>{family['carer'].display_name}</td><td>On the platform</td><td>Sent</td>" in html
    assert f"<td>Acknowledged</td><td>{family['carer'].display_name}</td>" in html
    assert "<td>Raised</td><td>the platform</td>" in html


def test_resolving_needs_a_note_said_next_to_the_field(family, signed_in):
    alert = raise_one(family["resident"], "event:sos", Severity.CRITICAL)
    client = signed_in(family["doctor"])
    client.set_cookie("lang", "en")
    page = f"/alerts/{alert.id}"
    field = f"a{alert.id}-resolve-note"

    refused = post(client, f"/alerts/{alert.id}/resolve", {field: "  "}, page)
    assert refused.status_code == 422
    assert f'id="{field}-error"' in refused.get_data(as_text=True)
    assert db.session.get(Alert, alert.id).status == AlertStatus.OPEN

    done = post(client, f"/alerts/{alert.id}/resolve", {field: "上门查看，已服药"}, page)
    assert done.status_code == 303
    resolved = db.session.get(Alert, alert.id)
    assert (resolved.status, resolved.resolution_note) == (AlertStatus.RESOLVED, "上门查看，已服药")


def test_putting_off_holds_the_ladder(family, signed_in):
    alert = raise_one(family["resident"], "event:sos", Severity.CRITICAL)
    client = signed_in(family["carer"])
    page = f"/alerts/{alert.id}"
    answer = post(client, f"{page}/snooze", {f"a{alert.id}-snooze-minutes": "60"}, page)
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(page)
    snoozed = db.session.get(Alert, alert.id)
    assert abs(snoozed.snoozed_until - (utcnow() + timedelta(hours=1))) < timedelta(minutes=1)
    assert snoozed.next_step_at == snoozed.snoozed_until


def test_the_card_the_live_page_fetches(app, family, signed_in, make_team):
    alert = raise_one(family["resident"], "event:sos", Severity.CRITICAL)
    html = english(signed_in(family["carer"]), f"/alerts/{alert.id}/card?view=mine")
    assert html.get_data(as_text=True).lstrip().startswith(f'<article id="alert-{alert.id}"')
    assert 'data-section="active"' in html.get_data(as_text=True)
    outsider = app.test_client()
    sign_in(outsider, make_team().lead)
    assert outsider.get(f"/alerts/{alert.id}/card").status_code == 404


def test_the_header_counts_the_alerts_waiting(family, signed_in):
    raise_one(family["resident"], "event:sos", Severity.CRITICAL)
    raise_one(family["resident"], "event:fall", Severity.CRITICAL)
    html = english(signed_in(family["doctor"]), "/home").get_data(as_text=True)
    assert re.search(r'<a href="/alerts/">Alerts <strong class="tag">2 waiting</strong></a>', html)


def test_an_administrator_gives_a_reason_that_is_logged(family, signed_in):
    alert = raise_one(family["resident"], "event:sos", Severity.CRITICAL)
    client = signed_in(family["admin"])
    asked = client.get("/alerts/").get_data(as_text=True)
    assert 'name="reason"' in asked
    assert f'id="alert-{alert.id}"' not in asked
    listed = client.get("/alerts/?reason=夜间抽查").get_data(as_text=True)
    assert f'id="alert-{alert.id}"' in listed
    reasons = db.session.scalars(
        sa.select(AuditEntry.reason).where(AuditEntry.actor_id == family["admin"].id)
    ).all()
    assert reasons == ["夜间抽查"]


def test_pages_speak_chinese_by_default(family, signed_in):
    raise_one(family["resident"], "event:sos", Severity.CRITICAL)
    html = signed_in(family["carer"]).get("/alerts/mine").get_data(as_text=True)
    assert '<html lang="zh-CN"' in html
