"""Events and the device's own state: a fall or an SOS press is critical at once (each
further event attaches to the open alert as evidence); a battery below
ALERT_BATTERY_LOW_PERCENT raises a low alert for that device, resolved by the system when
the device reports a charged battery again."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from app.alerts.models import Severity
from app.alerts.services import active_alert, raise_alert, resolve_by_system
from wearables.models import Device
from wearables.rules import messages
from wearables.rules.context import Context, NewReading
from wearables.rules.guard import writing

EVENT_MESSAGES = {"fall": messages.FALL, "sos": messages.SOS}


def evaluate(ctx: Context, by_metric: dict[str, list[NewReading]]) -> None:
    for metric, message in EVENT_MESSAGES.items():
        rows = by_metric.get(metric)
        if not rows:
            continue
        evidence = [
            {"reading_id": row.id, "metric": metric, "observed_at": row.measured_at} for row in rows
        ]
        writing()
        raise_alert(
            ctx.resident_id,
            f"event:{metric}",
            Severity.CRITICAL,
            message,
            {},
            evidence,
            device_id=ctx.device.id,
            now=ctx.now,
        )


def battery_rule(device: Device) -> str:
    return f"battery:{device.id}"


def battery_changed(device: Device, previous: int | None) -> bool:
    return device.battery_level is not None and device.battery_level != previous


def check_battery(device: Device, previous: int | None, now: datetime) -> None:
    """Acts only when the level crosses the limit, so a device that reports a low battery
    with every push costs no query and adds no evidence after the first."""
    if not battery_changed(device, previous):
        return
    level, limit = device.battery_level, current_app.config["ALERT_BATTERY_LOW_PERCENT"]
    was_low = previous is not None and previous < limit
    if level < limit and not was_low:
        writing()
        raise_alert(
            device.resident_id,
            battery_rule(device),
            Severity.LOW,
            messages.BATTERY_LOW,
            {"serial": device.serial, "level": str(level)},
            [{"metric": "battery", "value": level, "observed_at": now}],
            device_id=device.id,
            now=now,
        )
    elif level >= limit and was_low:
        alert = active_alert(device.resident_id, battery_rule(device))
        if alert is not None:
            writing()
            resolve_by_system(alert, messages.BATTERY_CHARGED, now)
