"""The media process's settings, from the environment (MEDIA_HOST, MEDIA_PORT, MEDIA_SECRET,
MEDIA_ICE_SERVERS, MEDIA_MAX_ECHO_SESSIONS). Without a secret it refuses to start: every
request must prove it comes from the web."""

import json
import os
from dataclasses import dataclass, field

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
# Each echo session decodes and re-encodes one call (~0.3 core at 640x480), so a few at most.
DEFAULT_MAX_ECHO_SESSIONS = 8


class SettingsError(ValueError):
    """The environment cannot run the media process safely."""


def parse_ice_servers(text: str | None) -> list[dict]:
    """MEDIA_ICE_SERVERS: a JSON list of RTCIceServer dicts ({"urls", "username",
    "credential"}); empty means host candidates only, which is what a private network needs."""
    if not text:
        return []
    try:
        servers = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"MEDIA_ICE_SERVERS is not JSON: {exc}") from None
    if not isinstance(servers, list) or not all(
        isinstance(s, dict) and s.get("urls") for s in servers
    ):
        raise SettingsError('MEDIA_ICE_SERVERS must be a JSON list of {"urls": ...} objects')
    return servers


@dataclass(frozen=True)
class Settings:
    secret: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    ice_servers: list[dict] = field(default_factory=list)
    max_echo_sessions: int = DEFAULT_MAX_ECHO_SESSIONS

    def __post_init__(self):
        if not self.secret:
            raise SettingsError("MEDIA_SECRET is not set: the media process will not start")

    @classmethod
    def from_env(cls, environ=None, **overrides) -> "Settings":
        env = os.environ if environ is None else environ
        values = {
            "secret": env.get("MEDIA_SECRET", ""),
            "host": env.get("MEDIA_HOST") or DEFAULT_HOST,
            "port": int(env.get("MEDIA_PORT") or DEFAULT_PORT),
            "ice_servers": parse_ice_servers(env.get("MEDIA_ICE_SERVERS")),
            "max_echo_sessions": int(
                env.get("MEDIA_MAX_ECHO_SESSIONS") or DEFAULT_MAX_ECHO_SESSIONS
            ),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
