"""What the rules know about the resident of one ingest request. Each fact is read at most
once per request, and only when a rule asks for it: the rules run inside every ingest
request, so what they read is what the request pays for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

import sqlalchemy as sa

from app.accounts.models import Team, team_neighbourhoods
from app.alerts.models import ThresholdOverride
from app.contracts.services import current_contract
from app.extensions import db
from app.residents.models import Resident
from wearables.models import Device
from wearables.rules import queries


@dataclass(frozen=True)
class NewReading:
    """A reading this request stored (what the insert's RETURNING gives back)."""

    id: int
    metric: str
    value: float | None
    measured_at: datetime


@dataclass(frozen=True)
class Facts:
    hypercapnic: bool
    on_oxygen: bool
    diabetic: bool
    consciousness: str  # ACVPU of the latest assessment; "A" when there is none
    has_overrides: bool = True


def read_facts(resident_id: int, row: tuple | None = None) -> Facts:
    """One query: the monitoring profile, diabetes, the latest consciousness level, and
    whether the doctor set any limits (most residents have none: no query for them)."""
    row = row or queries.facts_row(resident_id)
    hypercapnic, on_oxygen, diabetic, level, has_overrides = row
    level = getattr(level, "value", level)
    return Facts(
        bool(hypercapnic), bool(on_oxygen), bool(diabetic), level or "A", bool(has_overrides)
    )


def read_overrides(resident_id: int) -> dict[str, ThresholdOverride]:
    return {row.metric: row for row in queries.overrides(resident_id)}


def team_of(resident: Resident) -> int | None:
    """The team a system-made referral or recheck belongs to: the resident's contract
    team, else the first active team serving their neighbourhood."""
    contract = current_contract(resident.id)
    if contract is not None:
        return contract.team_id
    query = (
        sa.select(Team.id)
        .join(team_neighbourhoods, team_neighbourhoods.c.team_id == Team.id)
        .where(
            team_neighbourhoods.c.neighbourhood_id == resident.neighbourhood_id,
            Team.active.is_(True),
        )
        .order_by(Team.id)
        .limit(1)
    )
    return db.session.scalar(query)


class Context:
    def __init__(self, device: Device, now: datetime, vitals_window=None):
        """`vitals_window`: (since, until) when NEWS2 needs the latest vitals; they come
        back with the facts, in the same query."""
        self.device = device
        self.resident_id: int = device.resident_id
        self.now = now
        self.vitals_window = vitals_window
        self.latest_vitals: list[tuple] = []

    @cached_property
    def facts(self) -> Facts:
        if self.vitals_window is None:
            return read_facts(self.resident_id)
        row, self.latest_vitals = queries.facts_and_vitals(self.resident_id, *self.vitals_window)
        return read_facts(self.resident_id, row)

    @cached_property
    def overrides(self) -> dict[str, ThresholdOverride]:
        return read_overrides(self.resident_id) if self.facts.has_overrides else {}

    @cached_property
    def resident(self) -> Resident:
        return db.session.get(Resident, self.resident_id)

    @cached_property
    def team_id(self) -> int | None:
        return team_of(self.resident)
