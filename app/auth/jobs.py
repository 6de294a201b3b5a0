from app.auth.services import purge_expired_tokens
from app.scheduler import Job

JOBS = [Job("auth.purge_expired_tokens", purge_expired_tokens, "interval", {"hours": 6})]
