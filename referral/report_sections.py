"""The referral section of the weekly check (app/reports/weekly.py): referral loops open at
the end of the period, by the referring team, and of those, the ones returned by the hospital
and not yet closed by the team. Registered at import (the app factory imports this module).

A loop is open from acceptance until the referring doctor closes it (referral.queries
OPEN_LOOP); a past period is read from the timestamps: accepted before its end, and still
open now or closed only after it.
"""

import sqlalchemy as sa

from app.extensions import db
from app.kpis.areas import Period
from app.reports.weekly import Column, Section, register_section
from referral.models import Referral, ReferralReturn, ReferralStatus
from referral.queries import OPEN_LOOP

N_ = str  # msgids, translated where shown

RETURNED_NOT_CLOSED = (ReferralStatus.RETURNED, ReferralStatus.RETURN_ACCEPTED)


def _open_at_end(period: Period) -> sa.ColumnElement[bool]:
    closed_later = sa.and_(
        Referral.status == ReferralStatus.CLOSED, Referral.closed_at >= period.stop
    )
    return sa.or_(Referral.status.in_(OPEN_LOOP), closed_later)


def open_loops(period: Period) -> dict[int | None, dict]:
    returned = sa.and_(
        ReferralReturn.returned_at.is_not(None), ReferralReturn.returned_at < period.stop
    )
    query = (
        sa.select(
            Referral.team_id,
            sa.func.count().label("open"),
            sa.func.count(sa.case((returned, 1))).label("returned"),
        )
        .select_from(Referral)
        .outerjoin(ReferralReturn, ReferralReturn.referral_id == Referral.id)
        .where(Referral.accepted_at < period.stop, _open_at_end(period))
        .group_by(Referral.team_id)
    )
    return {
        row.team_id: {"open_loops": row.open, "returned_not_closed": row.returned}
        for row in db.session.execute(query)
    }


register_section(
    Section(
        "referrals",
        N_("Open referral loops"),
        N_("Referrals accepted by a hospital and not yet closed by the referring team at the "
           "end of the period; of those, how many the hospital had already returned."),
        (
            Column("open_loops", N_("Open loops")),
            Column("returned_not_closed", N_("Returned, not closed")),
        ),
        open_loops,
        30,
    )
)  # fmt: skip
