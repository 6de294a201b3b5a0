"""Times are stored in UTC and shown in Asia/Shanghai."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_today() -> date:
    return datetime.now(LOCAL_TZ).date()


def to_local(value: datetime | None) -> datetime | None:
    return value.astimezone(LOCAL_TZ) if value is not None else None


def born_on_or_before(years: int, today: date | None = None) -> date:
    """The latest birth date of someone who is at least `years` old today."""
    today = today or local_today()
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February in a non-leap year
        return today.replace(year=today.year - years, day=28)
