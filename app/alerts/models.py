"""Alerts: what the rules over a resident's vitals raise, who was told, and who acted.

An alert is one (resident, rule) problem while it lasts: further readings that break the
same rule attach to it as evidence instead of raising another (a partial unique index makes
that hold under concurrency). Deliveries are the outbox: written in the same transaction as
the alert, delivered at least once by a job, every attempt kept.
"""

from __future__ import annotations

from datetime import datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db_types import StrEnum, UTCDateTime, enum_type, utcnow
from app.extensions import db
from app.residents.models import Resident


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.HIGH: 1, Severity.MEDIUM: 2, Severity.LOW: 3}


class AlertStatus(StrEnum):
    OPEN = "open"
    ESCALATED = "escalated"  # nobody acted in time; the next step of the ladder was told
    ACKNOWLEDGED = "acknowledged"  # someone is on it: never notified again
    RESOLVED = "resolved"


ACTIVE_STATUSES = (AlertStatus.OPEN, AlertStatus.ESCALATED, AlertStatus.ACKNOWLEDGED)


class Alert(db.Model):
    __tablename__ = "alerts"
    __table_args__ = (
        # One alert per resident and rule until it is resolved.
        sa.Index(
            "uq_alerts_resident_rule_active",
            "resident_id",
            "rule",
            unique=True,
            sqlite_where=sa.text("status != 'resolved'"),
            postgresql_where=sa.text("status != 'resolved'"),
        ),
        sa.Index("ix_alerts_status_next_step", "status", "next_step_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("residents.id"), index=True)
    rule: Mapped[str] = mapped_column(sa.String(64))  # e.g. "threshold:systolic_bp:high"
    severity: Mapped[Severity] = mapped_column(enum_type(Severity, "alert_severity"))
    status: Mapped[AlertStatus] = mapped_column(
        enum_type(AlertStatus, "alert_status"), default=AlertStatus.OPEN
    )
    # What happened, as a message id and its values: each reader sees their own language.
    message: Mapped[str] = mapped_column(sa.String(300))
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("devices.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    last_evidence_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    evidence_count: Mapped[int] = mapped_column(default=1)
    # The escalation ladder: the step reached, and when the next one is due if nobody acts.
    step: Mapped[int] = mapped_column(default=0)
    next_step_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    resolution_note: Mapped[str | None] = mapped_column(sa.Text)

    resident: Mapped[Resident] = relationship()
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
    evidence: Mapped[list[AlertEvidence]] = relationship(
        back_populates="alert", order_by="AlertEvidence.observed_at"
    )

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class AlertEvidence(db.Model):
    """A reading (or an observation such as "silent since") that raised or fed an alert."""

    __tablename__ = "alert_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(sa.ForeignKey("alerts.id"), index=True)
    reading_id: Mapped[int | None] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), sa.ForeignKey("readings.id")
    )
    metric: Mapped[str | None] = mapped_column(sa.String(32))
    value: Mapped[float | None] = mapped_column(sa.Float)
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    alert: Mapped[Alert] = relationship(back_populates="evidence")


class Channel(StrEnum):
    LIVE = "live"  # the platform: notification list and the open pages' event stream
    EMAIL = "email"
    WEBHOOK = "webhook"  # a JSON POST signed with HMAC-SHA256, for SMS or WeChat gateways


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry
    CANCELLED = "cancelled"  # the alert was acknowledged or resolved before it went out


class AlertDelivery(db.Model):
    """The outbox: one message of one alert to one recipient on one channel."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        # A step of the ladder tells each recipient once per channel, also when the job
        # that escalates runs twice.
        sa.UniqueConstraint(
            "alert_id", "step", "channel", "recipient_key", name="uq_alert_deliveries_once"
        ),
        sa.Index("ix_alert_deliveries_due", "status", "next_attempt_at"),
        sa.Index("ix_alert_deliveries_user_live", "user_id", "channel", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(sa.ForeignKey("alerts.id"), index=True)
    step: Mapped[int] = mapped_column()
    channel: Mapped[Channel] = mapped_column(enum_type(Channel, "delivery_channel"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # "user:<id>" or "on-call": who, so the unique key holds for the on-call contact too
    recipient_key: Mapped[str] = mapped_column(sa.String(64))
    address: Mapped[str | None] = mapped_column(sa.String(200))  # e-mail address or phone
    kind: Mapped[str] = mapped_column(sa.String(32), default="alert")  # alert, escalated...
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_type(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.String(500))

    alert: Mapped[Alert] = relationship()
    user: Mapped[User | None] = relationship()


class DeliveryAttempt(db.Model):
    __tablename__ = "alert_delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("alert_deliveries.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ok: Mapped[bool] = mapped_column()
    error: Mapped[str | None] = mapped_column(sa.String(500))


class ThresholdOverride(db.Model):
    """A resident's own limits for one metric, set by their doctor with a reason."""

    __tablename__ = "alert_threshold_overrides"
    __table_args__ = (
        sa.UniqueConstraint("resident_id", "metric", name="uq_threshold_overrides_metric"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("residents.id"))
    metric: Mapped[str] = mapped_column(sa.String(32))
    low: Mapped[float | None] = mapped_column(sa.Float)
    high: Mapped[float | None] = mapped_column(sa.Float)
    reason: Mapped[str] = mapped_column(sa.String(500))
    set_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Consciousness(StrEnum):
    ALERT = "A"
    CONFUSION = "C"  # new confusion
    VOICE = "V"
    PAIN = "P"
    UNRESPONSIVE = "U"


class MonitoringProfile(db.Model):
    """How a resident is watched: what their doctor set (NEWS2 scale, silence, quiet night)."""

    __tablename__ = "monitoring_profiles"

    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("residents.id"), primary_key=True)
    # Hypercapnic respiratory failure (e.g. COPD): NEWS2 scores SpO2 on scale 2.
    hypercapnic: Mapped[bool] = mapped_column(default=False)
    on_oxygen: Mapped[bool] = mapped_column(default=False)
    # A worn device silent this long raises "device silent"; None: never for this resident.
    silent_after_hours: Mapped[int | None] = mapped_column(default=12)
    # No "device silent" alerts raised in these local hours (devices charge at night).
    quiet_from: Mapped[time | None] = mapped_column(sa.Time, default=time(22, 0))
    quiet_until: Mapped[time | None] = mapped_column(sa.Time, default=time(7, 0))
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[str | None] = mapped_column(sa.String(500))


class ConsciousnessAssessment(db.Model):
    """ACVPU as assessed by a nurse or doctor (NEWS2 takes the latest; alert by default)."""

    __tablename__ = "consciousness_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("residents.id"), index=True)
    level: Mapped[Consciousness] = mapped_column(enum_type(Consciousness, "consciousness"))
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    assessed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
