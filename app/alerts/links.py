"""One-tap acknowledge links, carried by every e-mail and SMS about an alert.

The token is the credential: it names one alert and one recipient (a user, or the on-call
contact who has no account), is signed with the app's SECRET_KEY (itsdangerous, a salt of
its own so no other signed value can pass for it) and expires ALERT_ACK_LINK_HOURS after it
was issued. It only lets its holder acknowledge that alert; it never signs anyone in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from app.timeutil import utcnow

SALT = "kangyang.alert-ack-link.v1"
ON_CALL = "on-call"


class LinkInvalid(Exception):
    """Tampered, signed with another key, or not one of ours."""


class LinkExpired(Exception):
    """Genuine but too old; `alert_id` says which alert it was about."""

    def __init__(self, alert_id: int | None):
        super().__init__("acknowledge link expired")
        self.alert_id = alert_id


@dataclass(frozen=True)
class AckLink:
    alert_id: int
    user_id: int | None  # None: the on-call contact

    @property
    def on_call(self) -> bool:
        return self.user_id is None


class _ClockedSigner(TimestampSigner):
    """A timestamp signer that reads a given clock, so links issued by a job running on a
    controlled clock (and their expiry) follow that clock."""

    def __init__(self, *args, clock=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._clock = clock or utcnow

    def get_timestamp(self) -> int:
        return int(self._clock().timestamp())


def _serializer(now: datetime | None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"],
        salt=SALT,
        signer=_ClockedSigner,
        signer_kwargs={"clock": (lambda: now) if now else utcnow},
    )


def make_token(alert_id: int, user_id: int | None, now: datetime | None = None) -> str:
    return _serializer(now).dumps([alert_id, user_id if user_id is not None else ON_CALL])


def _parse(payload) -> AckLink:
    if not (isinstance(payload, list) and len(payload) == 2 and type(payload[0]) is int):
        raise LinkInvalid()
    alert_id, who = payload
    if who == ON_CALL:
        return AckLink(alert_id, None)
    if type(who) is not int:
        raise LinkInvalid()
    return AckLink(alert_id, who)


def read_token(token: str, now: datetime | None = None) -> AckLink:
    max_age = current_app.config["ALERT_ACK_LINK_HOURS"] * 3600
    serializer = _serializer(now)
    try:
        payload = serializer.loads(token, max_age=max_age)
    except SignatureExpired as expired:
        # The signature held, so the payload is ours: say which alert, to offer a way on.
        try:
            alert_id = _parse(serializer.load_payload(expired.payload)).alert_id
        except (BadData, LinkInvalid):
            alert_id = None
        raise LinkExpired(alert_id) from None
    except BadData:
        raise LinkInvalid() from None
    return _parse(payload)


def public_url(path: str) -> str:
    """An absolute address for a message: e-mail and SMS have no request to take it from."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


def ack_url(alert_id: int, user_id: int | None, now: datetime | None = None) -> str:
    return public_url(f"/a/{make_token(alert_id, user_id, now)}")


def alert_url(alert_id: int) -> str:
    return public_url(f"/alerts/{alert_id}")
