"""Referrals between the community centre and hospitals, with the loop closed: up with a
reserved specialist slot, back down with a discharge summary and a care plan."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Organisation, Team, User
from app.db_types import StrEnum, UTCDateTime, enum_type, utcnow
from app.extensions import db
from app.residents.models import Resident


class Urgency(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    EMERGENCY = "emergency"


class ReferralStatus(StrEnum):
    DRAFT = "draft"  # written by a doctor, or proposed by the system for a doctor to review
    SENT = "sent"  # in the department's inbox
    SEEN = "seen"
    INFO_REQUESTED = "info_requested"  # the hospital asked the referring doctor a question
    ACCEPTED = "accepted"  # with an appointment (a reserved slot)
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    ADMITTED = "admitted"
    COMPLETED = "completed"
    RETURNED = "returned"  # sent back down with a discharge summary and care plan
    RETURN_ACCEPTED = "return_accepted"  # the community took the resident back
    CLOSED = "closed"  # the referring doctor acknowledged the return: the loop is closed


class ReferralSource(StrEnum):
    DOCTOR = "doctor"
    SYSTEM = "system"  # drafted from a reading that meets an urgent-referral criterion


class SlotStatus(StrEnum):
    OPEN = "open"
    BOOKED = "booked"
    CANCELLED = "cancelled"


class MessageKind(StrEnum):
    QUESTION = "question"
    ANSWER = "answer"
    NOTE = "note"


class AppointmentSlot(db.Model):
    """A specialist appointment a hospital department publishes; a share is reserved for
    referrals from family doctors (Shanghai's priority access for signed residents)."""

    __tablename__ = "appointment_slots"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    specialist_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reserved_for_referrals: Mapped[bool] = mapped_column(default=True)
    status: Mapped[SlotStatus] = mapped_column(
        enum_type(SlotStatus, "slot_status"), default=SlotStatus.OPEN, index=True
    )
    # A booked slot names its referral; unique, so a slot can never hold two.
    referral_id: Mapped[int | None] = mapped_column(sa.ForeignKey("referrals.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    department: Mapped[Organisation] = relationship()
    specialist: Mapped[User | None] = relationship()
    referral: Mapped[Referral | None] = relationship(back_populates="slot")


class Referral(db.Model):
    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("residents.id"), index=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id"), index=True)
    referring_doctor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    hospital_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    urgency: Mapped[Urgency] = mapped_column(enum_type(Urgency, "urgency"))
    status: Mapped[ReferralStatus] = mapped_column(
        enum_type(ReferralStatus, "referral_status"), index=True
    )
    source: Mapped[ReferralSource] = mapped_column(
        enum_type(ReferralSource, "referral_source"), default=ReferralSource.DOCTOR
    )
    reason: Mapped[str] = mapped_column(sa.String(500))
    clinical_summary: Mapped[str] = mapped_column(sa.Text)
    current_medication: Mapped[str | None] = mapped_column(sa.Text)
    # Why a hospital the resident did not sign with was chosen (1+1+1 hospitals come first).
    other_hospital_reason: Mapped[str | None] = mapped_column(sa.String(500))
    vitals: Mapped[list | None] = mapped_column(sa.JSON)  # recent readings, when there are any
    rejection_reason: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    resident: Mapped[Resident] = relationship()
    team: Mapped[Team] = relationship()
    referring_doctor: Mapped[User | None] = relationship()
    hospital: Mapped[Organisation] = relationship(foreign_keys=[hospital_id])
    department: Mapped[Organisation] = relationship(foreign_keys=[department_id])
    slot: Mapped[AppointmentSlot | None] = relationship(back_populates="referral", uselist=False)
    messages: Mapped[list[ReferralMessage]] = relationship(
        back_populates="referral", order_by="ReferralMessage.created_at"
    )
    attachments: Mapped[list[ReferralAttachment]] = relationship(
        back_populates="referral", order_by="ReferralAttachment.id"
    )
    discharge: Mapped[ReferralReturn | None] = relationship(back_populates="referral")


class ReferralMessage(db.Model):
    """The thread between the hospital and the referring doctor (questions and answers)."""

    __tablename__ = "referral_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(sa.ForeignKey("referrals.id"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    kind: Mapped[MessageKind] = mapped_column(enum_type(MessageKind, "message_kind"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    referral: Mapped[Referral] = relationship(back_populates="messages")
    author: Mapped[User] = relationship()


class ReferralAttachment(db.Model):
    """A PDF or image sent with a referral, kept in the database with the referral itself,
    so it is written in the same transaction and backed up with it."""

    __tablename__ = "referral_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(sa.ForeignKey("referrals.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int] = mapped_column()
    data: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    referral: Mapped[Referral] = relationship(back_populates="attachments")


class ReferralReturn(db.Model):
    """The down-referral: the hospital's discharge summary and the care plan it asks of the
    community, and when the community took the resident back and closed the loop."""

    __tablename__ = "referral_returns"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(sa.ForeignKey("referrals.id"), unique=True)
    discharge_summary: Mapped[str] = mapped_column(sa.Text)
    diagnoses: Mapped[str] = mapped_column(sa.Text)
    medication_changes: Mapped[str | None] = mapped_column(sa.Text)
    long_prescription: Mapped[bool] = mapped_column(default=False)
    care_plan: Mapped[str] = mapped_column(sa.Text)
    # [{"action": "...", "due_in_days": 14, "mode": "clinic"}]; by default one follow-up within
    # 2 weeks (the national rule after a referral).
    follow_up_actions: Mapped[list] = mapped_column(sa.JSON, default=list)
    returned_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    returned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    overdue_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    referral: Mapped[Referral] = relationship(back_populates="discharge")
