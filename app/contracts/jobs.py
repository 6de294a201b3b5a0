from app.contracts.lifecycle import mark_expiring_and_expired, remind_before_end
from app.scheduler import Job

# Just after midnight in Shanghai: states first, then reminders.
JOBS = [
    Job(
        "contracts.mark_expiring_and_expired",
        mark_expiring_and_expired,
        "cron",
        {"hour": 0, "minute": 10},
    ),
    Job("contracts.remind_before_end", remind_before_end, "cron", {"hour": 8, "minute": 30}),
]
