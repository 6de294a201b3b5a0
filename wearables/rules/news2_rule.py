"""NEWS2 over the resident's latest set of vitals (wearables/news2.py scores it).

The set: the latest reading of each vital measured in the last ALERT_NEWS2_WINDOW_MINUTES
(60), SpO2 on scale 2 for a resident the doctor marks hypercapnic, air or oxygen from the
monitoring profile, consciousness from the latest assessment (alert when there is none).
It is scored only when at least ALERT_NEWS2_MIN_VITALS (3) of the five measured vitals
are in the set: a "score" of one or two vitals is a threshold in disguise, and the
threshold and sustained rules already judge single vitals with noise in mind.

Band -> severity: low-medium -> medium, medium -> high, high -> critical. The low band
(1-4) raises nothing: for someone at home with a watch it is common (age, a partial set),
and RCP's response to it is a nurse's routine assessment, which the team's regular
follow-up already is; the score is still shown beside the vitals.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from app.alerts.models import Severity
from app.alerts.services import raise_alert
from wearables import news2
from wearables.rules import messages
from wearables.rules.context import Context, NewReading
from wearables.rules.guard import writing

RULE = "news2"
BAND_SEVERITY = {
    news2.Band.LOW_MEDIUM: Severity.MEDIUM,
    news2.Band.MEDIUM: Severity.HIGH,
    news2.Band.HIGH: Severity.CRITICAL,
}
VITALS = tuple(news2.METRIC_PARAMETERS)  # our metric names


def window(now: datetime, by_metric: dict[str, list[NewReading]]):
    """(since, until) of the latest set, or None when no new reading is a vital."""
    rows = [row for metric in VITALS for row in by_metric.get(metric, ())]
    if not rows:
        return None
    # A device clock a little ahead (ingest takes up to 5 minutes) still counts.
    until = max(now, max(row.measured_at for row in rows))
    return until - timedelta(minutes=current_app.config["ALERT_NEWS2_WINDOW_MINUTES"]), until


def current_set(ctx: Context) -> dict:
    facts = ctx.facts  # the latest vitals come with the facts
    since, until = ctx.vitals_window
    return news2.latest_set(
        ctx.latest_vitals,
        until,
        until - since,
        spo2_scale=2 if facts.hypercapnic else 1,
        consciousness=facts.consciousness,
        on_oxygen=facts.on_oxygen,
    )


def evaluate(ctx: Context, by_metric: dict[str, list[NewReading]]) -> None:
    if ctx.vitals_window is None:
        return
    newest = max(
        (row for metric in VITALS for row in by_metric.get(metric, ())),
        key=lambda row: row.measured_at,
    )
    vitals = current_set(ctx)
    measured = sum(vitals.get(p) is not None for p in news2.METRIC_PARAMETERS.values())
    if measured < current_app.config["ALERT_NEWS2_MIN_VITALS"]:
        return
    result = news2.score(vitals)
    severity = BAND_SEVERITY.get(result.band)
    if severity is None:
        return
    detail = {
        "band": str(result.band),
        "scores": result.scores,
        "missing": list(result.missing),
        "spo2_scale": vitals[news2.SPO2_SCALE],
        "consciousness": vitals.get("consciousness"),
    }
    evidence = {
        "reading_id": newest.id,
        "metric": RULE,
        "value": result.total,
        "observed_at": newest.measured_at,
        "detail": detail,
    }
    writing()
    raise_alert(
        ctx.resident_id,
        RULE,
        severity,
        messages.NEWS2[str(result.band)],
        {"total": str(result.total)},
        [evidence],
        device_id=ctx.device.id,
        now=ctx.now,
    )
