from app.scheduler import Job
from referral.lifecycle import escalate_unaccepted, flag_unacknowledged_returns

JOBS = [
    Job("referral.escalate_unaccepted", escalate_unaccepted, "interval", {"minutes": 5}),
    Job("referral.flag_unacknowledged_returns", flag_unacknowledged_returns, "cron", {"hour": 7}),
]
