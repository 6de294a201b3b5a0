from app.scheduler import Job
from wearables.rollups import purge, refresh
from wearables.rules.silence import check_silent_devices

JOBS = [
    # Every 10 minutes: week and month charts read roll-ups, and complete them from the raw
    # readings received since (wearables/rollups.py: hours_of), so this only bounds that.
    Job("wearables.refresh_rollups", refresh, "interval", {"minutes": 10}),
    # At night in Shanghai, when few readings arrive.
    Job("wearables.purge_old_readings", purge, "cron", {"hour": 3, "minute": 30}),
    # Worn devices silent for longer than their resident's profile allows (hours, so
    # every 10 minutes is early enough); each silence raises one alert.
    Job("wearables.check_silent_devices", check_silent_devices, "interval", {"minutes": 10}),
]
