"""The follow-up rules, as data. Source: 国家基本公共卫生服务规范（第三版）(National Basic
Public Health Service Standards, 3rd edition, National Health Commission, 2017): 高血压患者
健康管理服务规范 and 2型糖尿病患者健康管理服务规范, and 老年人健康管理服务规范. docs/FOLLOWUPS.md
quotes the rules and says how each is read here.

`next_step` turns a follow-up's classification, and the classification of the one before it,
into what comes next; the services carry it out. Nothing else in the code knows the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.followups.models import Classification, FollowUpMode

# The conditions with a chronic-disease schedule, as the register names them.
SCHEDULED_CONDITIONS = ("hypertension", "type2_diabetes")

RULES = {
    # "at least 4 face-to-face follow-ups a year": one a quarter after a satisfactory one
    "regular_interval_days": 90,
    # "first unsatisfactory control, or a drug side effect: recheck within 2 weeks"
    "recheck_within_days": 14,
    # "two unsatisfactory in a row, or new or worse complications: refer, and follow up
    # within 2 weeks of the referral"
    "after_referral_within_days": 14,
    # the first contact of a resident newly under the schedule
    "first_within_days": 14,
    # a due follow-up not done this many days after its due date is missed; the schedule
    # plans the next one within `recheck_within_days`
    "missed_after_days": 14,
    # "residents aged 65 and over: one health-management visit a year"
    "annual_check_age": 65,
    # the first annual check of a resident who has none this year is due within
    "annual_check_within_days": 30,
    "regular_mode": FollowUpMode.CLINIC,  # face-to-face; the team may choose home instead
}


@dataclass(frozen=True)
class NextStep:
    due_in_days: int
    refer: bool  # draft a referral before the next contact
    why: str  # the rule's key, kept with the next follow-up's purpose


def next_step(this: Classification, before: Classification | None) -> NextStep:
    """What a chronic-disease follow-up classified `this` leads to."""
    if this == Classification.COMPLICATIONS:
        return NextStep(RULES["after_referral_within_days"], True, "complications")
    if this == Classification.UNSATISFACTORY and before == Classification.UNSATISFACTORY:
        return NextStep(RULES["after_referral_within_days"], True, "unsatisfactory_twice")
    if this in (Classification.UNSATISFACTORY, Classification.SIDE_EFFECTS):
        return NextStep(RULES["recheck_within_days"], False, this.value)
    return NextStep(RULES["regular_interval_days"], False, "satisfactory")
