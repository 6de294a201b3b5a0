"""Readings pushed through the real HTTP ingest become alerts: default thresholds, a
doctor's override (and its reason), sustained limits against noise, events, dedupe, and a
low battery. Scores, silence and the referral/recheck rules have their own files."""

import sqlalchemy as sa

from app.alerts.models import AlertDelivery, AlertStatus, Severity
from app.audit.models import Event
from app.extensions import db
from tests.alerts.test_rules_support import (
    active_alerts,
    all_alerts,
    bp,
    event,
    every_minute,
    push,
    reading,
    world_fixture,  # noqa: F401  (the "world" fixture)
)
from wearables.models import Reading


def test_default_thresholds_raise_one_alert_per_rule_with_the_readings(client, world):
    push(client, world["device"], [bp(185, 100, 3), reading("body_temperature", 38.5, 3)])
    alerts = active_alerts(world["resident"])
    assert set(alerts) == {"threshold:systolic_bp:high"}
    alert = alerts["threshold:systolic_bp:high"]
    assert alert.severity == Severity.HIGH
    assert alert.message == "Systolic blood pressure %(value)s mmHg, at or above %(limit)s"
    assert alert.params == {"value": "185", "limit": "180"}
    assert [(e.metric, e.value) for e in alert.evidence] == [("systolic_bp", 185)]
    assert alert.evidence[0].reading_id is not None
    # the first step of the ladder (the caregiver) was told at once
    told = db.session.scalars(
        sa.select(AlertDelivery.user_id).where(AlertDelivery.alert_id == alert.id)
    )
    assert list(told) == [world["carer"].id]

    push(client, world["device"], [reading("blood_glucose", 3.5, 1)])
    low = active_alerts(world["resident"])["threshold:blood_glucose:low"]
    assert (low.severity, low.params) == (Severity.HIGH, {"value": "3.5", "limit": "3.9"})


def test_further_readings_attach_as_evidence_not_a_second_alert(client, world):
    latest = bp(188, 92, 1)
    push(client, world["device"], [bp(182, 90, 10)])
    push(client, world["device"], [bp(196, 95, 5), latest])
    alerts = [a for a in all_alerts(world["resident"]) if a.rule == "threshold:systolic_bp:high"]
    assert len(alerts) == 1
    assert alerts[0].evidence_count == 3
    assert sorted(e.value for e in alerts[0].evidence) == [182, 188, 196]
    # a retried push stores nothing new and adds no evidence
    before = alerts[0].evidence_count
    assert push(client, world["device"], [latest])["duplicate"] == 2
    db.session.refresh(alerts[0])
    assert alerts[0].evidence_count == before


def test_an_override_changes_the_outcome_and_keeps_the_reason(client, world):
    rid = world["resident"].id
    url = f"/api/v1/residents/{rid}/alert-thresholds/systolic_bp"
    reason = "长期收缩压 185 左右，心内科建议 200 以上再报警"
    response = client.put(url, json={"high": 200, "reason": reason}, headers=world["doctor"])
    assert response.status_code == 200, response.get_json()
    high = next(lim for lim in response.get_json()["limits"] if lim["side"] == "high")
    assert (high["value"], high["default"], high["overridden"]) == (200, 180, True)
    assert "3rd ed." in high["source"]

    push(client, world["device"], [bp(188, 95, 2)])
    assert active_alerts(world["resident"]) == {}
    push(client, world["device"], [bp(203, 95, 1)])
    alert = active_alerts(world["resident"])["threshold:systolic_bp:high"]
    assert alert.params == {"value": "203", "limit": "200"}

    recorded = db.session.scalars(sa.select(Event).where(Event.name == "alert_threshold.set")).one()
    assert recorded.reason == reason
    assert recorded.actor_id == world["team"].lead.id
    assert recorded.data["high"] == 200

    listed = client.get(f"/api/v1/residents/{rid}/alert-thresholds", headers=world["nurse"])
    row = next(m for m in listed.get_json() if m["metric"] == "systolic_bp")
    assert row["override"]["reason"] == reason

    gone = client.delete(url, json={"reason": "复诊后恢复默认"}, headers=world["doctor"])
    assert gone.status_code == 204
    removed = db.session.scalars(sa.select(Event).where(Event.name == "alert_threshold.removed"))
    assert removed.one().reason == "复诊后恢复默认"


def test_override_input_is_checked_and_only_the_team_doctor_may_set_it(client, world):
    rid = world["resident"].id
    url = f"/api/v1/residents/{rid}/alert-thresholds"

    def put(metric, body, who="doctor"):
        return client.put(f"{url}/{metric}", json=body, headers=world[who])

    def field(response):
        return list(response.get_json()["errors"]["json"])

    assert put("systolic_bp", {"high": 170, "reason": "x"}, "nurse").status_code == 403
    assert field(put("systolic_bp", {"high": 170})) == ["reason"]
    assert field(put("systolic_bp", {"high": 170, "reason": "  "})) == ["reason"]
    assert field(put("steps", {"high": 9000, "reason": "x"})) == ["metric"]
    assert field(put("systolic_bp", {"reason": "x"})) == ["low"]
    assert field(put("systolic_bp", {"high": 900, "reason": "x"})) == ["high"]
    assert field(put("systolic_bp", {"low": 185, "reason": "x"})) == ["low"]  # above high
    assert put("diastolic_bp", {"low": 50, "reason": "体位性低血压"}).status_code == 200
    listed = client.get(url, headers=world["doctor"]).get_json()
    dbp = next(m for m in listed if m["metric"] == "diastolic_bp")
    low = next(lim for lim in dbp["limits"] if lim["side"] == "low")
    assert (low["value"], low["default"], low["rule"]) == (50, None, "threshold:diastolic_bp:low")


def test_a_sustained_limit_ignores_one_noisy_reading_and_fires_when_sustained(client, world):
    device = world["device"]
    noisy = every_minute("heart_rate", 72, 40, 21) + [reading("heart_rate", 150, 20)]
    push(client, device, noisy)
    assert active_alerts(world["resident"]) == {}

    # 150/min from 12 minutes ago until now: every reading of the last 10 minutes breaks it
    push(client, device, every_minute("heart_rate", 150, 12, 0))
    alert = active_alerts(world["resident"])["sustained:heart_rate:high"]
    assert alert.severity == Severity.HIGH
    assert alert.params == {"value": "150", "limit": "131", "minutes": "10"}
    assert alert.evidence[0].detail["readings"] == 11


def test_a_window_with_a_normal_reading_or_a_hole_is_not_sustained(client, world):
    device = world["device"]
    readings = every_minute("spo2", 85, 30, 22)
    readings[5] = reading("spo2", 95, 25)  # one good reading inside the window
    push(client, device, readings)
    assert "sustained:spo2:low" not in active_alerts(world["resident"])
    # readings only in the last 2 minutes: the 5-minute window is not covered
    push(client, device, [reading("spo2", 84, m) for m in (1.5, 1, 0.5)])
    assert "sustained:spo2:low" not in active_alerts(world["resident"])
    push(client, device, [reading("spo2", 86, m + 0.25) for m in range(5, -1, -1)])
    alert = active_alerts(world["resident"])["sustained:spo2:low"]
    assert alert.params == {"value": "86", "limit": "89", "minutes": "5"}


def test_a_fall_and_an_sos_are_critical_at_once_and_further_events_attach(client, world):
    push(client, world["device"], [event("fall", 1)])
    alerts = active_alerts(world["resident"])
    fall = alerts["event:fall"]
    assert (fall.severity, fall.status, fall.message) == (
        Severity.CRITICAL,
        AlertStatus.OPEN,
        "A fall was detected",
    )
    assert fall.step == 1
    assert fall.next_step_at is not None
    push(client, world["device"], [event("fall", 0.5), event("sos", 0.5)])
    alerts = active_alerts(world["resident"])
    assert set(alerts) == {"event:fall", "event:sos"}
    assert alerts["event:fall"].id == fall.id
    assert alerts["event:fall"].evidence_count == 2
    assert alerts["event:sos"].severity == Severity.CRITICAL


def test_readings_older_than_the_alert_window_raise_nothing(client, world):
    push(client, world["device"], [bp(200, 120, 13 * 60), event("fall", 20 * 60)])
    assert db.session.scalar(sa.select(sa.func.count(Reading.id))) == 3
    assert all_alerts(world["resident"]) == []


def test_a_low_battery_raises_one_low_alert_resolved_when_charged(client, world):
    device = world["device"]
    push(client, device, [reading("heart_rate", 70, 3)], battery=40)
    assert active_alerts(world["resident"]) == {}
    push(client, device, [reading("heart_rate", 70, 2)], battery=12)
    rule = f"battery:{device['id']}"
    alert = active_alerts(world["resident"])[rule]
    assert (alert.severity, alert.params["level"]) == (Severity.LOW, "12")
    push(client, device, [reading("heart_rate", 70, 1)], battery=9)
    db.session.refresh(alert)
    assert alert.evidence_count == 1  # still the same alert, no evidence per push
    push(client, device, [], battery=95)
    db.session.refresh(alert)
    assert alert.status == AlertStatus.RESOLVED
    assert alert.resolved_by_id is None
    assert alert.resolution_note == "the device battery was charged"


def test_without_the_rules_nothing_is_raised(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "ALERT_RULES_ENABLED", False)
    push(client, world["device"], [bp(200, 120, 1), event("fall", 1)])
    assert all_alerts(world["resident"]) == []


def test_a_failing_rule_loses_no_reading_and_leaves_no_half_alert(client, world, monkeypatch):
    from wearables.rules import referrals

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in a rule")

    monkeypatch.setattr(referrals, "draft_for", broken)  # after the alert was raised
    answer = push(client, world["device"], [bp(186, 95, 1)])
    assert answer["accepted"] == 2
    assert db.session.scalar(sa.select(sa.func.count(Reading.id))) == 2
    assert all_alerts(world["resident"]) == []  # the alert went with the failed rules
