"""Appointment slots of hospital departments. A share is reserved for referrals from family
doctors. Booking is one conditional UPDATE, so a slot is never booked twice, even when two
requests race for it."""

from datetime import datetime, timedelta

import sqlalchemy as sa

from app.accounts.models import Organisation, OrganisationKind, Role, User
from app.audit.services import record_event
from app.errors import N_, Conflict, Forbidden, InvalidInput
from app.extensions import db
from app.timeutil import utcnow
from referral.models import AppointmentSlot, Referral, SlotStatus


def _department(department_id: int) -> Organisation:
    department = db.session.get(Organisation, department_id)
    if department is None or department.kind != OrganisationKind.DEPARTMENT:
        raise InvalidInput(N_("no such hospital department"), field="department_id")
    return department


def may_publish(user: User, department_id: int) -> bool:
    return user.role == Role.ADMIN or (
        user.role == Role.SPECIALIST and user.organisation_id == department_id
    )


def publish_series(user: User, data: dict) -> list[AppointmentSlot]:
    """`count` slots of `minutes` each from `starts_at`; the first `reserved` of every
    `count` (rounded from `reserved_share`) are kept for referrals from family doctors."""
    department = _department(data["department_id"])
    if not may_publish(user, department.id):
        raise Forbidden(N_("only the department's specialists can publish its slots"))
    starts_at: datetime = data["starts_at"]
    if starts_at <= utcnow():
        raise InvalidInput(N_("cannot be in the past"), field="starts_at")
    count, length = data.get("count", 1), timedelta(minutes=data.get("minutes", 15))
    reserved = round(count * data.get("reserved_share", 0.5))
    slots = [
        AppointmentSlot(
            department=department,
            specialist_id=data.get("specialist_id"),
            starts_at=starts_at + i * length,
            ends_at=starts_at + (i + 1) * length,
            reserved_for_referrals=i % count < reserved if count else False,
        )
        for i in range(count)
    ]
    db.session.add_all(slots)
    db.session.flush()
    record_event(
        "department",
        department.id,
        "slots.published",
        actor=user,
        data={"count": count, "reserved": reserved, "first": starts_at.isoformat()},
    )
    return slots


def open_slots(department_id: int, reserved_only: bool = False, limit: int = 100):
    query = sa.select(AppointmentSlot).where(
        AppointmentSlot.department_id == department_id,
        AppointmentSlot.status == SlotStatus.OPEN,
        AppointmentSlot.starts_at > utcnow(),
    )
    if reserved_only:
        query = query.where(AppointmentSlot.reserved_for_referrals.is_(True))
    return list(db.session.scalars(query.order_by(AppointmentSlot.starts_at).limit(limit)).all())


def book_slot(referral: Referral, slot_id: int, reserved_only: bool) -> AppointmentSlot:
    conditions = [
        AppointmentSlot.id == slot_id,
        AppointmentSlot.status == SlotStatus.OPEN,
        AppointmentSlot.department_id == referral.department_id,
        AppointmentSlot.starts_at > utcnow(),
    ]
    if reserved_only:
        conditions.append(AppointmentSlot.reserved_for_referrals.is_(True))
    result = db.session.execute(
        sa.update(AppointmentSlot)
        .where(*conditions)
        .values(status=SlotStatus.BOOKED, referral_id=referral.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(
            N_("this slot is no longer free (or not one of this department's referral slots)"),
            field="slot_id",
        )
    slot = db.session.get(AppointmentSlot, slot_id)
    db.session.refresh(slot)  # the UPDATE bypassed the session
    db.session.expire(referral, ["slot"])
    return slot


def release_slot(referral: Referral) -> None:
    slot = referral.slot
    if slot is not None and slot.starts_at > utcnow():
        slot.status, slot.referral_id = SlotStatus.OPEN, None
    elif slot is not None:
        slot.referral_id = None  # keep it booked in the past: the time was used
    db.session.flush()
