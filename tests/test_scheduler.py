from datetime import timedelta

from app import scheduler
from app.extensions import db
from app.residents.models import LinkStatus
from app.timeutil import local_today


def test_jobs_have_fixed_ids_and_run_one_at_a_time(app):
    sched = scheduler.build(app)
    jobs = {job.id: job for job in sched.get_jobs()}
    assert set(jobs) == {
        "auth.purge_expired_tokens",
        "residents.expire_caregiver_links",
        "contracts.mark_expiring_and_expired",
        "contracts.remind_before_end",
        "referral.escalate_unaccepted",
        "referral.flag_unacknowledged_returns",
        "wearables.refresh_rollups",
        "wearables.purge_old_readings",
        "wearables.check_silent_devices",
        "alerts.escalate",
        "alerts.deliver",
        "followups.plan_schedules",
        "followups.plan_annual_checks",
        "followups.mark_missed",
        "kpis.snapshot",
        "reports.weekly",
        "reports.monthly",
        "reports.deliver",
        "visits.remind",
        "visits.close_past",
        "visits.watch_recordings",
        "visits.purge_recordings",
    }
    for job in jobs.values():
        assert job.coalesce is True
        assert job.max_instances == 1


def test_run_job_commits_its_work(app, make_link, make_resident):
    link = make_link(make_resident(), ends_on=local_today() - timedelta(days=2))
    job = next(j for j in scheduler.all_jobs() if j.id == "residents.expire_caregiver_links")
    assert scheduler.run_job(app, job) == 1
    db.session.refresh(link)
    assert link.status == LinkStatus.EXPIRED
