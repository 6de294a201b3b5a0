from app.residents.services import expire_caregiver_links
from app.scheduler import Job

# Just after midnight in Shanghai, when yesterday's end dates have passed.
JOBS = [
    Job(
        "residents.expire_caregiver_links", expire_caregiver_links, "cron", {"hour": 0, "minute": 5}
    )
]
