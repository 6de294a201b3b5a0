"""The alerts' scheduled jobs: climb the escalation ladder, and send the outbox.

Both keep their state in the database only (next_step_at; the deliveries' status and
next_attempt_at), so a restarted scheduler carries on where it stopped: what fell due while
it was down is done on its first run, and nothing done already is done again.
"""

from app.alerts import delivery, services
from app.scheduler import Job

JOBS = [
    Job("alerts.escalate", services.escalate_due, "interval", {"seconds": 15}),
    Job("alerts.deliver", delivery.deliver_due, "interval", {"seconds": 10}),
]
