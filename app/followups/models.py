"""Follow-ups: a planned contact of a resident by their team. One model serves every source
(a referral's return now; the chronic-disease schedule, alert rechecks and the yearly check
of residents aged 65+ as those capabilities arrive)."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Team
from app.db_types import StrEnum, UTCDateTime, enum_type, utcnow
from app.extensions import db
from app.residents.models import Resident


class FollowUpMode(StrEnum):
    CLINIC = "clinic"
    HOME = "home"
    PHONE = "phone"
    VIDEO = "video"


class FollowUpStatus(StrEnum):
    DUE = "due"
    DONE = "done"
    MISSED = "missed"
    CANCELLED = "cancelled"


class FollowUpSource(StrEnum):
    REFERRAL_RETURN = "referral_return"
    CHRONIC_SCHEDULE = "chronic_schedule"
    ALERT_RECHECK = "alert_recheck"
    ANNUAL_CHECK = "annual_check"
    MANUAL = "manual"


class Classification(StrEnum):
    """The classification on the national follow-up form; it decides the next contact."""

    SATISFACTORY = "satisfactory"  # 控制满意
    UNSATISFACTORY = "unsatisfactory"  # 控制不满意
    SIDE_EFFECTS = "side_effects"  # 药物不良反应
    COMPLICATIONS = "complications"  # 并发症 (new or worse)


class FollowUp(db.Model):
    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("residents.id"), index=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id"), index=True)
    mode: Mapped[FollowUpMode] = mapped_column(enum_type(FollowUpMode, "follow_up_mode"))
    due_date: Mapped[date] = mapped_column(sa.Date, index=True)
    status: Mapped[FollowUpStatus] = mapped_column(
        enum_type(FollowUpStatus, "follow_up_status"), default=FollowUpStatus.DUE, index=True
    )
    source: Mapped[FollowUpSource] = mapped_column(enum_type(FollowUpSource, "follow_up_source"))
    source_id: Mapped[int | None] = mapped_column()
    purpose: Mapped[str] = mapped_column(sa.String(500))
    # The chronic condition a schedule follow-up is about (hypertension, type2_diabetes).
    condition: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # What was found (the national follow-up form's fields) and how it was classified.
    form: Mapped[dict | None] = mapped_column(sa.JSON)
    classification: Mapped[Classification | None] = mapped_column(
        enum_type(Classification, "follow_up_classification")
    )
    # What it led to: the next contact planned, and a referral drafted (referral/ owns that
    # table; app/ keeps only its id).
    next_id: Mapped[int | None] = mapped_column(sa.ForeignKey("follow_ups.id"))
    referral_id: Mapped[int | None] = mapped_column()
    closed_reason: Mapped[str | None] = mapped_column(sa.String(500))  # missed or cancelled

    resident: Mapped[Resident] = relationship()
    team: Mapped[Team] = relationship()
