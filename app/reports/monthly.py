"""The monthly review: the town's board for a month (app.kpis.board.board, the function the
board's API and page read, so the numbers are the same), each KPI beside the month before
and the same month a year earlier, the colours, the score sheet, the committees' and teams'
rows and the 12-month trend.

An on-demand review may cover any period; "the month before" and "a year before" are then
the periods of the same length right before it and one year earlier.
"""

from __future__ import annotations

from datetime import date, timedelta

from app.kpis import board, settings
from app.kpis.areas import AreaKind, Period, areas
from app.timeutil import add_months, local_today


def last_month(today: date | None = None) -> Period:
    today = today or local_today()
    return Period.month(add_months(today.replace(day=1), -1))


def is_calendar_month(period: Period) -> bool:
    return period.start.day == 1 and Period.month(period.start) == period


def compared_with(period: Period) -> tuple[Period, Period]:
    """The period before and the period a year earlier, each as long as `period`."""
    if is_calendar_month(period):
        return period.previous_month(), period.same_month_last_year()
    length = (period.end - period.start).days + 1
    before = Period(period.start - timedelta(days=length), period.start - timedelta(days=1))
    year_start = add_months(period.start, -12)
    return before, Period(year_start, year_start + timedelta(days=length - 1))


def review(period: Period) -> dict:
    """Everything the review shows. The board for the period itself, plus the figures (the
    board's own `figures`) for the two periods compared."""
    found = board.board(None, AreaKind.TOWN, None, period)
    town = areas(AreaKind.TOWN)[0]
    current = settings.current()
    before, year_ago = compared_with(period)
    return {
        "kind": "monthly_review",
        **found,
        "previous": {
            "period": before.as_dict(),
            "figures": board.figures(board.values_for(town, before), current),
        },
        "last_year": {
            "period": year_ago.as_dict(),
            "figures": board.figures(board.values_for(town, year_ago), current),
        },
    }
