"""Searching the register within what the policy lets a user see."""

import sqlalchemy as sa

from app.accounts.models import User
from app.audit.services import record_access
from app.policy import require_admin_reason, residents_query
from app.residents.models import Resident, ResidentCondition
from app.schemas_common import SelectPage
from app.timeutil import born_on_or_before


def search(user: User, args: dict, reason: str | None = None) -> sa.Select:
    """A select of the matching residents, ordered by name. Admins must give a reason."""
    require_admin_reason(user, reason)
    query = residents_query(user)
    if args.get("q"):
        query = query.where(Resident.name.contains(args["q"], autoescape=True))
    if args.get("neighbourhood_id") is not None:
        query = query.where(Resident.neighbourhood_id == args["neighbourhood_id"])
    if args.get("condition") is not None:
        has = sa.select(ResidentCondition.resident_id).where(
            ResidentCondition.condition == args["condition"]
        )
        query = query.where(Resident.id.in_(has))
    if args.get("min_age") is not None:
        query = query.where(Resident.birth_date <= born_on_or_before(args["min_age"]))
    if args.get("living_alone") is not None:
        query = query.where(Resident.living_alone.is_(args["living_alone"]))
    return query.order_by(Resident.name, Resident.id)


class AuditedResidentPage(SelectPage):
    """A page of residents; each one shown is an audited read ("list")."""

    @property
    def items(self):
        residents = super().items
        for resident in residents:
            record_access("list", resident.id)
        return residents
