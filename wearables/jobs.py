from app.scheduler import Job
from wearables.rollups import purge, refresh

JOBS = [
    # Every 10 minutes: week and month charts read roll-ups, and complete them from the raw
    # readings received since (wearables/rollups.py: hours_of), so this only bounds that.
    Job("wearables.refresh_rollups", refresh, "interval", {"minutes": 10}),
    # At night in Shanghai, when few readings arrive.
    Job("wearables.purge_old_readings", purge, "cron", {"hour": 3, "minute": 30}),
]
