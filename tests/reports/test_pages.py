"""The administrators' reports page: the list with its downloads and mail status, the form
that makes a report now (CSRF, a refused period shown next to its field), the nav link; and
nobody else may open it."""

from datetime import timedelta

import sqlalchemy as sa

from app.accounts.models import Role
from app.extensions import db
from app.reports.models import Report
from app.timeutil import local_today
from tests.conftest import post_form, sign_in


def test_an_administrator_makes_a_report_and_downloads_it(client, signed_in, town):
    signed_in(town["admin"])
    page = client.get("/reports")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="csrf_token"' in html
    main_nav = html.split("<nav", 1)[1].split("</nav>", 1)[0]
    assert 'href="/reports"' in main_nav
    start, end = local_today() - timedelta(days=7), local_today() - timedelta(days=1)
    made = post_form(
        client,
        "/reports",
        {"kind": "weekly_check", "start": start.isoformat(), "end": end.isoformat(),
         "locale": "zh"},
    )  # fmt: skip
    assert made.status_code == 303
    report = db.session.scalars(sa.select(Report)).one()
    assert report.generated_by_id == town["admin"].id
    listed = client.get(made.headers["Location"]).get_data(as_text=True)
    assert report.title in listed
    assert f"/reports/{report.id}.pdf" in listed
    assert f"/reports/{report.id}.csv" in listed
    assert town["admin"].display_name in listed
    pdf = client.get(f"/reports/{report.id}.pdf")
    assert pdf.mimetype == "application/pdf"
    assert pdf.get_data() == report.pdf
    assert "attachment" in pdf.headers["Content-Disposition"]
    csv = client.get(f"/reports/{report.id}.csv")
    assert csv.get_data(as_text=True) == report.csv


def test_a_refused_period_comes_back_with_the_reason_by_its_field(client, signed_in, town):
    signed_in(town["admin"])
    refused = post_form(
        client, "/reports", {"kind": "weekly_check", "start": "2026-03-09", "end": "2026-03-02"}
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'id="start-error"' in html
    only_one = post_form(client, "/reports", {"kind": "monthly_review", "start": "2026-03-01"})
    assert only_one.status_code == 422
    assert 'id="end-error"' in only_one.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Report.id))) == 0
    no_token = client.post("/reports", data={"kind": "weekly_check"})
    assert no_token.status_code in (400, 422)
    assert db.session.scalar(sa.select(sa.func.count(Report.id))) == 0


def test_no_one_but_administrators_opens_the_reports_page(app, client, town, make_user):
    sign_in(client, town["one"].lead)
    assert client.get("/reports").status_code == 403
    assert client.get("/reports/1.pdf").status_code == 403
    assert 'href="/reports"' not in client.get("/home").get_data(as_text=True)
    nurse = app.test_client()
    sign_in(nurse, make_user(Role.NURSE))
    assert nurse.get("/reports/1.csv").status_code == 403
    assert app.test_client().get("/reports").status_code == 302  # to the sign-in page
