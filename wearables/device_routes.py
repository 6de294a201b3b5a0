"""Pages for a resident's devices (register, bind, unbind, mark lost, new token) and the
administrator's list of MQTT dead letters.

Who may manage a resident's devices is wearables.devices.may_manage: the doctors and nurses
of the resident's team, and administrators, who give a reason (`?reason=`, carried in every
form) that is kept in the audit log. A resident the user may not see answers 404; other roles
get 403. A device token is shown once, on the page that answers the register or new-token
form: never in a flash message or an address, and that page is not cached.
"""

import contextlib
import json

import sqlalchemy as sa
from flask import Blueprint, abort, flash, make_response, redirect, render_template, request
from flask import url_for as url
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.models import Role
from app.errors import N_, Conflict, InvalidInput, NotFound
from app.extensions import db
from app.pagination import audited_page
from app.policy import roles_required
from app.residents.routes import ask_reason, given_reason, visible_resident
from app.templating import localtime
from app.timeutil import utcnow
from wearables import devices
from wearables.dead_letters_api import dead_letters_query
from wearables.device_forms import (
    BindDeviceForm,
    DeadLetterFilterForm,
    DeviceActionForm,
    LostForm,
    RegisterDeviceForm,
)
from wearables.models import Device, DeviceStatus

bp = Blueprint("devices", __name__, url_prefix="/devices", template_folder="templates")

team_or_admin = roles_required(Role.DOCTOR, Role.NURSE, Role.ADMIN)
admin_only = roles_required(Role.ADMIN)
# A refused form is shown again, with the reason next to the field, as 422.
FORM_ERROR = 422
SEE_OTHER = 303
FormRefused = (InvalidInput, Conflict)
LOW_BATTERY = 20  # per cent: below this the page warns
PAYLOAD_SHOWN = 8192  # characters of a dead letter's payload on the page; the API has it all


# --- helpers ---------------------------------------------------------------------------------


def last_seen(when, now=None) -> str:
    """When a device last sent: "12 min ago" within a day, else the local date and time."""
    if when is None:
        return _("Never: no readings yet")
    minutes = int(((now or utcnow()) - when).total_seconds() // 60)
    if minutes < 1:
        return _("Just now")
    if minutes < 60:
        return _("%(n)s min ago", n=minutes)
    if minutes < 24 * 60:
        return _("%(n)s h ago", n=minutes // 60)
    return localtime(when)


def managed_resident(resident_id: int, action: str):
    """(resident, reason) if the user may manage the resident's devices; 404 when they may
    not see the resident. The resident is None while an administrator gives no reason."""
    reason = given_reason(request.values)
    resident = visible_resident(resident_id, action, reason)
    if resident is not None and not devices.may_manage(current_user, resident.id):
        abort(404)
    return resident, reason


def changed_resident(resident_id: int):
    """As managed_resident, for a form sent: the reason comes with it (a hidden field)."""
    resident, reason = managed_resident(resident_id, "update")
    if resident is None:
        abort(403, description=_("Give a reason for opening the record first."))
    return resident, reason


def resident_device(resident_id: int, device_id: int):
    resident, reason = changed_resident(resident_id)
    device = devices.get_device(current_user, device_id)
    if device.resident_id != resident.id:
        raise NotFound(N_("device not found"))
    return resident, reason, device


def unbound_device(serial: str) -> Device:
    """A registered device nobody wears. Another's device, a lost one or none at all answer
    alike, so the page reveals nothing about devices the user may not manage."""
    device = db.session.scalar(sa.select(Device).where(Device.serial == serial))
    if device is None or device.status != DeviceStatus.UNBOUND:
        raise InvalidInput(N_("no unbound device has this serial number"), field="serial")
    return device


def page(resident, reason, status=200, failed=None, **forms):
    """The resident's devices page. `failed`: (device id, message) of a refused action."""
    context = {
        "register_form": RegisterDeviceForm(formdata=None),
        "bind_form": BindDeviceForm(formdata=None),
        "lost_form": LostForm(formdata=None),
        **forms,
    }
    return render_template(
        "devices/resident.html",
        resident=resident,
        reason=reason,
        devices=devices.for_resident(current_user, resident.id),
        failed=failed or (None, None),
        last_seen=last_seen,
        low_battery=LOW_BATTERY,
        now=utcnow(),
        **context,
    ), status


def token_page(resident, reason, device, token: str, registered: bool):
    response = make_response(
        render_template(
            "devices/token.html",
            resident=resident,
            reason=reason,
            device=device,
            token=token,
            registered=registered,
        )
    )
    response.headers["Cache-Control"] = "no-store"  # the token must not stay in a cache
    return response


def back(resident, reason, message: str):
    flash(message, "info")
    target = url("devices.resident_devices", resident_id=resident.id, reason=reason)
    return redirect(target, SEE_OTHER)


def first_error(form) -> str | None:
    return next((e for errors in form.errors.values() for e in errors), None)


# --- a resident's devices --------------------------------------------------------------------


@bp.get("/resident/<int:resident_id>")
@team_or_admin
def resident_devices(resident_id):
    resident, reason = managed_resident(resident_id, "view")
    if resident is None:
        return ask_reason()
    return page(resident, reason)


@bp.post("/resident/<int:resident_id>/register")
@team_or_admin
def register(resident_id):
    resident, reason = changed_resident(resident_id)
    form = RegisterDeviceForm()
    error = None
    if form.validate_on_submit():
        try:
            device, token = devices.register(current_user, form.service_data(resident.id))
        except FormRefused as exc:
            error = form.show_error(exc)
        else:
            return token_page(resident, reason, device, token, registered=True)
    return page(resident, reason, FORM_ERROR, register_form=form, register_error=error)


@bp.post("/resident/<int:resident_id>/bind")
@team_or_admin
def bind(resident_id):
    resident, reason = changed_resident(resident_id)
    form = BindDeviceForm()
    error = None
    if form.validate_on_submit():
        try:
            device = devices.bind(current_user, unbound_device(form.serial.data), resident.id)
        except FormRefused as exc:
            error = form.show_error(exc)
        else:
            return back(resident, reason, _("Device %(serial)s is bound.", serial=device.serial))
    return page(resident, reason, FORM_ERROR, bind_form=form, bind_error=error)


@bp.post("/resident/<int:resident_id>/<int:device_id>/unbind")
@team_or_admin
def unbind(resident_id, device_id):
    resident, reason, device = resident_device(resident_id, device_id)
    form = DeviceActionForm()
    if form.validate_on_submit():
        try:
            devices.unbind(current_user, device)
        except FormRefused as exc:
            return page(resident, reason, FORM_ERROR, failed=(device.id, exc.translated()))
        message = _(
            "Device %(serial)s is unbound. It can now be bound to another resident.",
            serial=device.serial,
        )
        return back(resident, reason, message)
    return page(resident, reason, FORM_ERROR, failed=(device.id, first_error(form)))


@bp.post("/resident/<int:resident_id>/<int:device_id>/lost")
@team_or_admin
def mark_lost(resident_id, device_id):
    resident, reason, device = resident_device(resident_id, device_id)
    form = LostForm()
    if form.validate_on_submit():
        try:
            devices.mark_lost(current_user, device)
        except FormRefused as exc:
            return page(resident, reason, FORM_ERROR, failed=(device.id, exc.translated()))
        message = _(
            "Device %(serial)s is marked lost; its token no longer works.", serial=device.serial
        )
        return back(resident, reason, message)
    # The box not ticked: its message goes next to it (lost_form), not above the buttons.
    return page(resident, reason, FORM_ERROR, failed=(device.id, None), lost_form=form)


@bp.post("/resident/<int:resident_id>/<int:device_id>/rotate-token")
@team_or_admin
def rotate_token(resident_id, device_id):
    resident, reason, device = resident_device(resident_id, device_id)
    form = DeviceActionForm()
    if not form.validate_on_submit():
        return page(resident, reason, FORM_ERROR, failed=(device.id, first_error(form)))
    device, token = devices.rotate_token(current_user, device)
    return token_page(resident, reason, device, token, registered=False)


# --- the administrator's dead letters --------------------------------------------------------


def payload_shown(payload: str) -> tuple[str, bool]:
    """JSON indented for reading (as received when it is not JSON), cut to PAYLOAD_SHOWN;
    and whether it was cut."""
    with contextlib.suppress(ValueError, RecursionError):
        payload = json.dumps(json.loads(payload), indent=2, ensure_ascii=False)
    return payload[:PAYLOAD_SHOWN], len(payload) > PAYLOAD_SHOWN


@bp.get("/dead-letters")
@admin_only
def dead_letters():
    filters = DeadLetterFilterForm(request.args)
    reason = filters.chosen() if filters.validate() else None
    # Dead letters are not a resident's record: nothing to audit per row.
    results = audited_page(
        dead_letters_query(reason), request.args.get("page", 1, type=int), lambda _row: None
    )
    ids = {row.device_id for row in results.items if row.device_id is not None}
    query = sa.select(Device.id, Device.serial).where(Device.id.in_(ids))
    serials = dict(db.session.execute(query).all())
    return render_template(
        "devices/dead_letters.html",
        filters=filters,
        results=results,
        serials=serials,
        args={"reason": reason.value} if reason else {},
        payload_shown=payload_shown,
        payload_limit=PAYLOAD_SHOWN,
    )
