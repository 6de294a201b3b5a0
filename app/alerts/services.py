"""The alert lifecycle: raise (or attach evidence to the open one), acknowledge, resolve,
snooze, and escalate along the ladder. Every change is an event; every message to a person
is an outbox row written in the same transaction (app.alerts.delivery sends them).

open --(nobody acts within the step's wait)--> escalated --> ... (the ladder's last step)
open | escalated --acknowledge--> acknowledged --resolve (note)--> resolved
open | escalated --resolve (note)--> resolved
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from app.accounts.models import Role, User
from app.alerts import ladder
from app.alerts.bus import ping_after_commit
from app.alerts.models import (
    ACTIVE_STATUSES,
    SEVERITY_RANK,
    Alert,
    AlertDelivery,
    AlertEvidence,
    AlertStatus,
    Channel,
    DeliveryStatus,
    Severity,
)
from app.audit.services import record_event
from app.errors import N_, Conflict, InvalidInput, NotFound
from app.extensions import db
from app.notifications.services import notify
from app.policy import can_see_resident
from app.residents.models import CaregiverLink, CaregiverScope, LinkStatus, Resident
from app.timeutil import utcnow

MAX_SNOOZE = timedelta(hours=24)


def active_alert(resident_id: int, rule: str) -> Alert | None:
    query = sa.select(Alert).where(
        Alert.resident_id == resident_id, Alert.rule == rule, Alert.status.in_(ACTIVE_STATUSES)
    )
    return db.session.scalar(query)


def _add_evidence(alert: Alert, evidence: list[dict], now: datetime) -> None:
    for item in evidence:
        db.session.add(
            AlertEvidence(
                alert=alert,
                reading_id=item.get("reading_id"),
                metric=item.get("metric"),
                value=item.get("value"),
                observed_at=item.get("observed_at") or now,
                detail=item.get("detail") or {},
            )
        )


def raise_alert(
    resident_id: int,
    rule: str,
    severity: Severity,
    message: str,
    params: dict | None = None,
    evidence: list[dict] | None = None,
    device_id: int | None = None,
    now: datetime | None = None,
) -> tuple[Alert, bool]:
    """The resident's active alert for `rule` with this evidence attached, or a new one
    (told to the first step of the ladder at once). Returns (alert, created)."""
    now = now or utcnow()
    evidence = evidence or []
    alert = active_alert(resident_id, rule)
    if alert is None:
        try:
            with db.session.begin_nested():  # a concurrent ingest may open it first
                alert = _open(resident_id, rule, severity, message, params, device_id, now)
        except sa.exc.IntegrityError:
            alert = active_alert(resident_id, rule)
        else:
            _add_evidence(alert, evidence, now)
            alert.evidence_count = len(evidence)
            return alert, True
    _attach(alert, severity, message, params, evidence, now)
    return alert, False


def _open(resident_id, rule, severity, message, params, device_id, now) -> Alert:
    alert = Alert(
        resident_id=resident_id,
        rule=rule,
        severity=severity,
        status=AlertStatus.OPEN,
        message=message,
        params=params or {},
        device_id=device_id,
        opened_at=now,
        last_evidence_at=now,
        evidence_count=0,
        step=0,
    )
    db.session.add(alert)
    db.session.flush()
    record_event("alert", alert.id, "alert.opened", None, alert.status, data={"rule": rule})
    ping_after_commit(_watchers(alert))
    _advance(alert, now)
    return alert


def _attach(alert, severity, message, params, evidence, now) -> None:
    _add_evidence(alert, evidence, now)
    alert.evidence_count += len(evidence)
    alert.last_evidence_at = now
    if SEVERITY_RANK[severity] < SEVERITY_RANK[alert.severity]:
        # Worse than when it was raised: say so, and if nobody acted, hurry the ladder.
        before = alert.severity
        alert.severity, alert.message, alert.params = severity, message, params or {}
        record_event("alert", alert.id, "alert.worsened", before, severity)
        ping_after_commit(_watchers(alert))
        if alert.status != AlertStatus.ACKNOWLEDGED and alert.next_step_at is not None:
            alert.next_step_at = min(alert.next_step_at, now + ladder.step_wait(severity))
    db.session.flush()


def _advance(alert: Alert, now: datetime) -> bool:
    """Tell the next step of the ladder; False when the ladder is exhausted."""
    steps = ladder.steps(alert.resident)
    if alert.step >= len(steps):
        alert.next_step_at = None
        return False
    alert.step += 1
    alert.next_step_at = now + ladder.step_wait(alert.severity) if alert.step < len(steps) else None
    _write_deliveries(alert, steps[alert.step - 1], now)
    return True


def _write_deliveries(alert: Alert, recipients, now: datetime) -> None:
    quiet = alert.severity == Severity.LOW and ladder.in_quiet_hours(now)
    woken = []
    for recipient in recipients:
        for channel, address in ladder.channels_for(recipient):
            if channel == Channel.LIVE:
                _tell_in_platform(alert, recipient.user)
                woken.append(recipient.user_id)
            db.session.add(
                AlertDelivery(
                    alert_id=alert.id,
                    step=alert.step,
                    channel=channel,
                    user_id=recipient.user_id,
                    recipient_key=recipient.key,
                    address=address,
                    # the platform's own list is written now; the stream reads it from here
                    status=DeliveryStatus.SENT
                    if channel == Channel.LIVE
                    else DeliveryStatus.PENDING,
                    sent_at=now if channel == Channel.LIVE else None,
                    next_attempt_at=ladder.quiet_hours_end(now) if quiet else now,
                )
            )
    db.session.flush()
    ping_after_commit(woken)


def _tell_in_platform(alert: Alert, user: User) -> None:
    notify(
        user,
        "alert",
        alert.message,
        alert.params,
        f"/alerts/{alert.id}",
        f"alert:{alert.id}:{alert.step}",
    )


# --- acting on an alert -------------------------------------------------------------------


def may_act(user: User, alert: Alert) -> bool:
    """Caregivers linked with care or proxy scope, the resident's team, administrators."""
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.CAREGIVER:
        return can_see_resident(user, alert.resident_id, CaregiverScope.CARE)
    if user.role in (Role.DOCTOR, Role.NURSE):
        return can_see_resident(user, alert.resident_id)
    return False


def get_alert(user: User, alert_id: int, acting: bool = False) -> Alert:
    alert = db.session.get(Alert, alert_id)
    if alert is None or not can_see_resident(user, alert.resident_id):
        raise NotFound(N_("alert not found"))
    if acting and not may_act(user, alert):
        raise NotFound(N_("alert not found"))
    return alert


def _cancel_pending(alert: Alert) -> None:
    db.session.execute(
        sa.update(AlertDelivery)
        .where(AlertDelivery.alert_id == alert.id, AlertDelivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.CANCELLED)
    )


def _watchers(alert: Alert) -> set[int]:
    """Everyone whose open alert pages list this alert whether or not the ladder has reached
    them (the resident, linked caregivers, the team's queue): woken on every change, so
    their pages show it at once rather than at the stream's next heartbeat."""
    caregivers = sa.select(CaregiverLink.caregiver_id).where(
        CaregiverLink.resident_id == alert.resident_id, CaregiverLink.status == LinkStatus.ACTIVE
    )
    own = sa.select(User.id).where(User.resident_id == alert.resident_id)
    staff = {user.id for user in ladder.team_staff(alert.resident_id)}
    return staff | set(db.session.scalars(sa.union(caregivers, own)))


def _others_told(alert: Alert) -> list[int]:
    query = (
        sa.select(AlertDelivery.user_id)
        .where(AlertDelivery.alert_id == alert.id, AlertDelivery.user_id.is_not(None))
        .distinct()
    )
    return list(db.session.scalars(query))


def _change(user: User, alert: Alert, name: str, status: AlertStatus, **data) -> Alert:
    before, alert.status = alert.status, status
    db.session.flush()
    record_event("alert", alert.id, name, before, status, actor=user, data=data or None)
    # their open pages show who acted
    ping_after_commit({*_others_told(alert), *_watchers(alert)})
    return alert


def acknowledge(user: User | None, alert: Alert, now: datetime | None = None, **data) -> Alert:
    """`user` None: the on-call contact, who has no account (their one-tap link); `data`
    goes into the event (e.g. via="link")."""
    if alert.status == AlertStatus.ACKNOWLEDGED:
        return alert  # a second tap, or two people at once: already in hand
    if alert.status == AlertStatus.RESOLVED:
        raise Conflict(N_("the alert is resolved already"), field="status", current="resolved")
    alert.acknowledged_at = now or utcnow()
    alert.acknowledged_by_id = user.id if user is not None else None
    alert.next_step_at = None  # an acknowledged alert is never notified again
    _cancel_pending(alert)
    return _change(user, alert, "alert.acknowledged", AlertStatus.ACKNOWLEDGED, **data)


def resolve(user: User, alert: Alert, note: str, now: datetime | None = None) -> Alert:
    if alert.status == AlertStatus.RESOLVED:
        raise Conflict(N_("the alert is resolved already"), field="status", current="resolved")
    if not (note or "").strip():
        raise InvalidInput(N_("say what was done: a note is required"), field="note")
    alert.resolved_at, alert.resolved_by_id = now or utcnow(), user.id
    alert.resolution_note, alert.next_step_at = note.strip(), None
    _cancel_pending(alert)
    return _change(user, alert, "alert.resolved", AlertStatus.RESOLVED)


def resolve_by_system(alert: Alert, note: str, now: datetime | None = None) -> Alert:
    """The condition ended on its own (a silent device reported again)."""
    alert.resolved_at, alert.resolution_note, alert.next_step_at = now or utcnow(), note, None
    _cancel_pending(alert)
    before, alert.status = alert.status, AlertStatus.RESOLVED
    db.session.flush()
    record_event("alert", alert.id, "alert.resolved", before, alert.status, reason=note)
    ping_after_commit(_watchers(alert))
    return alert


def snooze(user: User, alert: Alert, until: datetime, now: datetime | None = None) -> Alert:
    now = now or utcnow()
    if not alert.is_active:
        raise Conflict(N_("the alert is resolved already"), field="status", current="resolved")
    if until <= now or until > now + MAX_SNOOZE:
        raise InvalidInput(N_("snooze until a time within the next 24 hours"), field="until")
    alert.snoozed_until = until
    if alert.status != AlertStatus.ACKNOWLEDGED:
        alert.next_step_at = until  # the ladder waits, then goes on where it was
    db.session.flush()
    record_event(
        "alert",
        alert.id,
        "alert.snoozed",
        alert.status,
        alert.status,
        actor=user,
        data={"until": until.isoformat()},
    )
    ping_after_commit(_watchers(alert))
    return alert


# --- escalation (the scheduler) -----------------------------------------------------------


def escalate_due(now: datetime | None = None, limit: int = 200) -> int:
    """Advance every alert whose step's wait has passed with nobody acting. One step per
    alert per run, guarded so that two runs cannot both advance the same step."""
    now = now or utcnow()
    due = db.session.scalars(
        sa.select(Alert)
        .where(
            Alert.status.in_([AlertStatus.OPEN, AlertStatus.ESCALATED]),
            Alert.next_step_at <= now,
        )
        .order_by(Alert.next_step_at)
        .limit(limit)
    ).all()
    advanced = 0
    for alert in due:
        claimed = db.session.execute(
            sa.update(Alert)
            .where(Alert.id == alert.id, Alert.step == alert.step, Alert.next_step_at <= now)
            .values(next_step_at=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            continue
        before = alert.status
        if _advance(alert, now):
            alert.status = AlertStatus.ESCALATED
            db.session.flush()
            record_event(
                "alert",
                alert.id,
                "alert.escalated",
                before,
                alert.status,
                data={"step": alert.step},
            )
            ping_after_commit(_watchers(alert))
            advanced += 1
    return advanced


def residents_alerts(resident: Resident, active_only: bool = False) -> list[Alert]:
    query = sa.select(Alert).where(Alert.resident_id == resident.id)
    if active_only:
        query = query.where(Alert.status.in_(ACTIVE_STATUSES))
    return list(db.session.scalars(query.order_by(Alert.opened_at.desc())))
