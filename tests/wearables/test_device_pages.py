"""The pages where a team nurse or doctor (or an administrator, with a reason) manages a
resident's devices: register and bind, token shown once, unbind, lost, new token."""

import hashlib
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import Role, TeamMemberRole
from app.audit.models import AuditEntry, Event
from app.extensions import db
from app.timeutil import utcnow
from tests.conftest import csrf_from, post_form, sign_in
from wearables import devices
from wearables.models import Device, DeviceKind, DeviceStatus

TOKEN_RE = re.compile(r'value="(dev_[^"]+)"')


@pytest.fixture
def setup(make_team, make_resident, make_link, make_resident_user):
    team = make_team()
    resident = make_resident(neighbourhood=team.neighbourhoods[0], name="王阿婆")
    nurse = next(m.user for m in team.members if m.member_role == TeamMemberRole.NURSE)
    watch, token = devices.register(
        team.lead, {"serial": "W-OLD-1", "kind": DeviceKind.WATCH, "resident_id": resident.id}
    )
    watch.last_seen_at = utcnow() - timedelta(minutes=12, seconds=5)
    watch.battery_level = 15
    db.session.flush()
    return {
        "team": team,
        "resident": resident,
        "nurse": nurse,
        "watch": watch,
        "token": token,
        "caregiver": make_link(resident).caregiver,
        "resident_user": make_resident_user(resident),
    }


def devices_url(resident, query=""):
    return f"/devices/resident/{resident.id}{query}"


def action_url(resident, device, action):
    return f"/devices/resident/{resident.id}/{device.id}/{action}"


def english(client):
    client.set_cookie("lang", "en")
    return client


def events_of(device, name):
    return db.session.scalars(
        sa.select(Event).where(
            Event.entity_type == "device", Event.entity_id == device.id, Event.name == name
        )
    ).all()


def device_by_serial(serial):
    return db.session.scalar(sa.select(Device).where(Device.serial == serial))


def test_the_page_lists_a_device_with_last_seen_and_a_low_battery_warning(setup, signed_in):
    client = english(signed_in(setup["nurse"]))
    response = client.get(devices_url(setup["resident"]))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Devices of 王阿婆" in html
    assert "W-OLD-1" in html
    assert "Smart watch" in html  # the kind's label, not "watch"
    assert "In use" in html
    assert "12 min ago" in html
    assert "15%" in html
    assert "Low battery" in html
    assert 'lang="en"' in html


def test_the_page_is_chinese_by_default(setup, signed_in):
    client = signed_in(setup["nurse"])
    html = client.get(devices_url(setup["resident"])).get_data(as_text=True)
    assert '<html lang="zh-CN"' in html


def test_the_resident_record_links_to_the_devices_for_the_team_only(setup, signed_in, app):
    resident = setup["resident"]
    html = signed_in(setup["nurse"]).get(f"/residents/{resident.id}").get_data(as_text=True)
    assert f'href="{devices_url(resident)}"' in html
    other = app.test_client()
    sign_in(other, setup["caregiver"])
    caregiver_page = other.get(f"/residents/{resident.id}")
    assert caregiver_page.status_code == 200
    assert devices_url(resident) not in caregiver_page.get_data(as_text=True)


def test_registering_shows_the_token_once_and_binds_the_device(setup, signed_in):
    client = english(signed_in(setup["nurse"]))
    resident = setup["resident"]
    response = post_form(
        client,
        devices_url(resident, "/register"),
        {"serial": "W-NEW-7", "kind": "watch", "model": "GT 4", "vendor": "华为"},
        page=devices_url(resident),
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    token = TOKEN_RE.search(html).group(1)
    assert "shown only this once" in html
    assert "Enter this token in the device or its app now." in html

    device = device_by_serial("W-NEW-7")
    assert device.status == DeviceStatus.ACTIVE
    assert device.resident_id == resident.id
    assert (device.model, device.vendor) == ("GT 4", "华为")
    assert device.token_digest == hashlib.sha256(token.encode()).hexdigest()
    assert devices.authenticate(token).id == device.id
    assert events_of(device, "device.registered")[0].actor_id == setup["nurse"].id

    again = client.get(devices_url(resident)).get_data(as_text=True)
    assert "W-NEW-7" in again
    assert token not in again  # nor in a flash message: it was shown once


def test_a_duplicate_serial_is_refused_next_to_the_field(setup, signed_in):
    client = english(signed_in(setup["nurse"]))
    resident = setup["resident"]
    response = post_form(
        client,
        devices_url(resident, "/register"),
        {"serial": "W-OLD-1", "kind": "scale"},
        page=devices_url(resident),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(
        r'class="field-error" id="serial-error"><strong>Error:</strong> '
        r"A device with this serial is registered already",
        html,
    )
    assert 'value="W-OLD-1"' in html  # the form keeps what was typed
    assert TOKEN_RE.search(html) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Device)) == 1


def test_unbinding_frees_the_device_and_records_it(setup, signed_in):
    client = english(signed_in(setup["nurse"]))
    resident, watch = setup["resident"], setup["watch"]
    response = post_form(
        client, action_url(resident, watch, "unbind"), {}, page=devices_url(resident)
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(devices_url(resident))
    watch = db.session.get(Device, watch.id)
    assert watch.status == DeviceStatus.UNBOUND
    assert watch.resident_id is None
    event = events_of(watch, "device.unbound")[0]
    assert (event.from_state, event.to_state) == ("active", "unbound")
    assert devices.authenticate(setup["token"]) is None
    html = client.get(devices_url(resident)).get_data(as_text=True)
    assert "Device W-OLD-1 is unbound" in html  # the flash
    assert "No device is bound to this resident." in html


def test_marking_lost_needs_the_box_ticked_then_cannot_be_undone(setup, signed_in):
    client = english(signed_in(setup["nurse"]))
    resident, watch = setup["resident"], setup["watch"]
    url = action_url(resident, watch, "lost")
    unticked = post_form(client, url, {}, page=devices_url(resident))
    assert unticked.status_code == 422
    assert "Tick the box to confirm that the device is lost." in unticked.get_data(as_text=True)
    assert db.session.get(Device, watch.id).status == DeviceStatus.ACTIVE

    response = post_form(client, url, {"confirm": "y"}, page=devices_url(resident))
    assert response.status_code == 303
    watch = db.session.get(Device, watch.id)
    assert watch.status == DeviceStatus.LOST
    assert len(events_of(watch, "device.lost")) == 1
    assert devices.authenticate(setup["token"]) is None
    html = client.get(devices_url(resident)).get_data(as_text=True)
    assert "Lost" in html
    assert action_url(resident, watch, "rotate-token") not in html  # no buttons left

    again = post_form(client, url, {"confirm": "y"}, page=devices_url(resident))
    assert again.status_code == 422
    assert "The device is marked lost already" in again.get_data(as_text=True)


def test_a_new_token_replaces_the_old_one(setup, signed_in):
    client = english(signed_in(setup["nurse"]))
    resident, watch = setup["resident"], setup["watch"]
    response = post_form(
        client, action_url(resident, watch, "rotate-token"), {}, page=devices_url(resident)
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    new_token = TOKEN_RE.search(html).group(1)
    assert "The old token has stopped working" in html
    assert devices.authenticate(setup["token"]) is None
    assert devices.authenticate(new_token).id == watch.id
    assert len(events_of(watch, "device.token_rotated")) == 1
    assert new_token not in client.get(devices_url(resident)).get_data(as_text=True)


def test_binding_a_registered_device_by_its_serial(setup, signed_in):
    client = english(signed_in(setup["nurse"]))
    resident = setup["resident"]
    spare, _token = devices.register(setup["nurse"], {"serial": "BP-9", "kind": "scale"})
    page = devices_url(resident)
    unknown = post_form(client, devices_url(resident, "/bind"), {"bind-serial": "NOPE"}, page=page)
    assert unknown.status_code == 422
    assert "No unbound device has this serial number" in unknown.get_data(as_text=True)

    response = post_form(client, devices_url(resident, "/bind"), {"bind-serial": "BP-9"}, page=page)
    assert response.status_code == 303
    spare = db.session.get(Device, spare.id)
    assert (spare.status, spare.resident_id) == (DeviceStatus.ACTIVE, resident.id)
    assert len(events_of(spare, "device.bound")) == 1


def test_a_device_bound_to_someone_else_cannot_be_taken_by_serial(setup, signed_in, make_resident):
    other = make_resident(neighbourhood=setup["team"].neighbourhoods[0])
    client = english(signed_in(setup["nurse"]))
    response = post_form(
        client,
        devices_url(other, "/bind"),
        {"bind-serial": "W-OLD-1"},
        page=devices_url(other),
    )
    assert response.status_code == 422
    assert db.session.get(Device, setup["watch"].id).resident_id == setup["resident"].id


def test_another_teams_doctor_gets_404(setup, signed_in, make_team):
    client = signed_in(make_team().lead)
    resident, watch = setup["resident"], setup["watch"]
    assert client.get(devices_url(resident)).status_code == 404
    for action in ("unbind", "rotate-token"):
        response = post_form(client, action_url(resident, watch, action), {}, page="/home")
        assert response.status_code == 404
    assert db.session.get(Device, watch.id).status == DeviceStatus.ACTIVE


def test_a_device_of_another_resident_answers_404(setup, signed_in, make_resident):
    """The nurse's own resident in the address does not open another resident's device."""
    own = make_resident(neighbourhood=setup["team"].neighbourhoods[0])
    client = signed_in(setup["nurse"])
    url = action_url(own, setup["watch"], "unbind")
    assert post_form(client, url, {}, page="/home").status_code == 404
    assert db.session.get(Device, setup["watch"].id).status == DeviceStatus.ACTIVE


@pytest.mark.parametrize("who", ["caregiver", "resident_user"])
def test_caregivers_and_residents_are_refused(setup, signed_in, who):
    client = signed_in(setup[who])
    assert client.get(devices_url(setup["resident"])).status_code == 403
    url = action_url(setup["resident"], setup["watch"], "unbind")
    assert post_form(client, url, {}, page="/home").status_code == 403


def test_an_administrator_gives_a_reason_which_is_audited(setup, signed_in, make_user):
    admin = make_user(Role.ADMIN)
    client = english(signed_in(admin))
    resident = setup["resident"]
    asked = client.get(devices_url(resident))
    assert asked.status_code == 200
    assert 'name="reason"' in asked.get_data(as_text=True)
    assert "W-OLD-1" not in asked.get_data(as_text=True)

    reason = "replacing a broken watch"
    html = client.get(devices_url(resident, f"?reason={reason}")).get_data(as_text=True)
    assert "W-OLD-1" in html
    assert f'<input type="hidden" name="reason" value="{reason}">' in html
    response = client.post(
        devices_url(resident, "/register"),
        data={"csrf_token": csrf_from(html), "serial": "W-ADM", "kind": "watch", "reason": reason},
    )
    assert response.status_code == 200
    assert TOKEN_RE.search(response.get_data(as_text=True))
    audited = db.session.execute(
        sa.select(AuditEntry.action, AuditEntry.reason).where(
            AuditEntry.actor_id == admin.id,
            AuditEntry.resident_id == resident.id,
            AuditEntry.action.in_(("view", "update")),
        )
    ).all()
    assert {tuple(row) for row in audited} == {("view", reason), ("update", reason)}

    without = client.post(
        devices_url(resident, "/register"),
        data={"csrf_token": csrf_from(html), "serial": "W-ADM-2", "kind": "watch"},
    )
    assert without.status_code == 403
    assert device_by_serial("W-ADM-2") is None
