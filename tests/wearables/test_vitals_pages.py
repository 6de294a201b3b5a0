"""The vitals page (day / week / month, charts drawn as inline SVG) and the CSV export."""

import csv
import io
from datetime import timedelta

import pytest

from app.accounts.models import Role
from app.audit.models import AuditEntry
from app.extensions import db
from app.timeutil import utcnow
from wearables.charts import downsample
from wearables.models import Device, DeviceKind, DeviceStatus, Reading, ReadingSource

BOM = "\ufeff"


@pytest.fixture
def setup(make_team, make_resident, make_resident_user, make_link):
    team = make_team()
    resident = make_resident(neighbourhood=team.neighbourhoods[0])
    device = Device(
        serial="W-VITALS-1",
        kind=DeviceKind.WATCH,
        resident=resident,
        status=DeviceStatus.ACTIVE,
        token_digest="a" * 64,
    )
    db.session.add(device)
    db.session.flush()
    now = utcnow().replace(microsecond=0)

    def reading(metric, value, ago, unit="/min", **kw):
        row = Reading(
            device_id=device.id,
            resident_id=resident.id,
            metric=metric,
            value=value,
            unit=unit,
            measured_at=now - ago,
            source=ReadingSource.JSON,
            **kw,
        )
        db.session.add(row)
        return row

    rows = {
        "old": reading("heart_rate", 61, timedelta(days=3)),
        "hr1": reading(
            "heart_rate", 72, timedelta(hours=5), original_value=72, original_unit="bpm"
        ),
        "hr2": reading("heart_rate", 87, timedelta(hours=1)),
        "sys": reading("systolic_bp", 142, timedelta(hours=2), unit="mm[Hg]"),
        "dia": reading("diastolic_bp", 91, timedelta(hours=2), unit="mm[Hg]"),
        "fall": reading("fall", None, timedelta(hours=3), unit=None),
        "ancient": reading("heart_rate", 55, timedelta(days=40)),
    }
    db.session.flush()
    return {
        "team": team,
        "resident": resident,
        "resident_user": make_resident_user(resident),
        "caregiver": make_link(resident).caregiver,
        "rows": rows,
        "now": now,
    }


def page(client, resident, query=""):
    client.set_cookie("lang", "en")
    return client.get(f"/vitals/{resident.id}{query}")


def test_the_resident_sees_their_latest_heart_rate_and_a_chart(setup, signed_in):
    client = signed_in(setup["resident_user"])
    response = page(client, setup["resident"])
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Vitals of" in html
    assert "Heart rate" in html
    assert "<strong>87 /min</strong>" in html  # the latest value, with its unit
    assert '<svg class="chart" role="img"' in html
    assert "<title>Heart rate</title>" in html
    assert "<desc>" in html
    assert "highest 87" in html
    # blood pressure: one chart, two lines and a legend
    assert "<title>Blood pressure</title>" in html
    assert "Systolic blood pressure" in html
    assert "Diastolic blood pressure" in html
    assert "Fall" in html  # the alarm, listed with its time
    assert "<script" not in html


def test_a_linked_caregiver_sees_the_vitals(setup, signed_in):
    client = signed_in(setup["caregiver"])
    html = page(client, setup["resident"]).get_data(as_text=True)
    assert "<strong>87 /min</strong>" in html


def test_another_teams_doctor_gets_404(setup, signed_in, make_team):
    other = make_team()
    client = signed_in(other.lead)
    assert page(client, setup["resident"]).status_code == 404
    assert client.get(f"/vitals/{setup['resident'].id}/export.csv").status_code == 404


def test_the_team_doctor_sees_it_and_the_read_is_audited(setup, signed_in):
    doctor = setup["team"].lead
    client = signed_in(doctor)
    assert page(client, setup["resident"]).status_code == 200
    actions = {e.action for e in db.session.query(AuditEntry).filter_by(actor_id=doctor.id)}
    assert "view" in actions


def test_an_administrator_is_asked_for_a_reason(setup, signed_in, make_user):
    client = signed_in(make_user(Role.ADMIN))
    asked = page(client, setup["resident"], "?range=day")
    assert asked.status_code == 200
    assert 'name="reason"' in asked.get_data(as_text=True)
    assert 'name="range" value="day"' in asked.get_data(as_text=True)  # kept for the answer
    shown = page(client, setup["resident"], "?range=day&reason=checking")
    assert "<strong>87 /min</strong>" in shown.get_data(as_text=True)


def test_the_range_filters_the_readings(setup, signed_in):
    client = signed_in(setup["resident_user"])
    day = page(client, setup["resident"], "?range=day").get_data(as_text=True)
    week = page(client, setup["resident"], "?range=week").get_data(as_text=True)
    month = page(client, setup["resident"], "?range=month").get_data(as_text=True)
    assert "lowest 72" in day
    assert "lowest 61" not in day
    assert "lowest 61" in week
    assert "3 readings" in week
    assert "lowest 61" in month
    assert "lowest 55" not in month


def test_week_is_the_default_range(setup, signed_in):
    client = signed_in(setup["resident_user"])
    assert "lowest 61" in page(client, setup["resident"]).get_data(as_text=True)


def test_an_unknown_range_answers_400(setup, signed_in):
    """Decided: a wrong range is said so (400), never quietly replaced by another period."""
    client = signed_in(setup["resident_user"])
    assert page(client, setup["resident"], "?range=year").status_code == 400
    assert client.get(f"/vitals/{setup['resident'].id}/export.csv?range=x").status_code == 400


def test_the_csv_export(setup, signed_in):
    client = signed_in(setup["caregiver"])
    response = client.get(f"/vitals/{setup['resident'].id}/export.csv?range=day")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith(BOM)
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == [
        "measured_at",
        "metric",
        "value",
        "unit",
        "original_value",
        "original_unit",
        "device_serial",
    ]
    body = rows[1:]
    assert [r[1] for r in body] == [
        "heart_rate",
        "fall",
        "diastolic_bp",
        "systolic_bp",
        "heart_rate",
    ]
    first = body[0]
    expected = (setup["rows"]["hr1"].measured_at + timedelta(hours=8)).replace(tzinfo=None)
    assert first[0] == expected.isoformat() + "+08:00"  # Shanghai time
    assert first[2:] == ["72.0", "/min", "72.0", "bpm", "W-VITALS-1"]
    assert body[1][2] == ""  # an event has no value
    actions = {
        e.action for e in db.session.query(AuditEntry).filter_by(resident_id=setup["resident"].id)
    }
    assert "export" in actions


def test_the_csv_export_follows_the_range(setup, signed_in):
    client = signed_in(setup["resident_user"])
    week = client.get(f"/vitals/{setup['resident'].id}/export.csv").get_data(as_text=True)
    assert len(week.strip().splitlines()) == 1 + 6  # header, and all but the 40-day-old one


def test_many_points_are_downsampled():
    start = utcnow()
    points = [(start + timedelta(minutes=i), float(i % 10)) for i in range(30 * 24 * 60)]
    fewer = downsample(points)
    assert len(fewer) <= 300
    assert fewer[0][0] >= start
    assert fewer[-1][0] <= points[-1][0]
    assert all(0 <= v <= 9 for _, v in fewer)
    assert downsample(points[:5]) == points[:5]
