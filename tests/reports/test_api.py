"""The reports API: administrators list, generate on demand for any period (in Chinese or
English), read and download; bad input is refused naming the field; nobody else gets in."""

from datetime import date, timedelta

import pytest

from app.accounts.models import Role
from app.audit.services import history
from app.reports import weekly
from app.timeutil import local_today
from tests.reports.conftest import pdf_text


def test_a_report_on_demand_for_any_period_and_its_downloads(
    app, client, api_token, town, monkeypatch
):
    monkeypatch.setitem(app.config, "REPORT_RECIPIENTS", ["office@gaohang.example"])
    headers = api_token(town["admin"])
    start, end = local_today() - timedelta(days=10), local_today() - timedelta(days=1)
    made = client.post(
        "/api/v1/reports",
        json={"kind": "weekly_check", "start": start.isoformat(), "end": end.isoformat(),
              "locale": "en"},
        headers=headers,
    )  # fmt: skip
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert (body["period_start"], body["period_end"]) == (start.isoformat(), end.isoformat())
    assert body["trigger"] == "on_demand"
    assert body["generated_by_id"] == town["admin"].id
    assert body["mail_status"] == "not_sent"  # only scheduled reports are e-mailed
    assert body["locale"] == "en"
    assert body["title"] == "Gaohang Town family-doctor services: weekly work check"
    assert [part["key"] for part in body["figures"]["sections"]] == [
        "follow_ups", "alerts", "referrals"
    ]  # fmt: skip
    events = history("report", body["id"])
    assert [(e.name, e.actor_id) for e in events] == [("report.generated", town["admin"].id)]

    listed = client.get("/api/v1/reports?kind=weekly_check", headers=headers)
    assert [item["id"] for item in listed.get_json()] == [body["id"]]
    assert "figures" not in listed.get_json()[0]
    assert listed.headers["X-Pagination"]
    assert client.get("/api/v1/reports?kind=monthly_review", headers=headers).get_json() == []
    one = client.get(f"/api/v1/reports/{body['id']}", headers=headers).get_json()
    assert one["figures"] == body["figures"]

    pdf = client.get(f"/api/v1/reports/{body['id']}.pdf", headers=headers)
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"] == (
        f'attachment; filename="kangyang-weekly-check-{start}-{end}.pdf"'
    )
    text = pdf_text(pdf.get_data())
    assert "Whole town" in text
    assert "Page 1 of 1" in text
    assert "高行一队" in text
    csv = client.get(f"/api/v1/reports/{body['id']}.csv", headers=headers)
    assert csv.mimetype == "text/csv"
    assert csv.get_data().startswith("\ufeff".encode())
    assert csv.get_data(as_text=True).splitlines()[0].lstrip("\ufeff").startswith("Section,Area")
    assert client.get("/api/v1/reports/999999.pdf", headers=headers).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "kind"),
        ({"kind": "daily"}, "kind"),
        ({"kind": "weekly_check", "start": "2026-03-02"}, "end"),
        ({"kind": "weekly_check", "end": "2026-03-08"}, "start"),
        ({"kind": "weekly_check", "start": "2026-03-09", "end": "2026-03-08"}, "start"),
        ({"kind": "weekly_check", "start": "2026-03-02", "end": "not a date"}, "end"),
        ({"kind": "monthly_review", "locale": "fr"}, "locale"),
        ({"kind": "monthly_review", "area": "team"}, "area"),
        ({"kind": "weekly_check", "start": "2020-01-01", "end": "2024-01-01"}, "start"),
    ],
)
def test_bad_input_is_refused_naming_the_field(client, api_token, town, body, field):
    response = client.post("/api/v1/reports", json=body, headers=api_token(town["admin"]))
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["json"]


def test_a_period_that_has_not_ended_is_refused(client, api_token, town):
    tomorrow = local_today() + timedelta(days=1)
    response = client.post(
        "/api/v1/reports",
        json={"kind": "weekly_check", "start": date(2026, 1, 1).isoformat(),
              "end": tomorrow.isoformat()},
        headers=api_token(town["admin"]),
    )  # fmt: skip
    assert response.status_code == 422
    assert list(response.get_json()["errors"]["json"]) == ["end"]


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.NURSE, Role.SPECIALIST, Role.RESIDENT])
def test_only_administrators_may_use_reports(client, api_token, make_user, town, role):
    from app.reports import services
    from app.reports.models import ReportKind, ReportTrigger

    report = services.generate(
        ReportKind.WEEKLY_CHECK, weekly.last_full_week(), ReportTrigger.ON_DEMAND
    )
    headers = api_token(make_user(role))
    assert client.get("/api/v1/reports", headers=headers).status_code == 403
    posted = client.post("/api/v1/reports", json={"kind": "weekly_check"}, headers=headers)
    assert posted.status_code == 403
    for suffix in ("", ".pdf", ".csv"):
        assert (
            client.get(f"/api/v1/reports/{report.id}{suffix}", headers=headers).status_code == 403
        )
    assert client.get("/api/v1/reports").status_code == 401
