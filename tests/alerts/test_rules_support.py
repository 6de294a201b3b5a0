"""Fixtures and helpers for the alert-rule tests (test_rules*.py): a resident of team A with
a caregiver, an active contract with a district hospital that has a cardiology and an
endocrinology department, and a watch registered through the API; readings go in through
the real HTTP ingest with the device's token."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import OrganisationKind, Role
from app.alerts.models import ACTIVE_STATUSES, Alert
from app.contracts.models import Contract, ContractStatus, ServicePackage
from app.extensions import db
from app.timeutil import local_today, utcnow


@pytest.fixture(name="world")
def world_fixture(
    client, make_team, make_org, make_resident, make_resident_user, make_link, api_token
):
    team = make_team()
    hospital = make_org(OrganisationKind.DISTRICT_HOSPITAL, name="上海市第七人民医院")
    general = make_org(OrganisationKind.DEPARTMENT, parent=hospital, name="全科")
    cardiology = make_org(OrganisationKind.DEPARTMENT, parent=hospital, name="心内科")
    endocrine = make_org(OrganisationKind.DEPARTMENT, parent=hospital, name="内分泌科")
    resident = make_resident(neighbourhood=team.neighbourhoods[0])
    account = make_resident_user(resident)
    carer = make_link(resident).caregiver
    db.session.add(
        Contract(
            resident=resident,
            team=team,
            package=ServicePackage.ELDERLY,
            status=ContractStatus.ACTIVE,
            start_date=local_today(),
            end_date=local_today() + timedelta(days=365),
            active_from=local_today(),
            active_until=local_today() + timedelta(days=365),
            district_hospital_id=hospital.id,
            requested_by_id=account.id,
        )
    )
    db.session.flush()
    nurse = next(m.user for m in team.members if m.user.role == Role.NURSE)
    doctor = api_token(team.lead)
    w = {
        "team": team,
        "hospital": hospital,
        "general": general,
        "cardiology": cardiology,
        "endocrine": endocrine,
        "resident": resident,
        "carer": carer,
        "doctor": doctor,
        "nurse": api_token(nurse),
    }
    w["device"] = register_device(client, doctor, resident, "W-RULES-1")
    return w


def register_device(client, staff_headers, resident, serial, kind="watch") -> dict:
    response = client.post(
        "/api/v1/devices",
        json={"serial": serial, "kind": kind, "resident_id": resident.id},
        headers=staff_headers,
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    return {"id": body["id"], "auth": {"Authorization": f"Bearer {body['token']}"}}


def at(minutes_ago: float, base=None) -> str:
    return ((base or utcnow()) - timedelta(minutes=minutes_ago)).isoformat()


def reading(
    metric: str, value: float, minutes_ago: float = 0, unit: str | None = None, base=None
) -> dict:
    units = {
        "heart_rate": "/min",
        "respiratory_rate": "/min",
        "spo2": "%",
        "body_temperature": "Cel",
        "blood_glucose": "mmol/L",
    }
    return {
        "metric": metric,
        "value": value,
        "unit": unit or units[metric],
        "measured_at": at(minutes_ago, base),
    }


def bp(systolic: float, diastolic: float, minutes_ago: float = 0) -> dict:
    return {
        "metric": "blood_pressure",
        "systolic": systolic,
        "diastolic": diastolic,
        "unit": "mmHg",
        "measured_at": at(minutes_ago),
    }


def event(metric: str, minutes_ago: float = 0) -> dict:
    return {"metric": metric, "measured_at": at(minutes_ago)}


def every_minute(metric: str, value: float, start: int, end: int = 0) -> list[dict]:
    """One reading a minute from `start` minutes ago to `end` minutes ago (one clock)."""
    base = utcnow()
    return [reading(metric, value, m, base=base) for m in range(start, end - 1, -1)]


def push(client, device: dict, readings: list[dict], battery: int | None = None) -> dict:
    body = {"readings": readings} | ({"battery": battery} if battery is not None else {})
    response = client.post("/api/v1/ingest", json=body, headers=device["auth"])
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["rejected"] == [], answer
    return answer


def active_alerts(resident) -> dict[str, Alert]:
    query = sa.select(Alert).where(
        Alert.resident_id == resident.id, Alert.status.in_(ACTIVE_STATUSES)
    )
    return {alert.rule: alert for alert in db.session.scalars(query)}


def all_alerts(resident) -> list[Alert]:
    query = sa.select(Alert).where(Alert.resident_id == resident.id).order_by(Alert.id)
    return list(db.session.scalars(query))
