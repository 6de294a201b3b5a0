"""Configuration classes. Every setting comes from the environment (redash's way).

`KANGYANG_CONFIG` picks the class: development (default), testing, production.
Production refuses to start without SECRET_KEY and FIELD_ENCRYPTION_KEY: there is no fallback.
"""

import json
import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _env_bool(name: str, default: bool) -> bool:
    return _env(name, "1" if default else "0").lower() in ("1", "true", "yes", "on")


class ConfigError(RuntimeError):
    """Raised when a configuration cannot run safely."""


class Config:
    NAME = "base"
    SECRET_KEY = _env("SECRET_KEY")
    # Fernet key (urlsafe base64, 32 bytes) for personal fields encrypted at rest.
    FIELD_ENCRYPTION_KEY = _env("FIELD_ENCRYPTION_KEY")
    SQLALCHEMY_DATABASE_URI = _env(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'kangyang.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 1024 * 1024)

    # Pages speak Chinese by default.
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    # Each feature folder keeps its own catalogue; Flask-Babel merges them.
    BABEL_TRANSLATION_DIRECTORIES = ";".join(
        dict.fromkeys(
            str(path)
            for pattern in ("app/translations", "app/*/translations", "*/translations")
            for path in sorted(BASE_DIR.glob(pattern))
        )
    )
    LANGUAGES = ("zh_CN", "en")
    DISPLAY_TIMEZONE = "Asia/Shanghai"

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = timedelta(hours=_env_int("SESSION_HOURS", 12))
    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead of a clock

    API_TITLE = "Kangyang API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/vendor/swagger-ui/"  # served by the platform, see app/web
    API_TOKEN_HOURS = _env_int("API_TOKEN_HOURS", 12)

    # Sign-in throttling (Flask-Limiter) and account lock-out after repeated failures.
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = _env("LOGIN_RATE_LIMIT", "20 per minute")
    LOGIN_MAX_FAILURES = _env_int("LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCK_MINUTES = _env_int("LOGIN_LOCK_MINUTES", 15)

    # Family-doctor contracts
    CONTRACT_TERM_MONTHS = _env_int("CONTRACT_TERM_MONTHS", 12)
    CONTRACT_EXPIRING_DAYS = _env_int("CONTRACT_EXPIRING_DAYS", 30)
    CONTRACT_REMINDER_DAYS = tuple(
        int(d) for d in _env("CONTRACT_REMINDER_DAYS", "30,7").split(",")
    )
    CONSENT_TEXT_VERSION = _env("CONSENT_TEXT_VERSION", "2026-01")
    # Signing-rate colours: green at or above the first, yellow at or above the second.
    SIGNING_RATE_GREEN = float(_env("SIGNING_RATE_GREEN", "0.70"))
    SIGNING_RATE_YELLOW = float(_env("SIGNING_RATE_YELLOW", "0.50"))

    # Referrals: time limits, the follow-up a return asks for, attachments
    REFERRAL_URGENT_ACCEPT_HOURS = _env_int("REFERRAL_URGENT_ACCEPT_HOURS", 24)
    REFERRAL_EMERGENCY_ACCEPT_HOURS = _env_int("REFERRAL_EMERGENCY_ACCEPT_HOURS", 2)
    REFERRAL_RETURN_ACK_DAYS = _env_int("REFERRAL_RETURN_ACK_DAYS", 14)
    REFERRAL_FOLLOW_UP_DAYS = _env_int("REFERRAL_FOLLOW_UP_DAYS", 14)
    ATTACHMENT_MAX_BYTES = _env_int("ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024)

    # Wearables: how old a pushed reading may be, and each device's request rate
    INGEST_MAX_AGE_DAYS = _env_int("INGEST_MAX_AGE_DAYS", 30)
    INGEST_RATE_LIMIT = _env("INGEST_RATE_LIMIT", "120 per minute")
    INGEST_MAX_BYTES = _env_int("INGEST_MAX_BYTES", 1024 * 1024)
    # Raw readings are deleted this many days after they arrived; hourly roll-ups stay for
    # the longer period (charts over months and years, and the KPI figures, read those).
    READINGS_RETENTION_DAYS = _env_int("READINGS_RETENTION_DAYS", 730)
    ROLLUPS_RETENTION_DAYS = _env_int("ROLLUPS_RETENTION_DAYS", 3650)

    # MQTT ingest: `flask mqtt-bridge` subscribes to {prefix}/devices/+/readings.
    MQTT_URL = _env("MQTT_URL", "mqtt://127.0.0.1:1883")
    MQTT_TOPIC_PREFIX = _env("MQTT_TOPIC_PREFIX", "kangyang/v1")
    MQTT_CLIENT_ID = _env("MQTT_CLIENT_ID", "kangyang-bridge")
    # The broker keeps the bridge's subscription and unacknowledged messages this long
    # while it is away (MQTT 5 session expiry); a week covers a long outage.
    MQTT_SESSION_EXPIRY_SECONDS = _env_int("MQTT_SESSION_EXPIRY_SECONDS", 7 * 24 * 3600)
    # How many unacknowledged messages the broker may hand the bridge at once (MQTT 5
    # receive maximum), and how many the bridge stores in one transaction.
    MQTT_RECEIVE_MAXIMUM = _env_int("MQTT_RECEIVE_MAXIMUM", 1000)
    MQTT_BATCH_SIZE = _env_int("MQTT_BATCH_SIZE", 500)

    # Alerts: each step of the escalation ladder waits this many minutes for someone to act
    ALERT_STEP_MINUTES = {
        "critical": _env_int("ALERT_STEP_MINUTES_CRITICAL", 2),
        "high": _env_int("ALERT_STEP_MINUTES_HIGH", 5),
        "medium": _env_int("ALERT_STEP_MINUTES_MEDIUM", 15),
        "low": _env_int("ALERT_STEP_MINUTES_LOW", 240),
    }
    # Local hours (from, until) when low-severity alerts wait for the morning.
    ALERT_QUIET_HOURS = (_env_int("ALERT_QUIET_FROM", 22), _env_int("ALERT_QUIET_UNTIL", 7))
    # The ladder's last step: whoever is on call for the centre (e-mail and/or phone).
    ALERT_ON_CALL_EMAIL = _env("ALERT_ON_CALL_EMAIL")
    ALERT_ON_CALL_PHONE = _env("ALERT_ON_CALL_PHONE")
    # An SMS or WeChat gateway: a JSON POST signed with HMAC-SHA256 of the body.
    ALERT_WEBHOOK_URL = _env("ALERT_WEBHOOK_URL")
    ALERT_WEBHOOK_SECRET = _env("ALERT_WEBHOOK_SECRET")
    ALERT_DELIVERY_MAX_ATTEMPTS = _env_int("ALERT_DELIVERY_MAX_ATTEMPTS", 6)
    ALERT_ACK_LINK_HOURS = _env_int("ALERT_ACK_LINK_HOURS", 24)
    # Live pages across several workers: redis://... ; unset, an in-process bus.
    ALERT_BUS_URL = _env("ALERT_BUS_URL")
    # Alert rules over readings (wearables/rules; docs/ALERTS.md "Rules and scores").
    # Off only for the ingest benchmark's with/without comparison.
    ALERT_RULES_ENABLED = _env_bool("ALERT_RULES_ENABLED", True)
    # Readings measured longer ago than this when they arrive are history: no alert.
    ALERT_READING_MAX_AGE_HOURS = _env_int("ALERT_READING_MAX_AGE_HOURS", 12)
    # The resident's own resting heart rate: days looked back, days of data needed, the
    # persistence window, and "far" (both margins: absolute /min and percent).
    ALERT_BASELINE_DAYS = _env_int("ALERT_BASELINE_DAYS", 14)
    ALERT_BASELINE_MIN_DAYS = _env_int("ALERT_BASELINE_MIN_DAYS", 7)
    ALERT_BASELINE_MINUTES = _env_int("ALERT_BASELINE_MINUTES", 30)
    ALERT_BASELINE_MARGIN = _env_int("ALERT_BASELINE_MARGIN", 30)
    ALERT_BASELINE_MARGIN_PERCENT = _env_int("ALERT_BASELINE_MARGIN_PERCENT", 30)
    # NEWS2 over the latest vitals of this window, when at least this many are measured.
    ALERT_NEWS2_WINDOW_MINUTES = _env_int("ALERT_NEWS2_WINDOW_MINUTES", 60)
    ALERT_NEWS2_MIN_VITALS = _env_int("ALERT_NEWS2_MIN_VITALS", 3)
    ALERT_BATTERY_LOW_PERCENT = _env_int("ALERT_BATTERY_LOW_PERCENT", 15)
    # A first unsatisfactory reading plans a recheck this many days on; glucose counts
    # as fasting when measured in these local hours [from, until).
    ALERT_RECHECK_DAYS = _env_int("ALERT_RECHECK_DAYS", 14)
    ALERT_FASTING_HOURS = (_env_int("ALERT_FASTING_FROM", 5), _env_int("ALERT_FASTING_UNTIL", 9))
    # Outgoing e-mail (alerts); unset MAIL_SERVER, nothing is e-mailed.
    MAIL_SERVER = _env("MAIL_SERVER")
    MAIL_PORT = _env_int("MAIL_PORT", 25)
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
    MAIL_USERNAME = _env("MAIL_USERNAME")
    MAIL_PASSWORD = _env("MAIL_PASSWORD")
    MAIL_FROM = _env("MAIL_FROM", "kangyang@localhost")
    # The address people open links in messages at (e-mail and SMS have no request to ask).
    PUBLIC_URL = _env("PUBLIC_URL", "http://127.0.0.1:5000")

    # Periodic reports (docs/REPORTS.md): who the scheduled ones are e-mailed to (comma-
    # separated; none: kept in the platform only), tries of one mail before it is failed,
    # and a CJK TrueType font for the PDF when WenQuanYi Micro Hei is not installed.
    REPORT_RECIPIENTS = tuple(
        address.strip() for address in _env("REPORT_RECIPIENTS", "").split(",") if address.strip()
    )
    REPORT_MAIL_MAX_ATTEMPTS = _env_int("REPORT_MAIL_MAX_ATTEMPTS", 5)
    REPORT_FONT_PATH = _env("REPORT_FONT_PATH")

    # Video visits (telecall/): lengths per visit type, the booking grid, join-link windows.
    VISIT_LENGTH_MINUTES = {
        "video_consult": _env_int("VISIT_CONSULT_MINUTES", 20),
        "online_revisit": _env_int("VISIT_REVISIT_MINUTES", 15),
        "remote_follow_up": _env_int("VISIT_FOLLOW_UP_MINUTES", 20),
    }
    VISIT_SLOT_MINUTES = _env_int("VISIT_SLOT_MINUTES", 5)
    VISIT_BOOKING_DAYS = _env_int("VISIT_BOOKING_DAYS", 28)  # how far ahead residents may book
    VISIT_JOIN_EARLY_MINUTES = _env_int("VISIT_JOIN_EARLY_MINUTES", 30)
    VISIT_JOIN_GRACE_MINUTES = _env_int("VISIT_JOIN_GRACE_MINUTES", 60)
    VISIT_REMINDER_SOON_MINUTES = _env_int("VISIT_REMINDER_SOON_MINUTES", 15)
    # ICE servers for the browsers: a JSON list of RTCIceServer objects. None by default:
    # a public STUN server is never used unless configured here.
    ICE_SERVERS = _env("ICE_SERVERS", "[]")
    # TURN with time-limited credentials (coturn's REST API: static-auth-secret).
    TURN_URLS = _env("TURN_URLS", "")
    TURN_SECRET = _env("TURN_SECRET")
    TURN_TTL_SECONDS = _env_int("TURN_TTL_SECONDS", 4 * 3600)
    # The media process (python -m telecall.media): echo, recording. `flask serve` starts
    # one in a thread when MEDIA_EMBEDDED is on.
    MEDIA_URL = _env("MEDIA_URL", "http://127.0.0.1:8765")
    MEDIA_SECRET = _env("MEDIA_SECRET")
    # Where the media process reaches the web (its recorder joins calls); PUBLIC_URL if unset.
    MEDIA_CALLBACK_URL = _env("MEDIA_CALLBACK_URL")
    MEDIA_EMBEDDED = _env_bool("MEDIA_EMBEDDED", True)
    RECORDINGS_DIR = _env("RECORDINGS_DIR", str(BASE_DIR / "instance" / "recordings"))
    RECORDING_RETENTION_DAYS = _env_int("RECORDING_RETENTION_DAYS", 90)

    # The scheduler runs in exactly one process: a thread of `flask serve` on the embedded
    # default, or `flask scheduler` in production.
    SCHEDULER_ENABLED = _env_bool("SCHEDULER_ENABLED", True)

    @classmethod
    def check(cls) -> None:
        """Refuse settings that cannot run; subclasses add their own rules."""
        _check_ice_servers(cls.ICE_SERVERS)
        if cls.READINGS_RETENTION_DAYS <= cls.INGEST_MAX_AGE_DAYS:
            # a reading could arrive for an hour whose other readings are already gone
            raise ConfigError("READINGS_RETENTION_DAYS must be longer than INGEST_MAX_AGE_DAYS")
        for address in cls.REPORT_RECIPIENTS:
            if "@" not in address.strip("@"):
                raise ConfigError(f"REPORT_RECIPIENTS: {address!r} is not an e-mail address")


def _check_ice_servers(text: str) -> None:
    """ICE_SERVERS must be a JSON list of RTCIceServer objects: a typo would otherwise break
    every call join at run time."""
    try:
        servers = json.loads(text or "[]")
    except ValueError:
        raise ConfigError("ICE_SERVERS is not valid JSON") from None
    if not isinstance(servers, list) or not all(
        isinstance(s, dict) and s.get("urls") for s in servers
    ):
        raise ConfigError('ICE_SERVERS must be a JSON list of objects with "urls"')


class DevelopmentConfig(Config):
    NAME = "development"
    # Development keys are fixed so a restart keeps sessions and decrypts the demo data;
    # they are worthless elsewhere because production refuses to run on them.
    SECRET_KEY = _env("SECRET_KEY", "dev-only-not-secret")
    FIELD_ENCRYPTION_KEY = _env(
        "FIELD_ENCRYPTION_KEY", "ZGV2LW9ubHktZmllbGQta2V5LW5vdC1zZWNyZXQhISE="
    )
    MEDIA_SECRET = _env("MEDIA_SECRET", "dev-only-media-secret")


class TestingConfig(DevelopmentConfig):
    NAME = "testing"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = _env("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = True
    RATELIMIT_ENABLED = True
    SCHEDULER_ENABLED = False
    PASSWORD_HASH_FAST = True  # argon2 at its cheapest so the suite stays quick


class ProductionConfig(Config):
    NAME = "production"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL")
    MEDIA_EMBEDDED = _env_bool("MEDIA_EMBEDDED", False)  # production runs its own media process

    @classmethod
    def check(cls) -> None:
        super().check()
        missing = [
            name
            for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "SQLALCHEMY_DATABASE_URI")
            if not getattr(cls, name)
        ]
        if missing:
            names = ", ".join(n.replace("SQLALCHEMY_DATABASE_URI", "DATABASE_URL") for n in missing)
            raise ConfigError(f"production refuses to start without: {names}")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(name: str | None = None) -> type[Config]:
    name = name or _env("KANGYANG_CONFIG", "development")
    try:
        config = CONFIGS[name]
    except KeyError:
        raise ConfigError(
            f"KANGYANG_CONFIG must be one of {sorted(CONFIGS)}, not {name!r}"
        ) from None
    config.check()
    return config
