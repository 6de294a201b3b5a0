"""One page of a list shown on a page, where each row shown is an audited read."""

from collections.abc import Callable
from math import ceil
from types import SimpleNamespace

import sqlalchemy as sa

from app.extensions import db

PAGE_SIZE = 20


def audited_page(
    query: sa.Select,
    number: int,
    audit: Callable[[object], None],
    size: int = PAGE_SIZE,
    rows: bool = False,
) -> SimpleNamespace:
    """Page `number` (clamped to the pages there are) of `query`; `audit` is called for each
    row shown; `rows` pages a query of several columns (rows, not objects). Gives items,
    total, number and pages, as the `pager` macro expects."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    pages = max(1, ceil(total / size))
    number = min(max(1, number), pages)
    window = query.limit(size).offset((number - 1) * size)
    items = (db.session.execute(window) if rows else db.session.scalars(window)).all()
    for item in items:
        audit(item)
    return SimpleNamespace(items=items, total=total, number=number, pages=pages)
