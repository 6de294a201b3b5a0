"""The weekly check: follow-ups overdue, alerts open and referral loops open at the end of the
week, by team and for the town, each as it stood at the week's end (later changes do not
move it), in the figures, the CSV and the PDF's text."""

import re
from datetime import timedelta

import pytest
from flask_babel import force_locale

from app.alerts.models import Alert, AlertStatus, Severity
from app.extensions import db
from app.followups.models import FollowUpStatus
from app.reports import services, weekly
from app.reports.models import ReportKind, ReportTrigger
from app.timeutil import to_local, utcnow
from referral.models import Referral, ReferralReturn, ReferralStatus, Urgency
from tests.reports.conftest import CENTRE, csv_rows, noon, pdf_text, zh


@pytest.fixture
def week():
    return weekly.last_full_week()


@pytest.fixture
def residents(town, make_resident, make_contract, week):
    """r1 under contract with 高行一队 all week, r2 in team two's committee, r3 unsigned."""
    r1 = make_resident(neighbourhood=town["east"])
    r2 = make_resident(neighbourhood=town["west"])
    r3 = make_resident(neighbourhood=town["west"])
    for resident, team in ((r1, town["one"]), (r2, town["two"])):
        contract = make_contract(resident, team, team.lead)
        contract.active_from = contract.start_date = week.start - timedelta(days=60)
    db.session.flush()
    return r1, r2, r3


@pytest.fixture
def overdue(town, residents, follow_up, week):
    r1, r2, _ = residents
    end, one, two = week.end, town["one"], town["two"]
    follow_up(r1, one, end - timedelta(days=2))  # overdue
    follow_up(r1, one, end - timedelta(days=20))  # overdue, more than 14 days
    follow_up(r1, one, end - timedelta(days=1), FollowUpStatus.DONE, done_at=utcnow())  # late
    follow_up(r1, one, end - timedelta(days=3), FollowUpStatus.DONE, done_at=noon(end))  # in time
    follow_up(r1, one, end + timedelta(days=1))  # not due by the end
    follow_up(r1, one, end - timedelta(days=5), FollowUpStatus.CANCELLED)
    follow_up(r1, one, end - timedelta(days=4), created_at=utcnow())  # planned after the week
    follow_up(r2, two, end - timedelta(days=1))  # overdue, team two


def alert(resident, opened, status=AlertStatus.OPEN, **kw):
    item = Alert(
        resident_id=resident.id,
        rule=f"threshold:heart_rate:high:{opened.timestamp()}",  # one active alert per rule
        severity=Severity.HIGH,
        status=status,
        message="Heart rate %(value)s/min",
        params={"value": 131},
        opened_at=opened,
        last_evidence_at=opened,
        **kw,
    )
    db.session.add(item)
    return item


@pytest.fixture
def alerts(residents, week):
    r1, _r2, r3 = residents
    end = week.end
    alert(r1, noon(end - timedelta(days=3)))
    oldest = noon(end - timedelta(days=6))
    alert(r1, oldest, AlertStatus.ACKNOWLEDGED, acknowledged_at=noon(end - timedelta(days=5)))
    resolved = noon(end - timedelta(days=2))
    alert(r1, noon(end - timedelta(days=4)), AlertStatus.RESOLVED, resolved_at=resolved)
    alert(r1, noon(end - timedelta(days=2)), AlertStatus.RESOLVED, resolved_at=utcnow())
    alert(r1, utcnow())  # opened after the week
    alert(r3, noon(end - timedelta(days=1)))  # no contract: no team
    db.session.flush()
    return oldest


@pytest.fixture
def loops(town, residents, make_org, week):
    from app.accounts.models import OrganisationKind

    r1, r2, _ = residents
    hospital = make_org(OrganisationKind.DISTRICT_HOSPITAL, name="浦东区人民医院")
    department = make_org(OrganisationKind.DEPARTMENT, parent=hospital, name="心内科")
    end = week.end

    def referral(resident, team, status, accepted, returned=None, closed=None):
        item = Referral(
            resident_id=resident.id,
            team_id=team.id,
            hospital_id=hospital.id,
            department_id=department.id,
            urgency=Urgency.ROUTINE,
            status=status,
            reason="血压控制不佳",
            clinical_summary="随访两次不满意",
            sent_at=accepted - timedelta(days=1),
            accepted_at=accepted,
            closed_at=closed,
        )
        db.session.add(item)
        db.session.flush()
        if returned is not None:
            db.session.add(
                ReferralReturn(
                    referral_id=item.id,
                    discharge_summary="好转出院",
                    diagnoses="高血压",
                    care_plan="两周内随访",
                    returned_by_id=town["admin"].id,
                    returned_at=returned,
                )
            )
        return item

    day = lambda n: noon(end - timedelta(days=n))  # noqa: E731
    one, two, S = town["one"], town["two"], ReferralStatus
    referral(r1, one, S.ACCEPTED, day(3))  # open
    referral(r1, one, S.RETURNED, day(10), returned=day(2))  # open, returned
    referral(r1, one, S.CLOSED, day(12), returned=day(6), closed=day(1))  # closed in the week
    referral(r1, one, S.CLOSED, day(8), returned=day(4), closed=utcnow())  # closed after it
    referral(r1, one, S.ACCEPTED, utcnow())  # accepted after the week
    referral(r2, two, S.RETURN_ACCEPTED, day(9), returned=day(5))  # open, returned
    db.session.flush()


def test_the_weekly_check_counts_what_was_open_at_the_weeks_end(town, week, overdue, alerts, loops):
    report = services.generate(ReportKind.WEEKLY_CHECK, week, ReportTrigger.ON_DEMAND)
    figures = report.figures
    assert figures["period"] == {"start": week.start.isoformat(), "end": week.end.isoformat()}
    by_key = {part["key"]: part for part in figures["sections"]}
    assert list(by_key) == ["follow_ups", "alerts", "referrals"]

    def rows(key):
        return {row["team"]: row for row in by_key[key]["rows"]}

    follow_ups = rows("follow_ups")
    assert (follow_ups["高行一队"]["overdue"], follow_ups["高行一队"]["overdue_over_14_days"]) == (
        3,
        1,
    )
    assert (follow_ups["高行二队"]["overdue"], follow_ups["高行二队"]["overdue_over_14_days"]) == (
        1,
        0,
    )
    assert by_key["follow_ups"]["town"] == {"overdue": 4, "overdue_over_14_days": 1}

    open_alerts = rows("alerts")
    assert open_alerts["高行一队"]["open_alerts"] == 3
    assert open_alerts["高行一队"]["oldest_opened_at"] == alerts.isoformat()
    assert open_alerts["高行二队"] == {
        "team_id": town["two"].id, "team": "高行二队", "open_alerts": 0, "oldest_opened_at": None
    }  # fmt: skip
    assert open_alerts[None]["open_alerts"] == 1  # the resident without a contract
    assert by_key["alerts"]["town"] == {"open_alerts": 4, "oldest_opened_at": alerts.isoformat()}

    referrals = rows("referrals")
    assert (referrals["高行一队"]["open_loops"], referrals["高行一队"]["returned_not_closed"]) == (
        3,
        2,
    )
    assert (referrals["高行二队"]["open_loops"], referrals["高行二队"]["returned_not_closed"]) == (
        1,
        1,
    )
    assert by_key["referrals"]["town"] == {"open_loops": 4, "returned_not_closed": 3}

    # The PDF says the same, team by team, under the centre's name and the title.
    text = pdf_text(report.pdf)
    assert CENTRE in text
    assert zh("Gaohang Town family-doctor services: weekly work check") in text
    assert week.start.isoformat() in text
    assert week.end.isoformat() in text
    lines = [line.split() for line in text.splitlines() if line.strip().startswith("高行一队")]
    assert lines[0][1:] == ["3", "1"]
    assert lines[1][1:] == ["3", *f"{to_local(alerts):%Y-%m-%d %H:%M}".split()]
    assert lines[2][1:] == ["3", "2"]
    town_lines = [line.split() for line in text.splitlines() if zh("Whole town") in line]
    assert [line[-2:] for line in town_lines][0] == ["4", "1"]
    assert re.search(rf"{zh('No contract team')}\s+1\s", text)

    # And the CSV, one row per figure.
    rows_ = csv_rows(report.csv)
    found = {(row[0], row[1], row[2]): row[5] for row in rows_[1:]}
    assert found[("follow_ups", "高行一队", "overdue")] == "3"
    assert found[("referrals", zh("Whole town"), "returned_not_closed")] == "3"
    assert found[("alerts", "高行二队", "oldest_opened_at")] == ""


def test_a_week_with_nothing_open_reads_zero_for_every_team(town, week):
    with force_locale("zh_CN"):
        content = weekly.check(week)
    assert len(content["sections"]) == 3
    for part in content["sections"]:
        assert {row["team"] for row in part["rows"]} == {"高行一队", "高行二队"}
        for key, value in part["town"].items():
            assert value == (None if key == "oldest_opened_at" else 0)


def test_the_last_full_week_runs_monday_to_sunday():
    from datetime import date

    assert weekly.last_full_week(date(2026, 3, 9)) == weekly.Period(
        date(2026, 3, 2), date(2026, 3, 8)
    )
    assert weekly.last_full_week(date(2026, 3, 15)) == weekly.Period(
        date(2026, 3, 2), date(2026, 3, 8)
    )
