"""Video visits: the doctors' availability, the booked visits, who takes part, the signalling
messages between their browsers, consents, recordings and call-quality samples."""

from __future__ import annotations

from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Team, User
from app.db_types import StrEnum, UTCDateTime, enum_type, utcnow
from app.extensions import db
from app.residents.models import Resident


class VisitType(StrEnum):
    VIDEO_CONSULT = "video_consult"
    ONLINE_REVISIT = "online_revisit"
    REMOTE_FOLLOW_UP = "remote_follow_up"


class VisitStatus(StrEnum):
    BOOKED = "booked"
    IN_PROGRESS = "in_progress"  # the doctor has joined
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"  # the resident never joined
    MISSED_BY_TEAM = "missed_by_team"  # the resident waited; nobody of the team joined


OPEN_STATUSES = (VisitStatus.BOOKED, VisitStatus.IN_PROGRESS)


class ParticipantRole(StrEnum):
    RESIDENT = "resident"
    DOCTOR = "doctor"
    CAREGIVER = "caregiver"
    INTERPRETER = "interpreter"
    SPECIALIST = "specialist"
    RECORDER = "recorder"  # the media process, while it records with consent


INVITABLE_ROLES = (
    ParticipantRole.CAREGIVER,
    ParticipantRole.INTERPRETER,
    ParticipantRole.SPECIALIST,
)


class ExceptionKind(StrEnum):
    CLOSED = "closed"  # not available (all day, or between the times)
    EXTRA = "extra"  # available on top of the weekly pattern


class RecordingStatus(StrEnum):
    REQUESTED = "requested"
    RECORDING = "recording"
    FINISHED = "finished"
    FAILED = "failed"
    PURGED = "purged"  # the retention period ended and the file was deleted


class Availability(db.Model):
    """One weekly window in which a doctor takes video visits (local Shanghai time)."""

    __tablename__ = "visit_availability"
    __table_args__ = (
        sa.CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday_range"),
        sa.CheckConstraint("end_time > start_time", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id"), index=True)
    weekday: Mapped[int] = mapped_column()  # Monday 0
    start_time: Mapped[time] = mapped_column(sa.Time)
    end_time: Mapped[time] = mapped_column(sa.Time)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    doctor: Mapped[User] = relationship()
    team: Mapped[Team] = relationship()


class AvailabilityException(db.Model):
    """A date that differs from the weekly pattern: closed (leave, a training day) or extra."""

    __tablename__ = "visit_availability_exceptions"
    __table_args__ = (
        sa.CheckConstraint(
            "(start_time IS NULL AND end_time IS NULL) OR end_time > start_time",
            name="times_in_order",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id"))
    on_date: Mapped[date] = mapped_column(sa.Date, index=True)
    kind: Mapped[ExceptionKind] = mapped_column(enum_type(ExceptionKind, "availability_exception"))
    start_time: Mapped[time | None] = mapped_column(sa.Time)  # None: the whole day
    end_time: Mapped[time | None] = mapped_column(sa.Time)
    reason: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Visit(db.Model):
    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("residents.id"), index=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id"), index=True)
    doctor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    visit_type: Mapped[VisitType] = mapped_column(enum_type(VisitType, "visit_type"))
    status: Mapped[VisitStatus] = mapped_column(
        enum_type(VisitStatus, "visit_status"), default=VisitStatus.BOOKED, index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(sa.String(500), default="")  # what the resident wants
    booked_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(500))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    # The follow-up form (national hypertension / diabetes follow-up fields), see forms.py.
    form: Mapped[dict | None] = mapped_column(sa.JSON)
    # The planned follow-up this visit fulfilled (remote follow-ups count toward the schedule).
    follow_up_id: Mapped[int | None] = mapped_column(sa.ForeignKey("follow_ups.id"))
    reminded_day_before_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_soon_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    resident: Mapped[Resident] = relationship()
    team: Mapped[Team] = relationship()
    doctor: Mapped[User] = relationship(foreign_keys=[doctor_id])
    booked_by: Mapped[User] = relationship(foreign_keys=[booked_by_id])
    participants: Mapped[list[VisitParticipant]] = relationship(
        back_populates="visit", order_by="VisitParticipant.id"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class SlotClaim(db.Model):
    """One booking-grid step of a doctor's time held by an open visit. The unique key is
    what makes a slot impossible to book twice, whatever the concurrency."""

    __tablename__ = "visit_slot_claims"
    __table_args__ = (sa.UniqueConstraint("doctor_id", "slot_start", name="uq_visit_slot_claims"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    slot_start: Mapped[datetime] = mapped_column(UTCDateTime())
    visit_id: Mapped[int] = mapped_column(
        sa.ForeignKey("visits.id", ondelete="CASCADE"), index=True
    )


class VisitParticipant(db.Model):
    __tablename__ = "visit_participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visits.id"), index=True)
    role: Mapped[ParticipantRole] = mapped_column(enum_type(ParticipantRole, "participant_role"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    display_name: Mapped[str] = mapped_column(sa.String(100))
    # Part of the signed join token: a new nonce revokes every link given out before.
    token_nonce: Mapped[str] = mapped_column(sa.String(32))
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    first_joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    client: Mapped[str | None] = mapped_column(sa.String(16))

    visit: Mapped[Visit] = relationship(back_populates="participants")
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])


class Signal(db.Model):
    """A signalling message to one participant (offer, answer, joined, left, ...). The
    database holds them so that every gunicorn worker's stream can read them."""

    __tablename__ = "visit_signals"
    __table_args__ = (sa.Index("ix_visit_signals_to_id", "to_participant_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visits.id"), index=True)
    to_participant_id: Mapped[int] = mapped_column(sa.ForeignKey("visit_participants.id"))
    from_participant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visit_participants.id"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    payload: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RecordingConsent(db.Model):
    __tablename__ = "visit_recording_consents"
    __table_args__ = (
        sa.UniqueConstraint("visit_id", "role", name="uq_visit_recording_consents_role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visits.id"), index=True)
    role: Mapped[ParticipantRole] = mapped_column(enum_type(ParticipantRole, "consent_role"))
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("visit_participants.id"))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Recording(db.Model):
    __tablename__ = "visit_recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visits.id"), index=True)
    status: Mapped[RecordingStatus] = mapped_column(
        enum_type(RecordingStatus, "recording_status"), default=RecordingStatus.REQUESTED
    )
    recorder_participant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("visit_participants.id")
    )
    file_name: Mapped[str] = mapped_column(sa.String(200))  # inside RECORDINGS_DIR
    bytes: Mapped[int | None] = mapped_column(sa.BigInteger)
    sha256: Mapped[str | None] = mapped_column(sa.String(64))
    seconds: Mapped[float | None] = mapped_column()
    started_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    purge_after: Mapped[date] = mapped_column(sa.Date, index=True)
    failure: Mapped[str | None] = mapped_column(sa.String(300))


class QualitySample(db.Model):
    """What a participant's browser measured of one peer connection, every few seconds."""

    __tablename__ = "visit_quality_samples"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visits.id"), index=True)
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("visit_participants.id"))
    peer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visit_participants.id"))
    measured_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    rtt_ms: Mapped[float | None] = mapped_column()
    loss_percent: Mapped[float | None] = mapped_column()
    bitrate_kbps: Mapped[float | None] = mapped_column()
    audio_only: Mapped[bool] = mapped_column(default=False)
