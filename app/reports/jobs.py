"""The reports' scheduled jobs (the scheduler's timezone is Asia/Shanghai): the weekly check
on Monday morning for the week just ended, the monthly review on the 1st for last month,
each made once per period; and the mail of scheduled reports, every minute."""

from app.reports import mail, monthly, services, weekly
from app.reports.models import ReportKind
from app.scheduler import Job


def weekly_check() -> dict:
    report = services.generate_scheduled(ReportKind.WEEKLY_CHECK, weekly.last_full_week())
    return {"generated": report.id if report else None}


def monthly_review() -> dict:
    report = services.generate_scheduled(ReportKind.MONTHLY_REVIEW, monthly.last_month())
    return {"generated": report.id if report else None}


JOBS = [
    Job("reports.weekly", weekly_check, "cron", {"day_of_week": "mon", "hour": 7, "minute": 0}),
    Job("reports.monthly", monthly_review, "cron", {"day": 1, "hour": 7, "minute": 30}),
    Job("reports.deliver", mail.deliver_due, "interval", {"minutes": 1}),
]
