"""What the alert pages show beside an alert: its evidence in words, a chart of the metric
around it (drawn on the server by wearables.charts), its history, who was told, and the
phones to call. Readings come through wearables' own functions, imported where used (app
does not import feature packages at import time)."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from app.accounts.models import Role, User
from app.alerts import queries
from app.alerts.models import Alert, AlertDelivery, Channel, DeliveryStatus
from app.audit.services import history
from app.extensions import db
from app.labels import label
from app.templating import localtime
from app.timeutil import utcnow

BEFORE = timedelta(hours=6)  # the chart starts this long before the alert
AFTER = timedelta(hours=1)
LONGEST = timedelta(days=7)

EVENT_LABELS = {
    "alert.opened": _l("Raised"),
    "alert.worsened": _l("Got worse"),
    "alert.escalated": _l("Passed on to the next step"),
    "alert.acknowledged": _l("Acknowledged"),
    "alert.resolved": _l("Resolved"),
    "alert.snoozed": _l("Put off"),
}
CHANNEL_LABELS = {
    Channel.LIVE: _l("On the platform"),
    Channel.EMAIL: _l("E-mail"),
    Channel.WEBHOOK: _l("Text message gateway"),
}
DELIVERY_LABELS = {
    DeliveryStatus.PENDING: _l("Waiting to be sent"),
    DeliveryStatus.SENT: _l("Sent"),
    DeliveryStatus.FAILED: _l("Could not be sent"),
    DeliveryStatus.CANCELLED: _l("Not sent: someone answered first"),
}


def minutes_from_now(minutes: int) -> datetime:
    return utcnow() + timedelta(minutes=minutes)


def _unit(metric: str | None) -> str:
    from wearables.metrics import METRICS
    from wearables.routes import unit_shown

    found = METRICS.get(metric or "")
    return unit_shown(found.unit) if found else ""


def _number(value: float) -> str:
    from wearables.charts import number

    return number(value)


def evidence_rows(alert: Alert) -> list[SimpleNamespace]:
    """Each piece of evidence: when, what was measured, and the value with its unit."""
    rows = []
    for item in alert.evidence:
        value = "" if item.value is None else f"{_number(item.value)} {_unit(item.metric)}"
        metric = label(item.metric, "Metric") if item.metric else ""
        rows.append(SimpleNamespace(when=item.observed_at, metric=metric, value=value.strip()))
    return rows


def _window(alert: Alert) -> tuple[datetime, datetime]:
    now = utcnow()
    first = min([alert.opened_at, *(e.observed_at for e in alert.evidence)])
    end = min(now, (alert.resolved_at or now) + AFTER)
    start = max(first - BEFORE, end - LONGEST)
    return start, end


def chart(alert: Alert) -> Markup | None:
    """The alert's metric around it: every reading, and the evidence as its own line."""
    from wearables import charts
    from wearables.ingest import readings_of

    measured = [e for e in alert.evidence if e.metric and e.value is not None]
    if not measured:
        return None
    metric = measured[0].metric
    start, end = _window(alert)
    readings = [
        (r.measured_at, r.value)
        for r in readings_of(alert.resident_id, metric, start, end)
        if r.value is not None
    ]
    evidence = sorted((e.observed_at, e.value) for e in measured if e.metric == metric)
    # the evidence stands in when its readings are not (or no longer) in the window
    values = [v for _, v in readings] or [v for _, v in evidence]
    name, unit = label(metric, "Metric"), _unit(metric)
    desc = _(
        "%(label)s from %(start)s to %(end)s: %(count)s readings, lowest %(low)s, highest "
        "%(high)s %(unit)s. The alert was raised at %(time)s.",
        label=name,
        start=localtime(start),
        end=localtime(end),
        count=len(readings) or len(evidence),
        low=_number(min(values)),
        high=_number(max(values)),
        unit=unit,
        time=localtime(alert.opened_at),
    )
    lines = [charts.Line(name, charts.downsample(readings))] if readings else []
    lines.append(charts.Line(_("Readings that raised the alert"), evidence))
    span_days = (end - start).days
    return charts.line_chart(
        lines,
        start,
        end,
        _("%(label)s around the alert", label=name),
        desc,
        lambda when: localtime(when, "HH:mm" if span_days < 1 else "MM-dd HH:mm"),
        unit=unit,
    )


def _names(ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    query = sa.select(User.id, User.display_name).where(User.id.in_(ids))
    return dict(db.session.execute(query).all())


def history_rows(alert: Alert) -> list[SimpleNamespace]:
    events = history("alert", alert.id)
    names = _names(e.actor_id for e in events)
    rows = []
    for event in events:
        data = event.data or {}
        detail = ""
        if event.name == "alert.escalated" and data.get("step"):
            detail = _("Step %(step)s of the ladder was told.", step=data["step"])
        elif event.name == "alert.snoozed" and data.get("until"):
            until = datetime.fromisoformat(data["until"])
            detail = _("Until %(time)s.", time=localtime(until))
        elif event.name == "alert.resolved":
            detail = alert.resolution_note or event.reason or ""
        rows.append(
            SimpleNamespace(
                at=event.at,
                what=EVENT_LABELS.get(event.name, event.name),
                who=names.get(event.actor_id) or _("the platform"),
                detail=detail,
            )
        )
    return rows


def told(alert: Alert) -> list[SimpleNamespace]:
    """Who was told at each step, how, and whether it went out (never the addresses)."""
    deliveries = db.session.scalars(
        sa.select(AlertDelivery)
        .where(AlertDelivery.alert_id == alert.id)
        .order_by(AlertDelivery.step, AlertDelivery.id)
    ).all()
    names = _names(d.user_id for d in deliveries)
    return [
        SimpleNamespace(
            step=d.step,
            who=names.get(d.user_id) or _("The on-call contact"),
            channel=CHANNEL_LABELS[d.channel],
            status=DELIVERY_LABELS[d.status],
            sent_at=d.sent_at,
        )
        for d in deliveries
    ]


def phones_for(user: User, alerts) -> dict[int, SimpleNamespace]:
    """For each alert, the phones its reader may call: the resident's (not for the resident
    themself) and their family-doctor team's centre."""
    team_phones: dict[int, str | None] = {}
    found = {}
    for alert in alerts:
        resident = alert.resident
        if resident.id not in team_phones:
            team_phones[resident.id] = queries.team_phone(resident)
        own = user.role == Role.RESIDENT and user.resident_id == resident.id
        found[alert.id] = SimpleNamespace(
            resident=None if own else resident.phone, team=team_phones[resident.id]
        )
    return found
