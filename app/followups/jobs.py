"""The follow-up rules' scheduled jobs (app/followups/schedule.py). Each is idempotent: a run
plans only what is not planned yet and closes only what is still due."""

from app.followups import schedule
from app.scheduler import Job

JOBS = [
    Job("followups.plan_schedules", schedule.plan_schedules, "cron", {"hour": 1, "minute": 0}),
    Job(
        "followups.plan_annual_checks",
        schedule.plan_annual_checks,
        "cron",
        {"hour": 1, "minute": 10},
    ),
    Job("followups.mark_missed", schedule.mark_missed, "cron", {"hour": 1, "minute": 20}),
]
