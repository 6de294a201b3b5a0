"""Who is put under a schedule (plan_schedules), the yearly check of residents aged 65+
(plan_annual_checks), missed follow-ups (mark_missed), a remote follow-up video visit counting
toward the schedule, and the three jobs run by the scheduler."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app import scheduler
from app.contracts.models import ContractStatus
from app.contracts.services import current_contract
from app.extensions import db
from app.followups import schedule, services
from app.followups.models import FollowUp, FollowUpMode, FollowUpSource, FollowUpStatus
from app.followups.rules import RULES
from app.timeutil import born_on_or_before, local_today
from tests.followups.conftest import HT, T2D

TODAY = local_today()


def follow_ups(resident, **where) -> list[FollowUp]:
    query = sa.select(FollowUp).where(FollowUp.resident_id == resident.id)
    query = query.where(*(getattr(FollowUp, k) == v for k, v in where.items()))
    return list(db.session.scalars(query.order_by(FollowUp.id)))


def planned_for(world) -> dict[str, list[tuple[str, date]]]:
    keys = ("hyper", "diabetic", "both", "copd", "healthy", "unsigned", "expired")
    return {k: sorted((f.condition, f.due_date) for f in follow_ups(world[k])) for k in keys}


# --- plan_schedules -------------------------------------------------------------------------


def test_signed_residents_get_one_due_follow_up_per_condition(population):
    first = TODAY + timedelta(days=RULES["first_within_days"])
    assert schedule.plan_schedules(TODAY) == 4
    assert planned_for(population) == {
        "hyper": [("hypertension", first)],
        "diabetic": [("type2_diabetes", first)],
        "both": [("hypertension", first), ("type2_diabetes", first)],
        "copd": [],
        "healthy": [],
        "unsigned": [],
        "expired": [],
    }
    one = follow_ups(population["hyper"])[0]
    assert (one.status, one.source, one.source_id, one.team_id, one.mode) == (
        FollowUpStatus.DUE,
        FollowUpSource.CHRONIC_SCHEDULE,
        None,
        population["team"].id,
        RULES["regular_mode"],
    )
    assert one.purpose == schedule.purpose("first")


def test_a_second_run_plans_nothing_more(population):
    assert schedule.plan_schedules(TODAY) == 4
    before = planned_for(population)
    assert schedule.plan_schedules(TODAY) == 0
    assert schedule.plan_schedules(TODAY + timedelta(days=1)) == 0
    assert planned_for(population) == before


def test_a_due_one_already_planned_counts_and_a_closed_one_does_not(population):
    hyper, both = population["hyper"], population["both"]
    team = population["team"].id
    services.plan(hyper.id, team, TODAY, "by hand", FollowUpSource.MANUAL, condition="hypertension")
    cancelled = services.plan(
        both.id, team, TODAY, "by hand", FollowUpSource.MANUAL, condition="type2_diabetes"
    )
    services.close(cancelled, FollowUpStatus.CANCELLED, "moved away for a month")
    assert schedule.plan_schedules(TODAY) == 3  # diabetic, both x2 (the cancelled one is gone)
    assert len(follow_ups(hyper)) == 1
    assert sorted(f.condition for f in follow_ups(both, status=FollowUpStatus.DUE)) == [
        "hypertension",
        "type2_diabetes",
    ]


def test_an_expired_contract_plans_nothing(population):
    """Only `expired` and `unsigned` have hypertension without a contract in force."""
    assert schedule.plan_schedules(TODAY) == 4
    assert follow_ups(population["expired"]) == follow_ups(population["unsigned"]) == []


# --- plan_annual_checks ---------------------------------------------------------------------


@pytest.fixture
def elders(make_team, make_resident, sign):
    """Signed residents aged exactly 65 today, 64 (65 tomorrow) and 80; an unsigned one of 80."""
    team = make_team()
    exactly = born_on_or_before(65, TODAY)

    def resident(birth, signed=True):
        person = make_resident(neighbourhood=team.neighbourhoods[0], birth_date=birth)
        if signed:
            sign(person, team)
        return person

    return {
        "team": team,
        "at_65": resident(exactly),
        "at_64": resident(exactly + timedelta(days=1)),
        "at_80": resident(born_on_or_before(80, TODAY)),
        "unsigned_80": resident(born_on_or_before(80, TODAY), signed=False),
    }


def checks(resident) -> list[FollowUp]:
    return follow_ups(resident, source=FollowUpSource.ANNUAL_CHECK)


def test_aged_65_today_yes_64_no(elders):
    assert (elders["at_64"].age, elders["at_65"].age) == (64, 65)
    assert schedule.plan_annual_checks(TODAY) == 2
    due = min(TODAY + timedelta(days=30), date(TODAY.year, 12, 31))
    for key, expected in (("at_65", 1), ("at_80", 1), ("at_64", 0), ("unsigned_80", 0)):
        found = checks(elders[key])
        assert len(found) == expected, key
        for check in found:
            assert (check.status, check.due_date, check.condition) == (
                FollowUpStatus.DUE,
                due,
                None,
            )
            assert check.purpose == schedule.purpose("annual")
    assert schedule.plan_annual_checks(TODAY) == 0  # once a calendar year


@pytest.mark.parametrize(
    ("status", "planned"),
    [
        (FollowUpStatus.DONE, 0),
        (FollowUpStatus.MISSED, 0),
        (FollowUpStatus.DUE, 0),
        (FollowUpStatus.CANCELLED, 1),
    ],
)
def test_one_a_calendar_year(elders, status, planned):
    """One this year, done or missed or due, counts; a cancelled one does not."""
    elder, team = elders["at_80"], elders["team"]
    earlier = services.plan(
        elder.id, team.id, date(TODAY.year, 1, 2), "check", FollowUpSource.ANNUAL_CHECK
    )
    earlier.status = status
    other = elders["at_65"]  # last year's check does not count for this year
    services.plan(
        other.id, team.id, date(TODAY.year - 1, 12, 30), "check", FollowUpSource.ANNUAL_CHECK
    ).status = FollowUpStatus.DONE
    db.session.flush()
    assert schedule.plan_annual_checks(TODAY) == planned + 1
    assert len(checks(elder)) == 1 + planned
    assert len(checks(other)) == 2


def test_the_check_is_not_due_past_31_december(elders):
    december = date(TODAY.year, 12, 20)
    signed = ("at_65", "at_80", "at_64")
    for key in signed:
        contract = current_contract(elders[key].id)
        contract.active_from = date(TODAY.year, 1, 1)  # in force on 20 December, whatever today
        contract.active_until = date(TODAY.year + 1, 3, 1)
    db.session.flush()
    # `at_64` turns 65 tomorrow: by 20 December, unless today is 20 December or later
    aged = [k for k in signed if elders[k].birth_date <= born_on_or_before(65, december)]
    assert schedule.plan_annual_checks(december) == len(aged)
    found = [c for k in aged for c in checks(elders[k])]
    assert len(found) == len(aged)
    assert {c.due_date for c in found} == {date(TODAY.year, 12, 31)}


# --- mark_missed ----------------------------------------------------------------------------


def late(world, days, who="hyper", condition=HT, source=FollowUpSource.CHRONIC_SCHEDULE):
    return services.plan(
        world[who].id,
        world["team"].id,
        TODAY - timedelta(days=days),
        "late",
        source,
        condition=condition.value if condition else None,
    )


def test_overdue_follow_ups_stay_due_until_14_days_then_are_missed(population):
    overdue_13 = late(population, 13)
    overdue_14 = late(population, 14, "diabetic", T2D)
    overdue_15 = late(population, 15, "both", T2D)
    manual_20 = late(population, 20, "healthy", None, FollowUpSource.MANUAL)
    assert schedule.mark_missed(TODAY) == 2
    assert overdue_13.status == overdue_14.status == FollowUpStatus.DUE  # overdue, not missed
    for missed in (overdue_15, manual_20):
        assert missed.status == FollowUpStatus.MISSED
        assert missed.closed_reason == schedule.purpose_text(schedule.MISSED_REASON)
    nxt = db.session.get(FollowUp, overdue_15.next_id)
    assert (nxt.status, nxt.source, nxt.source_id, nxt.condition, nxt.due_date) == (
        FollowUpStatus.DUE,
        FollowUpSource.CHRONIC_SCHEDULE,
        overdue_15.id,
        "type2_diabetes",
        TODAY + timedelta(days=RULES["recheck_within_days"]),
    )
    assert nxt.purpose == schedule.purpose("missed")
    assert manual_20.next_id is None  # no schedule to go on with
    assert len(follow_ups(population["healthy"])) == 1
    # idempotent: a second run closes and plans nothing more
    count = db.session.scalar(sa.select(sa.func.count(FollowUp.id)))
    assert schedule.mark_missed(TODAY) == 0
    assert db.session.scalar(sa.select(sa.func.count(FollowUp.id))) == count


def test_a_missed_one_is_under_the_schedule_for_plan_schedules(population):
    """After a missed one the schedule has its next one due: nothing new is planned for it."""
    late(population, 15)
    schedule.mark_missed(TODAY)
    assert schedule.plan_schedules(TODAY) == 3  # diabetic, both x2: hyper has its next one
    assert [f.status for f in follow_ups(population["hyper"])] == [
        FollowUpStatus.MISSED,
        FollowUpStatus.DUE,
    ]


# --- the jobs, through the scheduler --------------------------------------------------------


def run(app, job_id):
    job = next(j for j in scheduler.all_jobs() if j.id == job_id)
    result = scheduler.run_job(app, job)
    db.session.expire_all()
    return result


def test_the_jobs_run_through_the_scheduler_and_commit(app, population, elders):
    overdue = late(population, 20)
    db.session.flush()
    assert run(app, "followups.mark_missed") == 1
    assert run(app, "followups.plan_schedules") == 3  # hyper has the missed one's successor
    assert run(app, "followups.plan_annual_checks") == 2
    # Each job's session is removed with its app context, which would roll back anything it
    # did not commit: what the test sees now, the jobs committed.
    assert db.session.get(FollowUp, overdue.id).status == FollowUpStatus.MISSED
    assert len(follow_ups(population["both"], status=FollowUpStatus.DUE)) == 2
    assert len(checks(elders["at_65"])) == 1
    for job_id in ("followups.mark_missed", "followups.plan_schedules"):
        assert run(app, job_id) == 0
    assert run(app, "followups.plan_annual_checks") == 0


# --- a remote follow-up video visit ---------------------------------------------------------


def chronic(clinic, condition: str, due, purpose: str) -> FollowUp:
    """A chronic-disease follow-up of the clinic's resident with its team."""
    return services.plan(
        clinic["resident"].id,
        clinic["team"].id,
        due,
        purpose,
        FollowUpSource.CHRONIC_SCHEDULE,
        condition=condition,
    )


def remote_visit_about_blood_pressure(client, clinic, booked, api_token):
    """A remote follow-up visit, joined by both, whose form finds the blood pressure not
    controlled, ended by the doctor; the visit as stored afterwards."""
    from telecall.models import VisitType
    from tests.telecall.test_call_api import DOCTOR, join, token_of, under_way

    visit = under_way(booked(visit_type=VisitType.REMOTE_FOLLOW_UP))
    join(client, token_of(visit))
    join(client, token_of(visit, DOCTOR))
    doctor = api_token(clinic["doctor"])
    form = {"condition": "hypertension", "systolic": 158, "diastolic": 97}
    form["classification"] = "unsatisfactory"
    saved = client.put(f"/api/v1/visits/{visit.id}/form", json=form, headers=doctor)
    assert saved.status_code == 200, saved.get_json()
    ended = client.post(f"/api/v1/visits/{visit.id}/end", headers=doctor)
    assert ended.status_code == 200, ended.get_json()
    db.session.refresh(visit)
    return visit


def test_a_remote_follow_up_visit_completes_the_due_one_and_plans_the_recheck(
    client, clinic, booked, api_token
):
    glucose = chronic(clinic, "type2_diabetes", TODAY, "t2d")
    pressure = chronic(clinic, "hypertension", TODAY + timedelta(days=5), "ht")
    visit = remote_visit_about_blood_pressure(client, clinic, booked, api_token)
    db.session.refresh(pressure)
    db.session.refresh(glucose)
    assert visit.follow_up_id == pressure.id
    assert (pressure.status, pressure.mode, pressure.classification, pressure.done_at) == (
        FollowUpStatus.DONE,
        FollowUpMode.VIDEO,
        "unsatisfactory",
        visit.ended_at,
    )
    assert pressure.form["systolic"] == 158
    recheck = db.session.get(FollowUp, pressure.next_id)
    assert (recheck.source, recheck.source_id, recheck.condition, recheck.status) == (
        FollowUpSource.CHRONIC_SCHEDULE,
        pressure.id,
        "hypertension",
        FollowUpStatus.DUE,
    )
    assert recheck.due_date == TODAY + timedelta(days=RULES["recheck_within_days"])
    assert glucose.status == FollowUpStatus.DUE  # the other condition's schedule is untouched


def test_a_missed_one_of_a_resident_no_longer_signed_ends_the_schedule(population):
    """The contract ended: the team's schedule for them stops (no chain of missed ones)."""
    left = late(population, 15, "expired")
    assert schedule.mark_missed(TODAY) == 1
    assert (left.status, left.next_id) == (FollowUpStatus.MISSED, None)
    assert follow_ups(population["expired"]) == [left]


def test_a_remote_follow_up_for_another_condition_leaves_the_due_one_alone(
    client, clinic, booked, api_token
):
    """Only a diabetes follow-up is due; a visit about blood pressure is recorded on its own
    (done by video, for hypertension) and plans the hypertension recheck."""
    glucose = chronic(clinic, "type2_diabetes", TODAY, "t2d")
    visit = remote_visit_about_blood_pressure(client, clinic, booked, api_token)
    db.session.refresh(glucose)
    assert glucose.status == FollowUpStatus.DUE
    done = db.session.get(FollowUp, visit.follow_up_id)
    assert (done.status, done.mode, done.condition, done.source) == (
        FollowUpStatus.DONE,
        FollowUpMode.VIDEO,
        "hypertension",
        FollowUpSource.MANUAL,
    )
    recheck = db.session.get(FollowUp, done.next_id)
    assert (recheck.condition, recheck.due_date) == ("hypertension", TODAY + timedelta(days=14))


def test_a_resident_who_changes_team_is_handed_over_to_the_new_teams_schedule(
    population, make_team, sign
):
    """The old team's due follow-up is cancelled with the reason, and the new team plans its
    own first one; a resident whose contract merely ended keeps no new schedule at all."""
    hyper = population["hyper"]
    assert schedule.plan_schedules(TODAY) == 4
    (old,) = follow_ups(hyper)
    contract = current_contract(hyper.id)
    contract.status = ContractStatus.TERMINATED  # ended yesterday: now signed with another team
    contract.active_until = TODAY
    db.session.flush()
    new_team = make_team()
    sign(hyper, new_team)
    assert schedule.plan_schedules(TODAY) == 1
    db.session.refresh(old)
    assert (old.status, old.closed_reason) == (
        FollowUpStatus.CANCELLED,
        schedule.purpose_text(schedule.HANDED_OVER_REASON),
    )
    (new,) = follow_ups(hyper, status=FollowUpStatus.DUE)
    assert (new.team_id, new.condition) == (new_team.id, "hypertension")
    others = [f for k in ("diabetic", "both") for f in follow_ups(population[k])]
    assert {f.status for f in others} == {FollowUpStatus.DUE}  # nobody else is touched
