"""A year of chronic-disease follow-ups for the demo's signed residents with hypertension or
diabetes, recorded through the same service a doctor uses, so the follow-up history, the KPI
board's control rates and its on-time figures have months to show on a first look.

Each chain starts about eleven months ago; each result plans the next contact by the rules
(90 days after a satisfactory one, 14 after an unsatisfactory one), and the next one is done
on its due date, one of them three days late; the chain stops before today, leaving its last
planned contact due."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from app.accounts.models import User
from app.extensions import db
from app.followups import schedule, services
from app.followups.models import FollowUp, FollowUpMode, FollowUpSource
from app.timeutil import LOCAL_TZ, local_today

# per condition: (classification, systolic, diastolic, fasting glucose), a cycle with no two
# unsatisfactory results in a row (that would draft a referral)
RESULTS = {
    "hypertension": [
        ("satisfactory", 136, 84, None),
        ("unsatisfactory", 156, 96, None),
        ("satisfactory", 138, 86, None),
        ("satisfactory", 132, 82, None),
        ("satisfactory", 134, 80, None),
    ],
    "type2_diabetes": [
        ("unsatisfactory", 128, 80, 8.9),
        ("satisfactory", 126, 78, 6.8),
        ("satisfactory", 130, 80, 6.5),
        ("unsatisfactory", 132, 82, 7.9),
        ("satisfactory", 128, 80, 6.9),
    ],
}
LATE_DAYS = 3  # the third contact of each chain was done this late


def _form(condition: str, result: tuple) -> dict:
    classification, systolic, diastolic, glucose = result
    form = {
        "condition": condition,
        "symptoms": ["none"],
        "systolic": systolic,
        "diastolic": diastolic,
        "heart_rate": 74,
        "weight_kg": 62.0,
        "salt_intake": "moderate",
        "medication_adherence": "regular",
        "side_effects": False,
        "classification": classification,
    }
    if glucose is not None:
        form["fasting_glucose"] = glucose
    return form


def _at_ten(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=LOCAL_TZ).astimezone(UTC)


def chain(resident_id: int, team_id: int, condition: str, doctor: User) -> int:
    """Record the chain for one resident and condition; returns the contacts recorded."""
    today = local_today()
    due = today - timedelta(days=330)
    follow_up = services.plan(
        resident_id,
        team_id,
        due,
        schedule.purpose("first"),
        FollowUpSource.CHRONIC_SCHEDULE,
        condition=condition,
    )
    done = 0
    while True:
        day = follow_up.due_date + timedelta(days=LATE_DAYS if done == 2 else 0)
        if day >= today - timedelta(days=7):
            return done
        results = RESULTS[condition]  # each resident starts at another place in the cycle
        result = results[(done + resident_id) % len(results)]
        services.complete(
            follow_up, doctor, FollowUpMode.CLINIC, _at_ten(day), form=_form(condition, result)
        )
        done += 1
        follow_up = db.session.get(FollowUp, follow_up.next_id)


def seed_history(signed: list[tuple[int, User, list[str]]]) -> int:
    """`signed`: (resident id, the team's doctor, conditions) of the demo's signed residents,
    followed up by the doctor's (first) team; nothing is recorded for a resident who already
    has follow-ups."""
    recorded = 0
    for resident_id, doctor, conditions in signed:
        has_any = sa.select(FollowUp.id).where(FollowUp.resident_id == resident_id).limit(1)
        if db.session.scalar(has_any) is not None:
            continue
        team_id = doctor.memberships[0].team_id
        for condition in conditions:
            if condition in RESULTS:
                recorded += chain(resident_id, team_id, condition, doctor)
    db.session.flush()
    return recorded
