"""The town's targets, yellow edges and weights, the colours they give and the score sheet.

Colours, for a KPI where higher is better: green at or above the target, yellow at or above
the yellow edge, else red (mirrored where lower is better). No colour without a value or
without a target. Score: each weighted KPI earns weight x min(1, value / target) points
(target / value where lower is better; full points at 0), out of the weights' sum, which a
town's sheet keeps at 1000.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.audit.services import record_event
from app.errors import N_, InvalidInput
from app.extensions import db
from app.kpis import registry
from app.kpis.models import KpiSetting
from app.kpis.registry import HIGHER, LOWER, SHARE, Kpi, Measure
from app.timeutil import utcnow

GREEN, YELLOW, RED = "green", "yellow", "red"
SHEET_TOTAL = 1000


@dataclass(frozen=True)
class Setting:
    target: float | None
    yellow: float | None
    weight: int

    def as_dict(self) -> dict:
        return {"target": self.target, "yellow": self.yellow, "weight": self.weight}


def current() -> dict[str, Setting]:
    """Every KPI's setting: the town's row, else the definition's defaults."""
    rows = {row.key: row for row in db.session.scalars(sa.select(KpiSetting))}
    settings = {}
    for kpi in registry.all_kpis():
        row = rows.get(kpi.key)
        if row is None:
            settings[kpi.key] = Setting(kpi.default_target, kpi.default_yellow, kpi.default_weight)
        else:
            settings[kpi.key] = Setting(row.target, row.yellow, row.weight)
    return settings


def colour(kpi: Kpi, setting: Setting, value: float | None) -> str | None:
    if value is None or setting.target is None or kpi.better is None:
        return None
    yellow = setting.yellow if setting.yellow is not None else setting.target
    if kpi.better == HIGHER:
        return GREEN if value >= setting.target else YELLOW if value >= yellow else RED
    return GREEN if value <= setting.target else YELLOW if value <= yellow else RED


def points(kpi: Kpi, setting: Setting, value: float | None) -> float:
    """Points earned; none without a value (no data earns nothing)."""
    if not setting.weight or value is None or not setting.target or kpi.better is None:
        return 0.0
    if kpi.better == HIGHER:
        achieved = value / setting.target
    else:
        achieved = 1.0 if value <= 0 else setting.target / value
    return round(setting.weight * min(1.0, max(0.0, achieved)), 1)


def score_sheet(values: dict[str, Measure], settings: dict[str, Setting]) -> dict:
    rows = []
    for kpi in registry.all_kpis():
        setting = settings[kpi.key]
        if not setting.weight:
            continue
        value = values[kpi.key].value if kpi.key in values else None
        rows.append(
            {
                "key": kpi.key,
                "weight": setting.weight,
                "target": setting.target,
                "value": value,
                "points": points(kpi, setting, value),
            }
        )
    total = sum(row["weight"] for row in rows)
    earned = round(sum(row["points"] for row in rows), 1)
    return {"rows": rows, "points": earned, "out_of": total}


# --- changing the settings ---------------------------------------------------------------------


def _check(kpi: Kpi, key: str, target, yellow, weight) -> None:
    field = f"{key}."
    if weight is None or weight < 0:
        raise InvalidInput(N_("a weight is a whole number, 0 or more"), field + "weight")
    if weight and kpi.better is None:
        raise InvalidInput(N_("this figure has no better direction, so it cannot be weighted"),
                           field + "weight")  # fmt: skip
    if weight and target is None:
        raise InvalidInput(N_("a weighted figure needs a target"), field + "target")
    for name, number in (("target", target), ("yellow", yellow)):
        if number is None:
            continue
        if number < 0 or (kpi.unit == SHARE and number > 1):
            message = (
                N_("a share is between 0 and 1")
                if kpi.unit == SHARE
                else N_("must not be negative")
            )
            raise InvalidInput(message, field + name)
    if target is not None and yellow is not None:
        wrong = yellow > target if kpi.better == HIGHER else yellow < target
        if kpi.better == LOWER and wrong:
            raise InvalidInput(N_("where lower is better, yellow is at or above the target"),
                               field + "yellow")  # fmt: skip
        if kpi.better == HIGHER and wrong:
            raise InvalidInput(N_("yellow is at or below the target"), field + "yellow")


def update(changes: dict[str, dict], actor, reason: str | None = None) -> dict[str, Setting]:
    """Set targets, yellow edges and weights of any KPIs (one transaction); the weights of
    the whole sheet must then add up to 1000. Recorded as one event."""
    before = current()
    after = dict(before)
    for key, change in changes.items():
        kpi = registry.get(key)
        if kpi is None:
            raise InvalidInput(N_("no such figure"), key)
        old = before[key]
        target = change.get("target", old.target)
        yellow = change.get("yellow", old.yellow)
        weight = change.get("weight", old.weight)
        _check(kpi, key, target, yellow, weight)
        after[key] = Setting(target, yellow, weight)
    total = sum(setting.weight for setting in after.values())
    if total != SHEET_TOTAL:
        raise InvalidInput(
            N_("the weights add up to %(total)s, not 1000"), "weight", {"total": total}
        )
    for key in changes:
        row = db.session.get(KpiSetting, key) or KpiSetting(key=key)
        setting = after[key]
        row.target, row.yellow, row.weight = setting.target, setting.yellow, setting.weight
        row.updated_by_id, row.updated_at = actor.id, utcnow()
        db.session.add(row)
    db.session.flush()
    record_event(
        "kpi_settings",
        0,
        "kpi.settings_changed",
        reason=reason,
        data={key: {"from": before[key].as_dict(), "to": after[key].as_dict()} for key in changes},
        actor=actor,
    )
    return after
