"""What the town configures for its KPIs (targets, the yellow band, weights on the score
sheet) and the monthly snapshots the trend charts read."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db_types import UTCDateTime, utcnow
from app.extensions import db


class KpiSetting(db.Model):
    """A town's own target, yellow edge and weight for one KPI; a KPI without a row uses
    the defaults in its definition (app/kpis/registry.py)."""

    __tablename__ = "kpi_settings"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    target: Mapped[float | None] = mapped_column(sa.Float)
    yellow: Mapped[float | None] = mapped_column(sa.Float)
    weight: Mapped[int] = mapped_column(default=0)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class KpiSnapshot(db.Model):
    """One KPI of one area for one closed month, as the nightly job computed it."""

    __tablename__ = "kpi_snapshots"
    __table_args__ = (
        sa.UniqueConstraint("month", "area_kind", "area_id", "key"),
        sa.Index("ix_kpi_snapshots_area_month", "area_kind", "area_id", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(sa.Date)  # its first day
    area_kind: Mapped[str] = mapped_column(sa.String(16))
    area_id: Mapped[int] = mapped_column()
    key: Mapped[str] = mapped_column(sa.String(64))
    value: Mapped[float | None] = mapped_column(sa.Float)
    numerator: Mapped[int | None] = mapped_column()
    denominator: Mapped[int | None] = mapped_column()
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
