"""What the resident's doctor and nurses set for the rules: per-resident limits (with the
reason), the monitoring profile (NEWS2 scale, oxygen, silence, quiet hours) and ACVPU
assessments. Every change is an event with who and why; services flush, never commit."""

from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import Role, User
from app.alerts.models import ConsciousnessAssessment, MonitoringProfile, ThresholdOverride
from app.audit.services import record_access, record_event
from app.errors import N_, Forbidden, InvalidInput
from app.extensions import db
from app.residents.models import Resident
from app.timeutil import utcnow
from wearables.metrics import METRICS
from wearables.rules.context import read_facts, read_overrides
from wearables.rules.defaults import HIGH, LOW, METRICS_WITH_LIMITS
from wearables.rules.silence import DEFAULT_HOURS, DEFAULT_QUIET
from wearables.rules.thresholds import condition_limits, with_override

PROFILE_FIELDS = ("hypercapnic", "on_oxygen", "silent_after_hours", "quiet_from", "quiet_until")


def require_doctor(user: User) -> None:
    if user.role != Role.DOCTOR:
        raise Forbidden(N_("only a doctor of the resident's team can do this"))


def _reason(reason: str | None) -> str:
    if not (reason and reason.strip()):
        raise InvalidInput(N_("give the reason: it is kept with the change"), field="reason")
    return reason.strip()


# --- limits -------------------------------------------------------------------------------


def thresholds_of(resident: Resident) -> list[dict]:
    """Every metric's limits as they apply to this resident, each with its source."""
    facts, overrides = read_facts(resident.id), read_overrides(resident.id)
    result = []
    for metric in METRICS_WITH_LIMITS:
        limits = condition_limits(metric, facts.hypercapnic, facts.diabetic)
        override = overrides.get(metric)
        if override is not None:
            limits = with_override(metric, limits, override.low, override.high)
        result.append(
            {
                "metric": metric,
                "unit": METRICS[metric].unit,
                "limits": limits,
                "override": override,
            }
        )
    return result


def _check_value(metric: str, side: str, value: float | None) -> None:
    bounds = METRICS[metric]
    if value is not None and not bounds.low <= value <= bounds.high:
        raise InvalidInput(
            N_("outside what the metric can measure (%(low)s-%(high)s)"),
            field=side,
            params={"low": bounds.low, "high": bounds.high},
        )


def _check_order(metric: str, resident: Resident, low, high) -> None:
    facts = read_facts(resident.id)
    limits = with_override(
        metric, condition_limits(metric, facts.hypercapnic, facts.diabetic), low, high
    )
    lows = [lim.value for lim in limits if lim.side == LOW]
    highs = [lim.value for lim in limits if lim.side == HIGH]
    if lows and highs and max(lows) >= min(highs):
        raise InvalidInput(N_("the low limit must be below the high limit"), field="low")


def set_override(user: User, resident: Resident, metric: str, data: dict) -> ThresholdOverride:
    require_doctor(user)
    if metric not in METRICS_WITH_LIMITS:
        raise InvalidInput(N_("no alert limits for this metric"), field="metric")
    reason = _reason(data.get("reason"))
    low, high = data.get("low"), data.get("high")
    if low is None and high is None:
        raise InvalidInput(N_("give a low or a high limit"), field="low")
    _check_value(metric, LOW, low)
    _check_value(metric, HIGH, high)
    _check_order(metric, resident, low, high)
    override = db.session.scalar(
        sa.select(ThresholdOverride).where(
            ThresholdOverride.resident_id == resident.id, ThresholdOverride.metric == metric
        )
    )
    before = {"low": override.low, "high": override.high} if override else None
    if override is None:
        override = ThresholdOverride(resident_id=resident.id, metric=metric)
        db.session.add(override)
    override.low, override.high, override.reason = low, high, reason
    override.set_by_id, override.set_at = user.id, utcnow()
    db.session.flush()
    data = {"resident_id": resident.id, "metric": metric, "low": low, "high": high}
    record_event(
        "alert_threshold",
        override.id,
        "alert_threshold.set",
        reason=reason,
        data=data | {"before": before},
        actor=user,
    )
    record_access(
        "change_alert_thresholds", resident.id, "alert_threshold", override.id, actor=user
    )
    return override


def remove_override(user: User, resident: Resident, metric: str, data: dict) -> None:
    """Back to the defaults. Removing what is not there changes nothing."""
    require_doctor(user)
    reason = _reason(data.get("reason"))
    override = read_overrides(resident.id).get(metric)
    if override is None:
        return
    before = {"low": override.low, "high": override.high}
    db.session.delete(override)
    db.session.flush()
    record_event(
        "alert_threshold",
        override.id,
        "alert_threshold.removed",
        reason=reason,
        data={"resident_id": resident.id, "metric": metric, "before": before},
        actor=user,
    )
    record_access(
        "change_alert_thresholds", resident.id, "alert_threshold", override.id, actor=user
    )


# --- how the resident is watched ------------------------------------------------------------


def profile_of(resident: Resident) -> dict:
    """The monitoring profile (the defaults when none was set) and the latest ACVPU."""
    profile = db.session.get(MonitoringProfile, resident.id)
    values = {
        "hypercapnic": False,
        "on_oxygen": False,
        "silent_after_hours": DEFAULT_HOURS,
        "quiet_from": DEFAULT_QUIET[0],
        "quiet_until": DEFAULT_QUIET[1],
        "reason": None,
        "updated_at": None,
        "updated_by_id": None,
    }
    if profile is not None:
        values.update({name: getattr(profile, name) for name in values})
    return values | {"consciousness": read_facts(resident.id).consciousness}


def update_profile(user: User, resident: Resident, data: dict) -> MonitoringProfile:
    require_doctor(user)
    reason = _reason(data.get("reason"))
    changes = {name: data[name] for name in PROFILE_FIELDS if name in data}
    if not changes:
        raise InvalidInput(N_("nothing to change"), field="hypercapnic")
    hours = changes.get("silent_after_hours")
    if hours is not None and not 1 <= hours <= 168:
        raise InvalidInput(
            N_("between 1 and 168 hours, or empty for never"), field="silent_after_hours"
        )
    profile = db.session.get(MonitoringProfile, resident.id)
    if profile is None:
        profile = MonitoringProfile(resident_id=resident.id)
        db.session.add(profile)
        db.session.flush()  # the model's defaults, so "before" says what applied
    before = {name: _plain(getattr(profile, name)) for name in changes}
    for name, value in changes.items():
        setattr(profile, name, value)
    profile.updated_by_id, profile.updated_at, profile.reason = user.id, utcnow(), reason
    db.session.flush()
    after = {name: _plain(value) for name, value in changes.items()}
    record_event(
        "monitoring_profile",
        resident.id,
        "monitoring_profile.updated",
        reason=reason,
        data={"before": before, "after": after},
        actor=user,
    )
    record_access("change_monitoring", resident.id, "monitoring_profile", resident.id, actor=user)
    return profile


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def assess_consciousness(user: User, resident: Resident, level) -> ConsciousnessAssessment:
    if user.role not in (Role.DOCTOR, Role.NURSE):
        raise Forbidden(N_("only a doctor or nurse of the resident's team can do this"))
    assessment = ConsciousnessAssessment(
        resident_id=resident.id, level=level, assessed_at=utcnow(), assessed_by_id=user.id
    )
    db.session.add(assessment)
    db.session.flush()
    record_event(
        "consciousness_assessment",
        assessment.id,
        "consciousness.assessed",
        to_state=assessment.level,
        data={"resident_id": resident.id},
        actor=user,
    )
    return assessment
