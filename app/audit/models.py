"""The audit log (who read or changed a resident's record) and the event log (state changes)."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db_types import UTCDateTime, utcnow
from app.extensions import db


class AuditEntry(db.Model):
    """One read or change of a resident's record by someone other than the resident.

    Holds identifiers only, never the personal data itself.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    actor_role: Mapped[str] = mapped_column(sa.String(32))
    action: Mapped[str] = mapped_column(sa.String(32))
    object_type: Mapped[str] = mapped_column(sa.String(32))
    object_id: Mapped[str | None] = mapped_column(sa.String(64))
    resident_id: Mapped[int | None] = mapped_column(sa.ForeignKey("residents.id"), index=True)
    remote_addr: Mapped[str | None] = mapped_column(sa.String(45))
    reason: Mapped[str | None] = mapped_column(sa.String(500))


class Event(db.Model):
    """A state change: who, when, what, from which state to which, and why."""

    __tablename__ = "events"
    __table_args__ = (sa.Index("ix_events_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    entity_type: Mapped[str] = mapped_column(sa.String(32))
    entity_id: Mapped[int] = mapped_column()
    name: Mapped[str] = mapped_column(sa.String(64))
    from_state: Mapped[str | None] = mapped_column(sa.String(32))
    to_state: Mapped[str | None] = mapped_column(sa.String(32))
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    data: Mapped[dict | None] = mapped_column(sa.JSON)
