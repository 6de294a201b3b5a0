"""SQL the KPIs need that SQLite and PostgreSQL spell differently."""

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from app.db_types import UTCDateTime

# Asia/Shanghai is UTC+8 all year (no daylight saving): a Shanghai day ends at 16:00 UTC.
DAY_END_UTC_HOURS = 16


class day_end(FunctionElement):  # noqa: N801  (used like an SQL function)
    """The UTC instant a Shanghai date column's day ends, comparable with UTC datetimes."""

    type = UTCDateTime()
    inherit_cache = True


@compiles(day_end)
def _day_end_default(element, compiler, **kw):
    (column,) = element.clauses
    day = f"CAST({compiler.process(column, **kw)} AS TIMESTAMP)"
    return f"({day} + INTERVAL '{DAY_END_UTC_HOURS} hours') AT TIME ZONE 'UTC'"


@compiles(day_end, "sqlite")
def _day_end_sqlite(element, compiler, **kw):
    # SQLite keeps UTC datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' text, so text compares in
    # time order with datetime()'s 'YYYY-MM-DD HH:MM:SS'.
    (column,) = element.clauses
    return f"datetime({compiler.process(column, **kw)}, '+{DAY_END_UTC_HOURS} hours')"


def done_by_day_end(done_at, due_date) -> sa.ColumnElement[bool]:
    return sa.and_(done_at.is_not(None), done_at < day_end(due_date))
