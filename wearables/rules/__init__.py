"""Rules and scores that turn readings into alerts (docs/ALERTS.md, "Rules and scores").

`evaluate` runs inside every ingest request (HTTP and MQTT), in its transaction: an alert
and its notifications commit with the readings that caused them, or not at all (the
outbox); what they write is undone on its own if they fail (wearables/rules/guard.py).
It reads only what the new readings need, once per request, and nothing at all
for readings too old to matter (ALERT_READING_MAX_AGE_HOURS): a device catching up on
last week's readings pages nobody.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from flask import current_app

from wearables.models import Device
from wearables.rules import baseline, events, news2_rule, recheck, referrals, silence, thresholds
from wearables.rules.context import Context, NewReading
from wearables.rules.guard import Guard

log = logging.getLogger(__name__)


def evaluate(
    device: Device,
    rows,
    now: datetime,
    previous_seen: datetime | None = None,
    previous_battery: int | None = None,
) -> None:
    """Judge the readings a request stored (rows of (id, metric, value, measured_at)).
    `previous_*` are the device's last-seen time and battery level before this request."""
    if not current_app.config["ALERT_RULES_ENABLED"] or device.resident_id is None:
        return
    recent = _recent(rows, now)
    changed = silence.may_end_silence(previous_seen, now) or events.battery_changed(
        device, previous_battery
    )
    if not recent and not changed:
        return  # nothing to judge: no savepoint, no query
    try:
        # A fault in a rule must not lose the readings: the device would retry for ever.
        with Guard():
            _evaluate(device, recent, now, previous_seen, previous_battery)
    except Exception:
        log.exception("alert rules failed for device %s", device.id)


def _recent(rows, now: datetime) -> dict[str, list[NewReading]]:
    oldest = now - timedelta(hours=current_app.config["ALERT_READING_MAX_AGE_HOURS"])
    by_metric: dict[str, list[NewReading]] = defaultdict(list)
    for row in rows:  # rows read like NewReading (id, metric, value, measured_at)
        if row.measured_at >= oldest:
            by_metric[row.metric].append(row)
    return by_metric


def _evaluate(device, by_metric, now, previous_seen, previous_battery) -> None:
    silence.device_reported(device, previous_seen, now)
    events.check_battery(device, previous_battery, now)
    if not by_metric:
        return
    ctx = Context(device, now, news2_rule.window(now, by_metric))
    events.evaluate(ctx, by_metric)
    for alert, limit, readings in thresholds.evaluate(ctx, by_metric):
        criterion = thresholds.referral_readings(limit, readings)
        if criterion:
            referrals.draft_for(ctx, alert, limit, criterion)
    baseline.evaluate(ctx, by_metric)
    news2_rule.evaluate(ctx, by_metric)
    recheck.evaluate(ctx, by_metric)


__all__ = ["evaluate"]
