"""Column types and helpers shared by every model."""

import enum
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

from app.timeutil import utcnow  # noqa: F401  (re-exported for column defaults)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend.

    SQLite has no timezone type, so values are stored naive in UTC and given their
    tzinfo back on the way out; a naive value on the way in is a programming error.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class StrEnum(enum.StrEnum):
    """An enum whose values are what the database and the API hold."""

    @classmethod
    def values(cls) -> list[str]:
        return [member.value for member in cls]


def enum_type(enum_cls: type[StrEnum], name: str) -> sa.Enum:
    """A portable enum column: a VARCHAR with a named CHECK constraint."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )
