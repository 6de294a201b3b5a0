"""A silent device is an alert in its own right: a worn device (watch, fall detector, SOS
pendant) bound to a resident that has sent nothing for the resident's
MonitoringProfile.silent_after_hours (12 by default; none: never) raises "device silent"
(medium), except in the resident's quiet hours (22:00-07:00 local by default: devices
charge at night); the next run after them raises it if the device is still silent. The
alert is resolved by the system when the device reports again (the ingest hook calls
`device_reported`), or when it is no longer worn by that resident.

Devices that never reported are not judged: nothing says when they were put on. Cuffs,
glucometers, thermometers and scales are used now and then, so their silence means nothing.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import sqlalchemy as sa

from app.alerts.models import ACTIVE_STATUSES, Alert, MonitoringProfile, Severity
from app.alerts.services import active_alert, raise_alert, resolve_by_system
from app.errors import N_
from app.extensions import db
from app.timeutil import to_local, utcnow
from wearables.models import Device, DeviceKind, DeviceStatus
from wearables.rules import messages
from wearables.rules.guard import writing

WORN_KINDS = (DeviceKind.WATCH, DeviceKind.FALL_DETECTOR, DeviceKind.SOS_BUTTON)
PREFIX = "device_silent:"
# The shortest silence a profile may ask for: a device seen more recently than this
# cannot have a silence alert open, so its reports cost no query.
MIN_HOURS = 1
NO_LONGER_WORN = N_("the device is no longer worn by the resident")
_columns = MonitoringProfile.__table__.c
DEFAULT_HOURS = _columns.silent_after_hours.default.arg
DEFAULT_QUIET = (_columns.quiet_from.default.arg, _columns.quiet_until.default.arg)


def silence_rule(device_id: int) -> str:
    return f"{PREFIX}{device_id}"


def in_quiet_hours(when: datetime, quiet_from: time | None, quiet_until: time | None) -> bool:
    if quiet_from is None or quiet_until is None or quiet_from == quiet_until:
        return False
    local = to_local(when).time()
    if quiet_from < quiet_until:
        return quiet_from <= local < quiet_until
    return local >= quiet_from or local < quiet_until  # across midnight


def _candidates(now: datetime):
    query = (
        sa.select(
            Device,
            MonitoringProfile.resident_id,
            MonitoringProfile.silent_after_hours,
            MonitoringProfile.quiet_from,
            MonitoringProfile.quiet_until,
        )
        .outerjoin(MonitoringProfile, MonitoringProfile.resident_id == Device.resident_id)
        .where(
            Device.status == DeviceStatus.ACTIVE,
            Device.resident_id.is_not(None),
            Device.kind.in_(WORN_KINDS),
            Device.last_seen_at <= now - timedelta(hours=MIN_HOURS),
        )
        .order_by(Device.id)
    )
    for device, has_profile, hours, quiet_from, quiet_until in db.session.execute(query):
        if has_profile is None:  # never set: the model's defaults
            hours, (quiet_from, quiet_until) = DEFAULT_HOURS, DEFAULT_QUIET
        yield device, hours, quiet_from, quiet_until


def _open_silence_alerts() -> list[Alert]:
    query = sa.select(Alert).where(Alert.rule.startswith(PREFIX), Alert.status.in_(ACTIVE_STATUSES))
    return list(db.session.scalars(query))


def check_silent_devices(now: datetime | None = None) -> int:
    """Raise "device silent" for each worn device silent too long; returns how many."""
    now = now or utcnow()
    open_alerts = _open_silence_alerts()
    _resolve_not_worn(open_alerts, now)
    already = {(a.resident_id, a.rule) for a in open_alerts if a.status in ACTIVE_STATUSES}
    raised = 0
    for device, hours, quiet_from, quiet_until in _candidates(now):
        silent_for = now - device.last_seen_at
        if hours is None or silent_for < timedelta(hours=hours):
            continue
        if in_quiet_hours(now, quiet_from, quiet_until):
            continue
        rule = silence_rule(device.id)
        if (device.resident_id, rule) in already:
            continue  # one alert per silence, not one more piece of evidence per run
        params = {"serial": device.serial, "hours": str(int(silent_for.total_seconds() // 3600))}
        evidence = {
            "metric": "silence",
            "observed_at": now,
            "detail": {"last_seen_at": device.last_seen_at.isoformat(), "after_hours": hours},
        }
        raise_alert(
            device.resident_id,
            rule,
            Severity.MEDIUM,
            messages.DEVICE_SILENT,
            params,
            [evidence],
            device_id=device.id,
            now=now,
        )
        raised += 1
    return raised


def _resolve_not_worn(alerts: list[Alert], now: datetime) -> None:
    for alert in alerts:
        device = db.session.get(Device, int(alert.rule.removeprefix(PREFIX)))
        worn = (
            device is not None
            and device.status == DeviceStatus.ACTIVE
            and device.resident_id == alert.resident_id
        )
        if not worn:
            resolve_by_system(alert, NO_LONGER_WORN, now)


def may_end_silence(previous_seen: datetime | None, now: datetime) -> bool:
    """Whether a device last seen at `previous_seen` can have a silence alert open."""
    return previous_seen is not None and now - previous_seen >= timedelta(hours=MIN_HOURS)


def device_reported(device: Device, previous_seen: datetime | None, now: datetime) -> None:
    """The ingest hook: a device that reports again ends its silence alert."""
    if not may_end_silence(previous_seen, now):
        return
    alert = active_alert(device.resident_id, silence_rule(device.id))
    if alert is not None:
        writing()
        resolve_by_system(alert, messages.DEVICE_BACK, now)
