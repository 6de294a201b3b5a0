"""The referral KPIs of the town's board: referrals up and down in a period, and how many of
those returned were closed (the loop). The same definitions as the referral figures page
(docs/REFERRALS.md, "Figures"); registered with app/kpis at import."""

import sqlalchemy as sa

from app.kpis.areas import Ctx, by_team
from app.kpis.measures import grouped
from app.kpis.registry import COUNT, HIGHER, SHARE, Kpi, Measure, register
from referral.models import Referral, ReferralReturn, ReferralStatus

N_ = str  # msgids, translated where shown


def _sent(ctx: Ctx, *columns):
    query = (
        sa.select(*columns)
        .select_from(Referral)
        .where(
            Referral.sent_at >= ctx.period.begin,
            Referral.sent_at < ctx.period.stop,
            Referral.status != ReferralStatus.DRAFT,
        )
    )
    return by_team(query, Referral.resident_id, Referral.team_id, ctx)


def _returned(ctx: Ctx, *columns):
    query = (
        sa.select(*columns)
        .select_from(Referral)
        .join(ReferralReturn, ReferralReturn.referral_id == Referral.id)
        .where(
            ReferralReturn.returned_at >= ctx.period.begin,
            ReferralReturn.returned_at < ctx.period.stop,
        )
    )
    return by_team(query, Referral.resident_id, Referral.team_id, ctx)


def _closed():
    return Referral.status == ReferralStatus.CLOSED


def _up(ctx: Ctx) -> dict[int, Measure]:
    query, area = _sent(ctx)
    query = query.add_columns(area, sa.func.count().label("n"))
    return {key: Measure(row.n) for key, row in grouped(query, area, ctx).items()}


def _returned_facts(ctx: Ctx) -> dict:
    def compute():
        query, area = _returned(ctx)
        query = query.add_columns(
            area,
            sa.func.count(sa.case((_closed(), 1))).label("closed"),
            sa.func.count().label("n"),
        )
        return grouped(query, area, ctx)

    return ctx.once("referrals_returned", compute)


def _down(ctx: Ctx) -> dict[int, Measure]:
    return {key: Measure(row.n) for key, row in _returned_facts(ctx).items()}


def _loop(ctx: Ctx) -> dict[int, Measure]:
    return {key: Measure.share(row.closed, row.n) for key, row in _returned_facts(ctx).items()}


def _up_members(ctx: Ctx) -> sa.Select:
    query, _area = _sent(
        ctx,
        Referral.resident_id.label("resident_id"),
        sa.null().label("met"),
        Referral.sent_at.label("at"),
        Referral.status.label("note"),
    )
    return query


def _returned_members(ctx: Ctx) -> sa.Select:
    query, _area = _returned(
        ctx,
        Referral.resident_id.label("resident_id"),
        _closed().label("met"),
        ReferralReturn.returned_at.label("at"),
        Referral.status.label("note"),
    )
    return query


register(
    Kpi(
        "referrals_up", N_("Referrals up"), COUNT, None, None, None, 0, 60, _up, _up_members,
        N_("Referrals sent to a hospital in the period."),
    )
)  # fmt: skip
register(
    Kpi(
        "referrals_down", N_("Referrals down"), COUNT, None, None, None, 0, 61, _down,
        _returned_members, N_("Residents returned by a hospital in the period."),
    )
)  # fmt: skip
register(
    Kpi(
        "referral_loop_closure", N_("Referral loops closed"), SHARE, HIGHER, 0.8, 0.6, 100, 62,
        _loop, _returned_members,
        N_("Of the referrals returned in the period, those the team has closed."),
    )
)  # fmt: skip
