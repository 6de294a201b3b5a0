"""A residents' register uploaded as a CSV file, kept between its preview and its import."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db_types import StrEnum, UTCDateTime, enum_type, utcnow
from app.extensions import db


class ImportStatus(StrEnum):
    PREVIEWED = "previewed"  # uploaded and checked; waits for the uploader's confirmation
    IMPORTED = "imported"  # every row is in the register
    DISCARDED = "discarded"  # the uploader dropped it; nothing was imported


class ResidentImport(db.Model):
    __tablename__ = "resident_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    # The file as uploaded (UTF-8 text), encrypted like every national ID it holds.
    content: Mapped[str] = mapped_column(sa.Text)
    row_count: Mapped[int] = mapped_column()
    # Bad rows when it was uploaded; the preview and the confirmation check again.
    error_count: Mapped[int] = mapped_column()
    status: Mapped[ImportStatus] = mapped_column(
        enum_type(ImportStatus, "import_status"), default=ImportStatus.PREVIEWED
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    uploaded_by: Mapped[User] = relationship()
