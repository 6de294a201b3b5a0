"""Readings that meet an urgent-referral criterion put exactly one system-drafted referral
on the team's worklist; a first unsatisfactory control reading plans one recheck within
two weeks."""

from datetime import timedelta

import sqlalchemy as sa

from app.audit.models import Event
from app.extensions import db
from app.followups.models import FollowUp, FollowUpSource, FollowUpStatus
from app.residents.models import ChronicCondition, ResidentCondition
from app.timeutil import local_today, to_local, utcnow
from referral.models import Referral, ReferralSource, ReferralStatus, Urgency
from tests.alerts.test_rules_support import (
    active_alerts,
    bp,
    every_minute,
    push,
    reading,
    world_fixture,  # noqa: F401  (the "world" fixture)
)


def _referrals(resident) -> list[Referral]:
    query = sa.select(Referral).where(Referral.resident_id == resident.id)
    return list(db.session.scalars(query))


def _follow_ups(resident) -> list[FollowUp]:
    return list(db.session.scalars(sa.select(FollowUp).where(FollowUp.resident_id == resident.id)))


def test_an_urgent_bp_drafts_exactly_one_referral_for_a_doctor_to_send(client, world):
    push(client, world["device"], [bp(186, 116, 5)])
    alerts = active_alerts(world["resident"])
    assert {"threshold:systolic_bp:high", "threshold:diastolic_bp:high"} <= set(alerts)
    [referral] = _referrals(world["resident"])
    assert (referral.status, referral.source, referral.urgency) == (
        ReferralStatus.DRAFT,
        ReferralSource.SYSTEM,
        Urgency.URGENT,
    )
    assert referral.team_id == world["team"].id
    assert (referral.hospital_id, referral.department_id) == (
        world["hospital"].id,
        world["cardiology"].id,
    )
    assert referral.referring_doctor_id is None
    assert "186" in referral.reason
    assert "186" in referral.clinical_summary
    assert {v["metric"] for v in referral.vitals} == {"systolic_bp"}

    # more readings, the same alerts: still one draft
    push(client, world["device"], [bp(190, 118, 1)])
    assert len(_referrals(world["resident"])) == 1
    links = db.session.scalars(
        sa.select(Event.name).where(
            Event.entity_type == "alert", Event.name.like("alert.referral%")
        )
    ).all()
    assert sorted(links) == ["alert.referral_drafted", "alert.referral_linked"]


def test_one_draft_per_alert_even_after_the_first_was_sent(client, world, api_token):
    push(client, world["device"], [bp(185, 100, 5)])
    [referral] = _referrals(world["resident"])
    referral.status = ReferralStatus.SENT  # the doctor sent it on
    db.session.commit()
    push(client, world["device"], [bp(188, 100, 1)])
    assert len(_referrals(world["resident"])) == 1


def test_low_glucose_goes_to_endocrinology(client, world):
    push(client, world["device"], [reading("blood_glucose", 2.9, 3)])
    [referral] = _referrals(world["resident"])
    assert referral.department_id == world["endocrine"].id
    assert active_alerts(world["resident"])["threshold:blood_glucose:low"].severity == "high"


def test_diabetes_adds_fever_and_a_fast_heart_to_the_criteria(client, world):
    db.session.add(
        ResidentCondition(
            resident_id=world["resident"].id, condition=ChronicCondition.TYPE2_DIABETES
        )
    )
    db.session.commit()
    push(client, world["device"], every_minute("heart_rate", 108, 34, 0))
    alert = active_alerts(world["resident"])["sustained:heart_rate:diabetes"]
    assert (alert.severity, alert.params["minutes"]) == ("high", "30")
    [referral] = _referrals(world["resident"])
    assert referral.department_id == world["cardiology"].id
    push(client, world["device"], [reading("body_temperature", 39.3, 1)])
    fever = active_alerts(world["resident"])["threshold:body_temperature:high"]
    assert fever.severity == "high"  # medium for a resident without diabetes


def test_a_first_unsatisfactory_bp_plans_one_recheck_within_two_weeks(client, world):
    push(client, world["device"], [bp(152, 88, 30)])
    assert active_alerts(world["resident"]) == {}  # not an alert: a recheck
    [recheck] = _follow_ups(world["resident"])
    assert (recheck.source, recheck.status, recheck.team_id) == (
        FollowUpSource.ALERT_RECHECK,
        FollowUpStatus.DUE,
        world["team"].id,
    )
    assert local_today() < recheck.due_date <= local_today() + timedelta(days=14)
    assert "152" in recheck.purpose

    push(client, world["device"], [bp(148, 95, 5)])  # the second one plans no other
    assert len(_follow_ups(world["resident"])) == 1
    assert _referrals(world["resident"]) == []


def _latest_local(hour: int, minute: int = 30):
    """The latest past moment it was hour:minute in Shanghai (within the last day)."""
    now = to_local(utcnow())
    moment = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return moment if moment < now else moment - timedelta(days=1)


def _glucose(value: float, when) -> dict:
    return {
        "metric": "blood_glucose",
        "value": value,
        "unit": "mmol/L",
        "measured_at": when.isoformat(),
    }


def test_glucose_counts_as_fasting_only_in_the_early_morning(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "ALERT_READING_MAX_AGE_HOURS", 24)
    push(client, world["device"], [_glucose(8.2, _latest_local(12))])  # after lunch
    assert _follow_ups(world["resident"]) == []
    push(client, world["device"], [_glucose(7.4, _latest_local(6))])  # before breakfast
    [recheck] = _follow_ups(world["resident"])
    assert "7.4" in recheck.purpose


def test_a_lowered_limit_alerts_sooner_but_drafts_no_referral_below_the_criterion(client, world):
    url = f"/api/v1/residents/{world['resident'].id}/alert-thresholds/systolic_bp"
    body = {"high": 160, "reason": "脑卒中后，收缩压控制更严"}
    assert client.put(url, json=body, headers=world["doctor"]).status_code == 200
    push(client, world["device"], [bp(165, 85, 5)])
    assert active_alerts(world["resident"])["threshold:systolic_bp:high"].params["limit"] == "160"
    assert _referrals(world["resident"]) == []
    push(client, world["device"], [bp(182, 85, 1)])  # the national criterion: now a draft
    assert len(_referrals(world["resident"])) == 1
