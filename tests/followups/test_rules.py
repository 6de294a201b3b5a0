"""The follow-up rules (app/followups/rules.py) and each classification's path end to end:
a chronic-disease follow-up recorded with the national form (services.complete) plans the
next contact, and, where the rules say so, a system-drafted referral."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit.models import Event
from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.followups import schedule, services
from app.followups.models import (
    Classification,
    FollowUp,
    FollowUpMode,
    FollowUpSource,
    FollowUpStatus,
)
from app.followups.rules import RULES, next_step
from app.timeutil import local_today
from referral.models import Referral, ReferralSource, ReferralStatus
from tests.followups.conftest import HT, T2D, UNDER_65, a_form, at_local_noon

C = Classification
SAT, UNSAT, SIDE, COMP = C.SATISFACTORY, C.UNSATISFACTORY, C.SIDE_EFFECTS, C.COMPLICATIONS
BEFORE = (None, SAT, UNSAT, SIDE, COMP)
# (this, before) -> (due in days, refer, why); the standard's numbers written out by hand.
EXPECTED = {
    **{(SAT, b): (90, False, "satisfactory") for b in BEFORE},
    **{(SIDE, b): (14, False, "side_effects") for b in BEFORE},
    **{(COMP, b): (14, True, "complications") for b in BEFORE},
    **{(UNSAT, b): (14, False, "unsatisfactory") for b in BEFORE if b != UNSAT},
    (UNSAT, UNSAT): (14, True, "unsatisfactory_twice"),
}


def test_the_table_covers_every_pair():
    assert len(EXPECTED) == len(C) * len(BEFORE) == 20


@pytest.mark.parametrize(("this", "before"), list(EXPECTED), ids=lambda c: str(c))
def test_next_step(this, before):
    step = next_step(this, before)
    assert (step.due_in_days, step.refer, step.why) == EXPECTED[this, before]
    assert step.why in schedule.PURPOSES  # every outcome has a purpose to plan with


# --- end to end through services.complete -----------------------------------------------


def due_one(world, who="hyper", condition=HT, days=0, source=FollowUpSource.CHRONIC_SCHEDULE):
    return services.plan(
        world[who].id,
        world["team"].id,
        local_today() + timedelta(days=days),
        "chronic",
        source,
        condition=condition.value if condition else None,
    )


def record(world, follow_up, classification, day=None, condition="hypertension"):
    """Record the contact on `day` (today by default) with a form classified so."""
    day = day or local_today()
    done_at = at_local_noon(day)
    form = a_form(classification, condition)
    services.complete(follow_up, world["doctor"], FollowUpMode.CLINIC, done_at, form=form)
    db.session.flush()
    return db.session.get(FollowUp, follow_up.next_id) if follow_up.next_id else None


def assert_next(follow_up, nxt, days, purpose_key):
    assert nxt is not None
    assert follow_up.next_id == nxt.id
    assert (nxt.status, nxt.source, nxt.source_id) == (
        FollowUpStatus.DUE,
        FollowUpSource.CHRONIC_SCHEDULE,
        follow_up.id,
    )
    assert (nxt.resident_id, nxt.team_id, nxt.condition) == (
        follow_up.resident_id,
        follow_up.team_id,
        follow_up.condition,
    )
    assert nxt.mode == RULES["regular_mode"]
    assert nxt.due_date == local_today() + timedelta(days=days)
    assert nxt.purpose == schedule.purpose(purpose_key)


def referrals_of(resident) -> list[Referral]:
    return list(db.session.scalars(sa.select(Referral).where(Referral.resident_id == resident.id)))


def events(follow_up, name) -> list[Event]:
    query = sa.select(Event).where(
        Event.entity_type == "follow_up", Event.entity_id == follow_up.id, Event.name == name
    )
    return list(db.session.scalars(query))


def test_satisfactory_plans_the_regular_one_90_days_on(population):
    first = due_one(population)
    nxt = record(population, first, "satisfactory")
    assert (first.status, first.classification) == (FollowUpStatus.DONE, SAT)
    assert first.done_by_id == population["doctor"].id
    assert (first.form["systolic"], first.form["classification"]) == (152, "satisfactory")
    assert_next(first, nxt, 90, "satisfactory")
    assert (first.referral_id, referrals_of(population["hyper"])) == (None, [])
    [planned] = events(first, "follow_up.next_planned")
    assert planned.data == {"rule": "satisfactory", "next_id": nxt.id, "referral_id": None}


@pytest.mark.parametrize("classification", ["unsatisfactory", "side_effects"])
def test_first_unsatisfactory_or_side_effects_rechecks_within_14_days(population, classification):
    first = due_one(population)
    nxt = record(population, first, classification)
    assert_next(first, nxt, 14, classification)
    assert (first.referral_id, referrals_of(population["hyper"])) == (None, [])


def test_a_satisfactory_one_between_breaks_the_run(population):
    one = due_one(population)
    two = record(population, one, "unsatisfactory")
    three = record(population, two, "satisfactory")
    four = record(population, three, "unsatisfactory", day=local_today())
    assert_next(three, four, 14, "unsatisfactory")
    assert referrals_of(population["hyper"]) == []


def assert_drafted(world, follow_up, who, specialty):
    [referral] = referrals_of(world[who])
    assert follow_up.referral_id == referral.id
    assert (referral.status, referral.source, referral.referring_doctor_id) == (
        ReferralStatus.DRAFT,
        ReferralSource.SYSTEM,
        None,
    )
    assert (referral.team_id, referral.hospital_id, referral.department_id) == (
        world["team"].id,
        world["district"].id,
        world["departments"][specialty].id,
    )
    assert referral.other_hospital_reason is None  # the hospital the resident signed with
    assert local_today().isoformat() in referral.clinical_summary


@pytest.mark.parametrize(
    ("who", "condition", "specialty"),
    [("hyper", HT, "cardiology"), ("diabetic", T2D, "endocrinology")],
)
def test_two_unsatisfactory_in_a_row_draft_a_referral(population, who, condition, specialty):
    first = due_one(population, who, condition)
    recheck = record(population, first, "unsatisfactory", condition=condition.value)
    assert first.referral_id is None
    after = record(population, recheck, "unsatisfactory", condition=condition.value)
    assert_drafted(population, recheck, who, specialty)
    assert_next(recheck, after, 14, "unsatisfactory_twice")
    [planned] = events(recheck, "follow_up.next_planned")
    assert planned.data["referral_id"] == recheck.referral_id


@pytest.mark.parametrize(
    ("who", "condition", "specialty"),
    [("hyper", HT, "cardiology"), ("diabetic", T2D, "endocrinology")],
)
def test_complications_draft_a_referral_at_once(population, who, condition, specialty):
    first = due_one(population, who, condition)
    nxt = record(population, first, "complications", condition=condition.value)
    assert_drafted(population, first, who, specialty)
    assert_next(first, nxt, 14, "complications")


def test_the_conditions_of_one_resident_are_counted_apart(population):
    """A diabetes follow-up not controlled after a hypertension one not controlled is a first."""
    blood_pressure = due_one(population, "both", HT)
    glucose = due_one(population, "both", T2D)
    record(population, blood_pressure, "unsatisfactory")
    nxt = record(population, glucose, "unsatisfactory", condition="type2_diabetes")
    assert_next(glucose, nxt, 14, "unsatisfactory")
    assert referrals_of(population["both"]) == []


def test_the_next_one_counts_from_the_day_it_was_done(population):
    first = due_one(population, days=-5)
    done_on = local_today() - timedelta(days=3)
    nxt = record(population, first, "satisfactory", day=done_on)
    assert nxt.due_date == done_on + timedelta(days=90)


@pytest.fixture
def nowhere(make_team, make_resident, make_org, sign):
    """A resident signed with a district hospital that has no department (and none else)."""
    from app.accounts.models import OrganisationKind

    team = make_team()
    district = make_org(OrganisationKind.DISTRICT_HOSPITAL)
    resident = make_resident(
        neighbourhood=team.neighbourhoods[0], birth_date=UNDER_65, conditions=(HT,)
    )
    sign(resident, team, district)
    return {"team": team, "doctor": team.lead, "hyper": resident}


@pytest.mark.parametrize("classification", ["complications", "twice"])
def test_no_department_anywhere_plans_the_follow_up_all_the_same(nowhere, classification):
    follow_up = due_one(nowhere)
    if classification == "twice":
        follow_up = record(nowhere, follow_up, "unsatisfactory")
        classification = "unsatisfactory"
    nxt = record(nowhere, follow_up, classification)
    assert (follow_up.referral_id, referrals_of(nowhere["hyper"])) == (None, [])
    [why] = events(follow_up, "follow_up.referral_not_drafted")
    assert why.reason == "no hospital department to refer to"
    key = "complications" if classification == "complications" else "unsatisfactory_twice"
    assert_next(follow_up, nxt, 14, key)


def test_a_signed_hospital_without_departments_falls_back_to_one_with_them(
    hospital, make_team, make_resident, make_org, sign
):
    """The resident's district hospital has no department registered yet: the draft goes to
    the town's district hospital that has cardiology, saying why it is another hospital."""
    from app.accounts.models import OrganisationKind

    district, departments = hospital  # made first: the first district hospital
    team = make_team()
    empty = make_org(OrganisationKind.DISTRICT_HOSPITAL)
    resident = make_resident(
        neighbourhood=team.neighbourhoods[0], birth_date=UNDER_65, conditions=(HT,)
    )
    sign(resident, team, empty)
    world = {"team": team, "doctor": team.lead, "hyper": resident}
    first = due_one(world)
    record(world, first, "complications")
    [referral] = referrals_of(resident)
    assert (referral.hospital_id, referral.department_id) == (
        district.id,
        departments["cardiology"].id,
    )
    assert referral.other_hospital_reason


def test_a_follow_up_without_a_condition_leads_nowhere(population):
    """A referral's return follow-up recorded with a form plans nothing by the schedule."""
    follow_up = due_one(population, condition=None, source=FollowUpSource.REFERRAL_RETURN)
    assert record(population, follow_up, "complications") is None
    assert (follow_up.status, follow_up.classification) == (FollowUpStatus.DONE, COMP)
    assert (follow_up.referral_id, referrals_of(population["hyper"])) == (None, [])


def test_only_a_due_follow_up_is_recorded(population):
    follow_up = due_one(population)
    record(population, follow_up, "satisfactory")
    with pytest.raises(Conflict):
        record(population, follow_up, "satisfactory")
    planned = db.session.scalars(
        sa.select(FollowUp).where(FollowUp.resident_id == population["hyper"].id)
    ).all()
    assert len(planned) == 2  # the one recorded and its single successor


def test_a_form_for_another_condition_is_refused(population):
    blood_pressure = due_one(population, "both", HT)
    with pytest.raises(InvalidInput) as refused:
        record(population, blood_pressure, "satisfactory", condition="type2_diabetes")
    assert refused.value.field == "condition"
    assert (blood_pressure.status, blood_pressure.next_id) == (FollowUpStatus.DUE, None)
