"""Video visits held, for the town's board: visits completed that started in the period,
by the visit's team. Registered with app/kpis at import."""

import sqlalchemy as sa

from app.kpis.areas import Ctx, by_team
from app.kpis.measures import grouped
from app.kpis.registry import COUNT, HIGHER, Kpi, Measure, register
from telecall.models import Visit, VisitStatus

N_ = str  # msgids, translated where shown


def _held(ctx: Ctx, *columns):
    query = (
        sa.select(*columns)
        .select_from(Visit)
        .where(
            Visit.status == VisitStatus.COMPLETED,
            Visit.starts_at >= ctx.period.begin,
            Visit.starts_at < ctx.period.stop,
        )
    )
    return by_team(query, Visit.resident_id, Visit.team_id, ctx)


def _count(ctx: Ctx) -> dict[int, Measure]:
    query, area = _held(ctx)
    query = query.add_columns(area, sa.func.count().label("n"))
    return {key: Measure(row.n) for key, row in grouped(query, area, ctx).items()}


def _members(ctx: Ctx) -> sa.Select:
    query, _area = _held(
        ctx,
        Visit.resident_id.label("resident_id"),
        sa.null().label("met"),
        Visit.starts_at.label("at"),
        Visit.visit_type.label("note"),
    )
    return query


register(
    Kpi(
        "video_visits", N_("Video visits held"), COUNT, HIGHER, None, None, 0, 90,
        _count, _members, N_("Video visits completed that started in the period."),
    )
)  # fmt: skip
