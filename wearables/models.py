"""Wearables and home devices, and the readings they push."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db_types import StrEnum, UTCDateTime, enum_type, utcnow
from app.extensions import db
from app.residents.models import Resident


class DeviceKind(StrEnum):
    WATCH = "watch"
    BLOOD_PRESSURE_MONITOR = "blood_pressure_monitor"
    PULSE_OXIMETER = "pulse_oximeter"
    GLUCOMETER = "glucometer"
    THERMOMETER = "thermometer"
    SCALE = "scale"
    FALL_DETECTOR = "fall_detector"
    SOS_BUTTON = "sos_button"
    GATEWAY = "gateway"


class DeviceStatus(StrEnum):
    ACTIVE = "active"  # bound to a resident, pushing
    UNBOUND = "unbound"  # registered, not (or no longer) worn by anyone
    LOST = "lost"  # its token is refused


class ReadingSource(StrEnum):
    JSON = "json"
    FHIR = "fhir"
    OMH = "omh"
    MQTT = "mqtt"


class Device(db.Model):
    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[DeviceKind] = mapped_column(enum_type(DeviceKind, "device_kind"))
    model: Mapped[str | None] = mapped_column(sa.String(100))
    vendor: Mapped[str | None] = mapped_column(sa.String(100))
    resident_id: Mapped[int | None] = mapped_column(sa.ForeignKey("residents.id"), index=True)
    status: Mapped[DeviceStatus] = mapped_column(
        enum_type(DeviceStatus, "device_status"), default=DeviceStatus.UNBOUND
    )
    # Only the SHA-256 of the token is kept; the token is shown once.
    token_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    token_issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    battery_level: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    resident: Mapped[Resident | None] = relationship()


class Reading(db.Model):
    """One measurement (or event) in its canonical unit, with what was sent kept beside it.

    The unique key (device, metric, measured time) makes a retried push a duplicate, never
    a second row, also when two pushes race.
    """

    __tablename__ = "readings"
    __table_args__ = (
        sa.UniqueConstraint(
            "device_id", "metric", "measured_at", name="uq_readings_device_metric_time"
        ),
        sa.Index("ix_readings_resident_metric_time", "resident_id", "metric", "measured_at"),
        # roll-ups find what arrived since their last run; retention deletes by it too
        sa.Index("ix_readings_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("devices.id"))
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("residents.id"))
    metric: Mapped[str] = mapped_column(sa.String(32))
    value: Mapped[float | None] = mapped_column(sa.Float)
    unit: Mapped[str | None] = mapped_column(sa.String(16))
    original_value: Mapped[float | None] = mapped_column(sa.Float)
    original_unit: Mapped[str | None] = mapped_column(sa.String(16))
    measured_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    source: Mapped[ReadingSource] = mapped_column(enum_type(ReadingSource, "reading_source"))


class ReadingRollup(db.Model):
    """One resident's metric over one hour: what week and month charts read, so a month of
    a watch's minute-by-minute heart rate is 720 rows, not 43,200. Rebuilt from readings by
    a scheduler job (wearables/rollups.py); kept after raw readings pass their retention."""

    __tablename__ = "reading_rollups"

    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("residents.id"), primary_key=True)
    metric: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    count: Mapped[int] = mapped_column()
    minimum: Mapped[float | None] = mapped_column(sa.Float)
    maximum: Mapped[float | None] = mapped_column(sa.Float)
    mean: Mapped[float | None] = mapped_column(sa.Float)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class DeadLetterReason(StrEnum):
    NOT_JSON = "not_json"
    UNKNOWN_TOKEN = "unknown_token"  # noqa: S105 (a reason, not a secret)
    WRONG_TOPIC = "wrong_topic"  # the serial in the topic is not the token's device
    MALFORMED = "malformed"  # JSON, but not a body the parsers read
    REJECTED_READINGS = "rejected_readings"  # stored what it could; some readings refused


class DeadLetter(db.Model):
    """An MQTT message the bridge could not store (whole or in part), kept with the reason
    so a vendor's integration can be fixed. The device token is removed before keeping."""

    __tablename__ = "mqtt_dead_letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(sa.String(255))
    payload: Mapped[str] = mapped_column(sa.Text)
    reason: Mapped[DeadLetterReason] = mapped_column(
        enum_type(DeadLetterReason, "dead_letter_reason")
    )
    detail: Mapped[str | None] = mapped_column(sa.Text)
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("devices.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
