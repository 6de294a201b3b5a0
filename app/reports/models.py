"""Periodic reports kept in the platform: the weekly check and the monthly review, each a PDF
and a CSV generated from the board's queries, and their e-mail to the configured recipients."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db_types import StrEnum, UTCDateTime, enum_type, utcnow
from app.extensions import db


class ReportKind(StrEnum):
    WEEKLY_CHECK = "weekly_check"  # overdue follow-ups, open alerts, open referral loops, by team
    MONTHLY_REVIEW = "monthly_review"  # the KPIs against last month and last year, colours


class ReportTrigger(StrEnum):
    SCHEDULED = "scheduled"
    ON_DEMAND = "on_demand"


class MailStatus(StrEnum):
    NOT_SENT = "not_sent"  # nobody to send to (an on-demand report, no recipients set)
    PENDING = "pending"  # waiting for the mail job, or retrying after a failure
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry


class Report(db.Model):
    __tablename__ = "reports"
    __table_args__ = (
        sa.Index("ix_reports_kind_period", "kind", "period_start", "period_end"),
        # One scheduled report per kind and period, whatever runs the job twice; any number
        # on demand.
        sa.Index(
            "uq_reports_scheduled_kind_period",
            "kind",
            "period_start",
            "period_end",
            unique=True,
            sqlite_where=sa.text("trigger = 'scheduled'"),
            postgresql_where=sa.text("trigger = 'scheduled'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ReportKind] = mapped_column(enum_type(ReportKind, "report_kind"))
    trigger: Mapped[ReportTrigger] = mapped_column(enum_type(ReportTrigger, "report_trigger"))
    area_kind: Mapped[str] = mapped_column(sa.String(16), default="town")
    area_id: Mapped[int] = mapped_column(default=0)
    period_start: Mapped[date] = mapped_column(sa.Date)
    period_end: Mapped[date] = mapped_column(sa.Date)
    locale: Mapped[str] = mapped_column(sa.String(8), default="zh")
    title: Mapped[str] = mapped_column(sa.String(200))
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    generated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    pdf: Mapped[bytes] = mapped_column(sa.LargeBinary)
    csv: Mapped[str] = mapped_column(sa.Text)
    # the figures the report shows, as the board's API gives them, to compare and re-check
    figures: Mapped[dict] = mapped_column(sa.JSON)
    mail_status: Mapped[MailStatus] = mapped_column(
        enum_type(MailStatus, "report_mail_status"), default=MailStatus.NOT_SENT
    )
    mail_recipients: Mapped[list] = mapped_column(sa.JSON, default=list)
    mail_attempts: Mapped[int] = mapped_column(default=0)
    mail_next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    mail_error: Mapped[str | None] = mapped_column(sa.String(500))

    generated_by: Mapped[User | None] = relationship()
