"""The resident's own normal: resting heart rate against the median of their last 14 days.

Someone whose heart usually beats at 95/min is not "tachycardic" at 102, and someone at 55
who is suddenly at 90 for half an hour has changed. So once a resident has enough days of
data, their heart rate is judged against their own median, not the textbook's 50-100/min:

- baseline: the median of the hourly means (reading_rollups) of the last 14 days, when at
  least 7 different days have data; otherwise the textbook range 50-100/min is used.
- "at rest" is approximated by persistence: every reading of the last 30 minutes is far
  from the baseline (a walk or a flight of stairs has dips in it), with the window covered
  as for a sustained limit.
- far: at least the absolute margin (30/min) AND at least the relative margin (30 % of
  the baseline) away; for a baseline of 95 that is 125 or 65.
All five numbers are settings (ALERT_BASELINE_*).
"""

from __future__ import annotations

import statistics
from datetime import timedelta

from flask import current_app

from app.alerts.models import Severity
from app.alerts.services import raise_alert
from app.timeutil import to_local
from wearables.rules import messages, queries
from wearables.rules.context import Context, NewReading
from wearables.rules.defaults import BASELINE_RULE, BASELINE_TEXTBOOK
from wearables.rules.guard import writing
from wearables.rules.thresholds import covered, window_summary

METRIC = "heart_rate"
SEVERITY = Severity.MEDIUM


def resident_baseline(resident_id: int, until) -> float | None:
    """The median of the hourly mean heart rates of the days before `until`, or None
    without enough days of data."""
    config = current_app.config
    since = until - timedelta(days=config["ALERT_BASELINE_DAYS"])
    rows = queries.hourly_means(resident_id, METRIC, since, until)
    days = {to_local(hour).date() for hour, _ in rows}
    if len(days) < config["ALERT_BASELINE_MIN_DAYS"]:
        return None
    return statistics.median(mean for _, mean in rows)


def far_limits(baseline: float) -> tuple[float, float]:
    """(low, high): at or beyond these a rate is far from `baseline`."""
    config = current_app.config
    margin = max(
        config["ALERT_BASELINE_MARGIN"], baseline * config["ALERT_BASELINE_MARGIN_PERCENT"] / 100
    )
    return baseline - margin, baseline + margin


def evaluate(ctx: Context, by_metric: dict[str, list[NewReading]]) -> None:
    rows = by_metric.get(METRIC)
    if not rows:
        return
    minutes = current_app.config["ALERT_BASELINE_MINUTES"]
    latest = max(rows, key=lambda row: row.measured_at)
    since = latest.measured_at - timedelta(minutes=minutes)
    # The window itself is left out of the baseline: the change is not its own normal.
    baseline = resident_baseline(ctx.resident_id, since)
    low, high = far_limits(baseline) if baseline is not None else BASELINE_TEXTBOOK
    if low < latest.value < high:
        return  # the latest reading is in the window and not far: nothing to look up
    count, lowest, highest, first = window_summary(
        ctx.resident_id, METRIC, since, latest.measured_at
    )
    if not covered(count, first, since, minutes):
        return
    if lowest >= high:
        value, side = lowest, "high"
    elif highest <= low:
        value, side = highest, "low"
    else:
        return
    _raise(ctx, latest, baseline, value, side, minutes, count)


def _raise(ctx, latest: NewReading, baseline, value, side, minutes, count) -> None:
    if baseline is None:
        message = messages.TEXTBOOK_HIGH if side == "high" else messages.TEXTBOOK_LOW
    else:
        message = messages.BASELINE_HIGH if side == "high" else messages.BASELINE_LOW
    params = {
        "value": messages.number(value),
        "minutes": str(minutes),
        "baseline": messages.number(baseline),
    }
    detail = {"baseline": baseline, "minutes": minutes, "readings": count, "side": side}
    evidence = [
        {
            "reading_id": latest.id,
            "metric": METRIC,
            "value": latest.value,
            "observed_at": latest.measured_at,
            "detail": detail,
        }
    ]
    writing()
    raise_alert(
        ctx.resident_id,
        BASELINE_RULE,
        SEVERITY,
        message,
        params,
        evidence,
        device_id=ctx.device.id,
        now=ctx.now,
    )
