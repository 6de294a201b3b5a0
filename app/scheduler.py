"""The scheduler: exactly one per deployment (APScheduler's job store cannot be shared).

On the embedded default it is a thread of `flask serve`; in production `flask scheduler`
runs it as its own process. Jobs have fixed ids and push their own app context.
"""

import importlib
import logging
from dataclasses import dataclass, field

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from app.extensions import db

log = logging.getLogger(__name__)

# Each feature's jobs module lists its jobs in JOBS.
JOB_MODULES = (
    "app.auth.jobs",
    "app.residents.jobs",
    "app.contracts.jobs",
    "app.followups.jobs",
    "referral.jobs",
    "wearables.jobs",
    "app.alerts.jobs",
    "telecall.jobs",
    "app.kpis.jobs",
    "app.reports.jobs",
)


@dataclass(frozen=True)
class Job:
    id: str
    func: object
    trigger: str
    trigger_args: dict = field(default_factory=dict)


def all_jobs() -> list[Job]:
    return [job for name in JOB_MODULES for job in importlib.import_module(name).JOBS]


def run_job(app: Flask, job: Job):
    """Run one job inside an app context and commit its work; a failure rolls it back."""
    with app.app_context():
        try:
            result = job.func()
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", job.id)
            raise
        log.info("job %s done: %s", job.id, result)
        return result


def build(app: Flask, blocking: bool = False):
    scheduler_cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = scheduler_cls(timezone=app.config["DISPLAY_TIMEZONE"])
    for job in all_jobs():
        scheduler.add_job(
            run_job,
            job.trigger,
            args=(app, job),
            id=job.id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=300,
            **job.trigger_args,
        )
    return scheduler
