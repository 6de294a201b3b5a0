"""Limits per metric (the defaults, changed by the resident's condition and their doctor's
override) and the two ways a reading can break one: at once (one reading), or sustained
(every reading of the last N minutes, with the window covered)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from app.alerts.models import Severity
from app.alerts.services import raise_alert
from wearables.rules import messages, queries
from wearables.rules.context import Context, NewReading
from wearables.rules.defaults import (
    DIABETES_HEART_RATE,
    DIABETES_TEMPERATURE_SEVERITY,
    HIGH,
    LOW,
    METRICS_WITH_LIMITS,
    SUSTAINED_MIN_READINGS,
    SUSTAINED_MIN_SPAN,
    Limit,
    defaults_for,
    overridden,
)
from wearables.rules.guard import writing

NO_DEFAULT = "no default: set by the resident's doctor"
# A side that has no default (a diastolic low, an SpO2 high) takes the metric's way of
# judging (at once or sustained) when a doctor sets one, at medium severity.
MODE_MINUTES = {
    metric: max(limit.minutes for limit in defaults_for(metric)) for metric in METRICS_WITH_LIMITS
}


def condition_limits(metric: str, hypercapnic: bool, diabetic: bool) -> list[Limit]:
    """The defaults for a resident with these conditions, before any override."""
    limits = list(defaults_for(metric, hypercapnic))
    if diabetic and metric == "body_temperature":
        limits = [
            replace(lim, severity=DIABETES_TEMPERATURE_SEVERITY, referral=True)
            if lim.side == HIGH
            else lim
            for lim in limits
        ]
    if diabetic and metric == "heart_rate":
        limits.append(DIABETES_HEART_RATE)
    return limits


def with_override(metric: str, limits: list[Limit], low, high) -> list[Limit]:
    """An override moves every limit of its side; a side it leaves empty keeps the
    defaults."""
    result = []
    for side, value in ((LOW, low), (HIGH, high)):
        own = [lim for lim in limits if lim.side == side]
        if value is None:
            result += own
        elif own:
            result += [overridden(lim, value) for lim in own]
        else:
            minutes = MODE_MINUTES[metric]
            kind = "sustained" if minutes else "threshold"
            rule = f"{kind}:{metric}:{side}"
            new = Limit(rule, metric, side, value, Severity.MEDIUM, NO_DEFAULT, minutes)
            result.append(overridden(new, value, has_default=False))
    return result


def limits_for(ctx: Context, metric: str) -> list[Limit]:
    facts = ctx.facts
    limits = condition_limits(metric, facts.hypercapnic, facts.diabetic)
    override = ctx.overrides.get(metric)
    if override is not None:
        limits = with_override(metric, limits, override.low, override.high)
    return limits


def evaluate(ctx: Context, by_metric: dict[str, list[NewReading]]) -> list:
    """Raise what the new readings break. Returns (alert, limit, readings) of each raised
    or fed alert, for the referral and recheck rules."""
    raised = []
    for metric, rows in by_metric.items():
        if metric not in METRICS_WITH_LIMITS:
            continue
        values = [row.value for row in rows]
        lowest, highest = min(values), max(values)
        for limit in limits_for(ctx, metric):
            if not limit.broken_by(highest if limit.side == HIGH else lowest):
                continue  # the most extreme new reading is within it
            breaking = [row for row in rows if limit.broken_by(row.value)]
            if not breaking:
                continue
            alert = (
                _instant(ctx, limit, breaking)
                if not limit.minutes
                else _sustained(ctx, limit, breaking)
            )
            if alert is not None:
                raised.append((alert, limit, breaking))
    return raised


def _evidence(row: NewReading, **detail) -> dict:
    return {
        "reading_id": row.id,
        "metric": row.metric,
        "value": row.value,
        "observed_at": row.measured_at,
        "detail": detail,
    }


def _instant(ctx: Context, limit: Limit, breaking: list[NewReading]):
    pick = max if limit.side == HIGH else min
    worst = pick(breaking, key=lambda row: row.value)
    params = {"value": messages.number(worst.value), "limit": messages.number(limit.value)}
    evidence = [_evidence(row, limit=limit.value) for row in breaking]
    message = messages.LIMIT_MESSAGES[(limit.metric, limit.side)]
    return _raise(ctx, limit, message, params, evidence)


def _sustained(ctx: Context, limit: Limit, breaking: list[NewReading]):
    at = max(breaking, key=lambda row: row.measured_at)
    count = sustained_count(ctx.resident_id, limit, at.measured_at)
    if count is None:
        return None
    params = {
        "value": messages.number(at.value),
        "limit": messages.number(limit.value),
        "minutes": str(limit.minutes),
    }
    if limit.rule == DIABETES_HEART_RATE.rule:
        message = messages.DIABETES_HEART_RATE
    else:
        message = messages.LIMIT_MESSAGES[(limit.metric, limit.side)]
    evidence = [_evidence(at, limit=limit.value, minutes=limit.minutes, readings=count)]
    return _raise(ctx, limit, message, params, evidence)


def window_summary(resident_id: int, metric: str, since, until):
    """(count, lowest, highest, first time) of a metric's readings in [since, until]: one
    aggregate over the (resident, metric, time) index, whatever the device's rate."""
    return queries.window(resident_id, metric, since, until)


def covered(count: int, first, since, minutes: int) -> bool:
    """Enough readings, the first close enough to the window's start."""
    latest_start = since + timedelta(minutes=minutes * (1 - SUSTAINED_MIN_SPAN))
    return count >= SUSTAINED_MIN_READINGS and first is not None and first <= latest_start


def sustained_count(resident_id: int, limit: Limit, at) -> int | None:
    """How many readings of the window ending at `at` all break `limit`, or None when
    they do not all break it or do not cover the window."""
    since = at - timedelta(minutes=limit.minutes)
    count, lowest, highest, first = window_summary(resident_id, limit.metric, since, at)
    if not covered(count, first, since, limit.minutes):
        return None
    return count if limit.broken_by(lowest if limit.side == HIGH else highest) else None


def _raise(ctx: Context, limit: Limit, message: str, params: dict, evidence: list):
    writing()
    alert, _ = raise_alert(
        ctx.resident_id,
        limit.rule,
        limit.severity,
        message,
        params,
        evidence,
        device_id=ctx.device.id,
        now=ctx.now,
    )
    return alert


def referral_readings(limit: Limit, readings: list[NewReading]) -> list[NewReading]:
    """The readings that meet the limit's urgent-referral criterion: the national value,
    also when the doctor moved the alert limit (a lower limit alerts sooner, but does not
    make a reading an urgent referral)."""
    if not limit.referral:
        return []
    national = limit if limit.default is None else replace(limit, value=limit.default)
    return [row for row in readings if national.broken_by(row.value)]
