"""The residents behind a KPI's number, for one area and period, as far as the user may see
them: a doctor or nurse only residents of their teams (need-to-know, app/policy.py), an
administrator everyone, with a reason. Each resident listed is an audited read."""

from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import Organisation, User
from app.audit.services import record_access
from app.errors import N_, NotFound
from app.kpis import registry
from app.kpis.areas import AreaKind, Breakdown, Ctx, Period, resolve_area
from app.pagination import audited_page
from app.policy import require_admin_reason, visible_resident_ids
from app.residents.models import Resident


def members_query(user: User, key: str, kind: AreaKind, area_id: int | None, period: Period,
                  met: bool | None = None) -> sa.Select:  # fmt: skip
    """Rows of resident_id, name, neighbourhood, met, at and note, latest first."""
    kpi = registry.get(key)
    if kpi is None or kpi.members is None:
        raise NotFound(N_("no such figure"))
    area = resolve_area(user, kind, area_id)
    ids = None if kind == AreaKind.TOWN else (area.id,)
    rows = kpi.members(Ctx(Breakdown(kind, ids), period)).subquery("members")
    query = (
        sa.select(
            rows.c.resident_id,
            Resident.name,
            Organisation.name.label("neighbourhood"),
            rows.c.met,
            rows.c.at,
            rows.c.note,
        )
        .join(Resident, Resident.id == rows.c.resident_id)
        .join(Organisation, Organisation.id == Resident.neighbourhood_id)
    )
    visible = visible_resident_ids(user)
    if visible is not None:
        query = query.where(rows.c.resident_id.in_(visible))
    if met is not None:
        query = query.where(rows.c.met.is_(True) if met else sa.not_(rows.c.met.is_(True)))
    return query.order_by(rows.c.at.desc(), Resident.name, rows.c.resident_id)


def page(user: User, key: str, kind: AreaKind, area_id: int | None, period: Period,
         met: bool | None, number: int, reason: str | None):  # fmt: skip
    """One page of the drill-down, each resident shown recorded in the audit log."""
    require_admin_reason(user, reason)
    query = members_query(user, key, kind, area_id, period, met)

    def audit(row) -> None:
        record_access("kpi_drilldown", row.resident_id, "kpi", key, reason)

    return audited_page(query, number, audit, rows=True)
