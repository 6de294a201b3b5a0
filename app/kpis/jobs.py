"""The KPIs' scheduled job: every night, store the closed months' figures the trend charts
read (app/kpis/board.py, snapshot_closed_months). Reports have their own jobs
(app/reports/jobs.py)."""

from app.kpis import board
from app.scheduler import Job

JOBS = [
    Job("kpis.snapshot", board.snapshot_closed_months, "cron", {"hour": 2, "minute": 0}),
]
