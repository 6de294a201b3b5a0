"""Devices: register, bind to a resident, unbind, mark lost, rotate the token. A device
token is shown once and stored as its SHA-256."""

import hashlib
import secrets

import sqlalchemy as sa

from app.accounts.models import Role, User
from app.audit.services import record_access, record_event
from app.errors import N_, Conflict, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.policy import can_see_resident
from app.residents.models import Resident
from app.timeutil import utcnow
from wearables.models import Device, DeviceStatus


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    token = "dev_" + secrets.token_urlsafe(32)
    return token, _digest(token)


def may_manage(user: User, resident_id: int | None) -> bool:
    """An administrator, or a doctor or nurse who may see the resident (their team)."""
    if user.role == Role.ADMIN:
        return True
    if user.role not in (Role.DOCTOR, Role.NURSE):
        return False
    return resident_id is None or can_see_resident(user, resident_id)


def _resident(user: User, resident_id: int) -> Resident:
    resident = db.session.get(Resident, resident_id)
    if resident is None or not may_manage(user, resident_id):
        raise InvalidInput(N_("no such resident in your care"), field="resident_id")
    return resident


def register(user: User, data: dict) -> tuple[Device, str]:
    data = dict(data)
    resident_id = data.pop("resident_id", None)
    if db.session.scalar(sa.select(Device.id).where(Device.serial == data["serial"])):
        raise Conflict(N_("a device with this serial is registered already"), field="serial")
    token, digest = _new_token()
    device = Device(token_digest=digest, status=DeviceStatus.UNBOUND, **data)
    if resident_id is not None:
        device.resident = _resident(user, resident_id)
        device.status = DeviceStatus.ACTIVE
    db.session.add(device)
    db.session.flush()
    record_event(
        "device",
        device.id,
        "device.registered",
        None,
        device.status,
        actor=user,
        data={"resident_id": resident_id},
    )
    if resident_id is not None:
        record_access("bind_device", resident_id, "device", device.id, actor=user)
    return device, token


def get_device(user: User, device_id: int) -> Device:
    device = db.session.get(Device, device_id)
    if device is None or not may_manage(user, device.resident_id):
        raise NotFound(N_("device not found"))
    return device


def _change(user: User, device: Device, name: str, status: DeviceStatus, **data) -> Device:
    before, device.status = device.status, status
    db.session.flush()
    record_event("device", device.id, name, before, status, actor=user, data=data or None)
    return device


def bind(user: User, device: Device, resident_id: int) -> Device:
    if device.status == DeviceStatus.LOST:
        raise Conflict(
            N_("a lost device cannot be bound; register a new one"),
            field="status",
            current=device.status.value,
        )
    device.resident = _resident(user, resident_id)
    record_access("bind_device", resident_id, "device", device.id, actor=user)
    return _change(user, device, "device.bound", DeviceStatus.ACTIVE, resident_id=resident_id)


def unbind(user: User, device: Device) -> Device:
    if device.status != DeviceStatus.ACTIVE:
        raise Conflict(N_("the device is not bound"), field="status", current=device.status.value)
    old, device.resident_id = device.resident_id, None
    return _change(user, device, "device.unbound", DeviceStatus.UNBOUND, resident_id=old)


def mark_lost(user: User, device: Device) -> Device:
    if device.status == DeviceStatus.LOST:
        raise Conflict(N_("the device is marked lost already"), field="status", current="lost")
    return _change(user, device, "device.lost", DeviceStatus.LOST)


def rotate_token(user: User, device: Device) -> tuple[Device, str]:
    token, device.token_digest = _new_token()
    device.token_issued_at = utcnow()
    db.session.flush()
    record_event("device", device.id, "device.token_rotated", actor=user)
    return device, token


def authenticate(token: str | None) -> Device | None:
    """The active, bound device this token belongs to; None for anything else."""
    if not token:
        return None
    device = db.session.scalar(sa.select(Device).where(Device.token_digest == _digest(token)))
    if device is None or device.status != DeviceStatus.ACTIVE or device.resident_id is None:
        return None
    return device


def for_resident(user: User, resident_id: int) -> list[Device]:
    if not may_manage(user, resident_id) and not can_see_resident(user, resident_id):
        raise Forbidden(N_("not your resident"))
    query = sa.select(Device).where(Device.resident_id == resident_id).order_by(Device.id)
    return list(db.session.scalars(query).all())
