"""The resident's own baseline and NEWS2, through the real HTTP ingest: the baseline cuts
the false alarm of someone whose normal heart rate is 95 and still catches a real change;
NEWS2 scores SpO2 on scale 2 for a resident the doctor marks hypercapnic and takes
consciousness from the latest assessment."""

from datetime import timedelta

from app.alerts.models import Severity
from app.timeutil import utcnow
from tests.alerts.test_rules_support import (
    active_alerts,
    bp,
    every_minute,
    push,
    reading,
    register_device,
    world_fixture,  # noqa: F401  (the "world" fixture)
)
from wearables import rollups


def _history(client, device, rates=(90, 95, 100)):
    """An hourly heart rate from 14 days ago until 13 hours ago (too old to alert)."""
    now = utcnow()
    readings = [
        {
            "metric": "heart_rate",
            "value": rates[hour % len(rates)],
            "unit": "/min",
            "measured_at": (now - timedelta(hours=hour)).isoformat(),
        }
        for hour in range(13, 14 * 24)
    ]
    push(client, device, readings)
    rollups.refresh()


def _neighbour(client, world, make_resident, serial):
    resident = make_resident(neighbourhood=world["team"].neighbourhoods[0])
    return resident, register_device(client, world["doctor"], resident, serial)


def test_the_baseline_cuts_a_false_alarm_and_catches_a_real_change(client, world, make_resident):
    usual_95, device = world["resident"], world["device"]
    _history(client, device)
    newcomer, new_device = _neighbour(client, world, make_resident, "W-RULES-2")

    # 105/min for half an hour: above the textbook's 100, ordinary for the first resident
    push(client, device, every_minute("heart_rate", 105, 70, 36))
    push(client, new_device, every_minute("heart_rate", 105, 70, 36))
    assert active_alerts(usual_95) == {}
    textbook = active_alerts(newcomer)["baseline:heart_rate"]
    assert textbook.severity == Severity.MEDIUM
    assert textbook.message.endswith("(resting range 50-100/min)")
    assert textbook.params["value"] == "105"

    # 130/min for half an hour: 35 above their own 95 (more than 30/min and 30 %)
    push(client, device, every_minute("heart_rate", 130, 34, 0))
    alert = active_alerts(usual_95)["baseline:heart_rate"]
    assert alert.params == {"value": "130", "minutes": "30", "baseline": "95"}
    assert "far above this resident's usual" in alert.message
    assert alert.evidence[0].detail["baseline"] == 95


def test_a_baseline_needs_enough_days_of_data(client, world):
    device = world["device"]
    now = utcnow()
    three_days = [
        {
            "metric": "heart_rate",
            "value": 95,
            "unit": "/min",
            "measured_at": (now - timedelta(hours=h)).isoformat(),
        }
        for h in range(13, 3 * 24)
    ]
    push(client, device, three_days)
    rollups.refresh()
    push(client, device, every_minute("heart_rate", 105, 34, 0))
    # too few days: the textbook range applies, and 105 is above it
    assert active_alerts(world["resident"])["baseline:heart_rate"].params["baseline"] == ""


def _vital_set(minutes_ago=2):
    return [
        reading("respiratory_rate", 22, minutes_ago),
        reading("spo2", 87, minutes_ago),
        bp(105, 70, minutes_ago),
        reading("heart_rate", 95, minutes_ago),
        reading("body_temperature", 38.5, minutes_ago),
    ]


def test_news2_on_scale_2_for_a_hypercapnic_resident_and_the_latest_consciousness(
    client, world, make_resident
):
    rid = world["resident"].id
    profile_url = f"/api/v1/residents/{rid}/monitoring"
    refused = client.put(
        profile_url, json={"hypercapnic": True, "reason": "x"}, headers=world["nurse"]
    )
    assert refused.status_code == 403
    response = client.put(
        profile_url,
        json={"hypercapnic": True, "reason": "COPD，Ⅱ型呼衰，目标 SpO2 88-92%"},
        headers=world["doctor"],
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["hypercapnic"] is True

    # RR 22 (2) + SpO2 87 on scale 2, air (1) + SBP 105 (1) + HR 95 (1) + 38.5 °C (1) = 6
    push(client, world["device"], _vital_set())
    alert = active_alerts(world["resident"])["news2"]
    assert (alert.severity, alert.params) == (Severity.HIGH, {"total": "6"})
    assert alert.message == "NEWS2 %(total)s, medium risk: urgent response"
    detail = alert.evidence[0].detail
    assert (detail["spo2_scale"], detail["scores"]["spo2"], detail["consciousness"]) == (2, 1, "A")

    assessed = client.post(
        f"/api/v1/residents/{rid}/consciousness", json={"level": "V"}, headers=world["nurse"]
    )
    assert assessed.status_code == 201, assessed.get_json()
    push(client, world["device"], [reading("body_temperature", 38.6, 1)])
    alert = active_alerts(world["resident"])["news2"]  # the same alert, worse
    assert (alert.severity, alert.params) == (Severity.CRITICAL, {"total": "9"})
    assert alert.evidence_count == 2

    # the same set on scale 1 (not hypercapnic): SpO2 87 scores 3, total 8
    other, device = _neighbour(client, world, make_resident, "W-RULES-3")
    push(client, device, _vital_set())
    other_alert = active_alerts(other)["news2"]
    assert (other_alert.severity, other_alert.params) == (Severity.CRITICAL, {"total": "8"})


def test_news2_red_score_is_medium_and_a_low_score_or_a_thin_set_raises_nothing(client, world):
    device = world["device"]
    push(client, device, [reading("heart_rate", 95, 3), reading("spo2", 95, 3)])
    assert active_alerts(world["resident"]) == {}  # two vitals: not scored
    normal = [
        reading("respiratory_rate", 16, 2),
        bp(120, 80, 2),
        reading("heart_rate", 95, 2),
        reading("body_temperature", 37.0, 2),
    ]
    push(client, device, normal)  # total 1: low, raises nothing
    assert active_alerts(world["resident"]) == {}
    push(client, device, [reading("spo2", 91, 1)])  # a 3 in one parameter
    alert = active_alerts(world["resident"])["news2"]
    assert (alert.severity, alert.params) == (Severity.MEDIUM, {"total": "4"})
