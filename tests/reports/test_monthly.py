"""The monthly review, generated through the API for last month on a town whose figures are
known by construction: its numbers are the board's (GET /api/v1/kpis/board for the same
period), the CSV holds them, and the PDF's text shows them formatted, in Chinese."""

import re
from datetime import timedelta

import pytest

from app.extensions import db
from app.followups.models import FollowUpStatus
from app.reports import monthly
from app.reports.models import Report
from tests.reports.conftest import CENTRE, csv_rows, noon, pdf_text, zh

TITLE = "Gaohang Town family-doctor contract services: monthly assessment report"


@pytest.fixture
def month():
    return monthly.last_month()


@pytest.fixture
def population(town, make_resident, make_contract, follow_up, month):
    """Seven residents registered long ago, four under contract (57.1%; 4 of 5 in 高行一队's
    committee), eight follow-ups due last month of which six were done in time (75.0%), and
    two the month before, both in time (100.0%)."""
    long_ago = noon(month.start - timedelta(days=400))
    east = [make_resident(neighbourhood=town["east"], created_at=long_ago) for _ in range(5)]
    for _ in range(2):  # in 高行二队's committee, unsigned
        make_resident(neighbourhood=town["west"], created_at=long_ago)
    one = town["one"]
    for resident in east[:4]:
        contract = make_contract(resident, one, one.lead)
        contract.active_from = contract.start_date = month.start - timedelta(days=90)
    for offset in range(8):
        due = month.start + timedelta(days=offset * 3)
        if offset < 6:
            follow_up(east[offset % 5], one, due, FollowUpStatus.DONE, done_at=noon(due))
        elif offset == 6:
            late = noon(due + timedelta(days=2))
            follow_up(east[1], one, due, FollowUpStatus.DONE, done_at=late)
        else:
            follow_up(east[2], one, due, FollowUpStatus.MISSED)
    before = month.previous_month()
    for offset in (2, 9):
        due = before.start + timedelta(days=offset)
        follow_up(east[0], one, due, FollowUpStatus.DONE, done_at=noon(due))
    db.session.flush()
    return town


def by_key(figures: list[dict]) -> dict:
    return {item["key"]: item for item in figures}


def test_the_monthly_review_shows_the_boards_numbers(client, api_token, population, month):
    headers = api_token(population["admin"])
    made = client.post("/api/v1/reports", json={"kind": "monthly_review"}, headers=headers)
    assert made.status_code == 201, made.get_json()
    report = made.get_json()
    assert report["period_start"] == month.start.isoformat()
    assert report["period_end"] == month.end.isoformat()
    assert report["trigger"] == "on_demand"
    assert report["mail_status"] == "not_sent"

    board = client.get(
        "/api/v1/kpis/board",
        query_string={"area": "town", "start": month.start, "end": month.end},
        headers=headers,
    ).get_json()
    figures = report["figures"]
    assert figures["figures"] == board["figures"]
    assert figures["score"] == board["score"]
    assert figures["rows"] == board["rows"]
    assert figures["trend"] == board["trend"]

    # ...and those are the numbers the town was built with.
    now = by_key(figures["figures"])
    assert (now["signing_rate"]["numerator"], now["signing_rate"]["denominator"]) == (4, 7)
    assert now["follow_ups_on_time"]["value"] == 0.75
    assert now["follow_ups_on_time"]["colour"] == "red"
    assert by_key(figures["previous"]["figures"])["follow_ups_on_time"]["value"] == 1.0
    assert by_key(figures["last_year"]["figures"])["follow_ups_on_time"]["value"] is None
    teams = {row["name"]: by_key(row["figures"]) for row in figures["rows"]}
    assert teams["高行一队"]["signing_rate"]["value"] == 0.8
    assert teams["高行二队"]["signing_rate"]["value"] == 0.0

    # The CSV holds them: one row per figure, the raw values.
    csv_response = client.get(report["csv_url"], headers=headers)
    assert csv_response.status_code == 200
    assert csv_response.mimetype == "text/csv"
    assert "monthly-review" in csv_response.headers["Content-Disposition"]
    rows = csv_rows(csv_response.get_data(as_text=True))
    found = {(row[0], row[1], row[2]): row for row in rows[1:]}
    town_row = found[("town", zh("Whole town"), "follow_ups_on_time")]
    assert float(town_row[5]) == 0.75
    assert town_row[6:8] == ["6", "8"]
    assert float(town_row[8]) == 1.0
    assert town_row[9] == ""
    signing = found[("town", zh("Whole town"), "signing_rate")]
    assert float(signing[5]) == 4 / 7
    assert float(found[("team", "高行一队", "signing_rate")][5]) == 0.8
    total = found[("score", zh("Whole town"), "total")]
    assert float(total[5]) == figures["score"]["points"]
    assert total[10] == "1000"

    # The PDF: the title, the period, the figures as the board formats them, in Chinese.
    pdf_response = client.get(report["pdf_url"], headers=headers)
    assert pdf_response.mimetype == "application/pdf"
    data = pdf_response.get_data()
    assert data == db.session.get(Report, report["id"]).pdf
    assert b"/FontFile2" in data  # the CJK TrueType font is embedded
    text = pdf_text(data)
    assert CENTRE in text
    assert zh(TITLE) in text
    assert zh("Period: %(start)s to %(end)s", start=month.start.isoformat(),
              end=month.end.isoformat()) in text  # fmt: skip
    for shown in ("57.1%", "75.0%", "100.0%", "80.0%", "高行一队", "东沟居委会"):
        assert shown in text, shown
    for numerator, denominator in ((4, 7), (6, 8)):  # what a share is made of
        assert re.search(rf"\b{numerator}\s*/\s*{denominator}\b", text)
    page_one = zh("Page %(page)s of %(pages)s", page=1, pages=text.count("\f"))
    assert re.sub(r"\s", "", page_one) in re.sub(r"\s", "", text)  # pdftotext drops CJK spaces
    assert f"{figures['score']['points']:.1f}" in text
