"""ICE servers handed to each peer: what ICE_SERVERS lists, plus TURN with time-limited
credentials in coturn's REST-API form when TURN_URLS and TURN_SECRET are set. None by
default: no public STUN server is ever used unless it is configured."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from flask import current_app


def configured() -> list[dict]:
    raw = current_app.config.get("ICE_SERVERS") or "[]"
    servers = json.loads(raw) if isinstance(raw, str) else list(raw)
    return [s for s in servers if isinstance(s, dict) and s.get("urls")]


def turn_credentials(secret: str, user_key: str, ttl: int, now: float | None = None) -> dict:
    """coturn `use-auth-secret`: username `<expiry>:<key>`, credential
    base64(HMAC-SHA1(secret, username))."""
    username = f"{int((now or time.time()) + ttl)}:{user_key}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return {"username": username, "credential": base64.b64encode(digest).decode()}


def servers_for(participant_id: int) -> list[dict]:
    config = current_app.config
    servers = configured()
    urls = [u.strip() for u in (config.get("TURN_URLS") or "").split(",") if u.strip()]
    if urls and config.get("TURN_SECRET"):
        credentials = turn_credentials(
            config["TURN_SECRET"], f"visit-participant-{participant_id}", config["TURN_TTL_SECONDS"]
        )
        servers.append({"urls": urls, **credentials})
    return servers
