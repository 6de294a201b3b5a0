"""The KPIs the board, the score sheet and the reports count, each defined once.

`app/kpis/measures.py` defines the KPIs of what `app/` holds (contracts, follow-ups, alerts);
the features register theirs (referral/kpis.py, wearables/kpis.py, telecall/kpis.py) at
import, so `app/` imports no feature. Definitions: docs/KPIS.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from app.kpis.areas import Ctx

HIGHER, LOWER = "higher", "lower"  # which way is better; None: neither (a count to watch)
SHARE, MINUTES, COUNT = "share", "minutes", "count"


@dataclass(frozen=True)
class Measure:
    """One KPI for one area: the value (a share 0..1, minutes or a count; None without
    data) and, for a share, what it is made of."""

    value: float | None
    numerator: int | None = None
    denominator: int | None = None
    detail: dict = field(default_factory=dict)

    @classmethod
    def share(cls, met: int, of: int, **detail) -> Measure:
        return cls(met / of if of else None, met, of, detail)

    def as_dict(self) -> dict:
        return {
            "value": self.value,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "detail": self.detail,
        }


# The drill-down: a SELECT with the labelled columns resident_id, met (bool or NULL), at
# (when it happened, or NULL) and note (a short code, or NULL), for one area.
Members = Callable[[Ctx], sa.Select]


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str  # an English msgid (lazy-translated where shown)
    unit: str  # SHARE, MINUTES or COUNT
    better: str | None
    default_target: float | None
    default_yellow: float | None  # the edge between yellow and red
    default_weight: int
    order: int
    measure: Callable[[Ctx], dict[int, Measure]]
    members: Members | None = None
    description: str = ""

    @property
    def scored(self) -> bool:
        return self.better is not None


_kpis: dict[str, Kpi] = {}


def register(kpi: Kpi) -> Kpi:
    _kpis[kpi.key] = kpi
    return kpi


def all_kpis() -> list[Kpi]:
    return sorted(_kpis.values(), key=lambda kpi: kpi.order)


def get(key: str) -> Kpi | None:
    return _kpis.get(key)
