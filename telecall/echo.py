"""The pre-call device check: the browser's offer goes to the media process, whose echo peer
sends the caller's own camera and microphone back. Open to a signed-in user or to the holder
of a join link (a resident checks before tapping in, without signing in)."""

from __future__ import annotations

import logging
import urllib.error

from flask import current_app, request
from flask_login import current_user

from app.errors import N_, DomainError
from telecall import media_link
from telecall.tokens import read_token

log = logging.getLogger(__name__)
TIMEOUT = 20  # the media peer gathers its candidates before it answers


class MediaUnavailable(DomainError):
    status = 503


def require_caller() -> None:
    if current_user.is_authenticated:
        return
    read_token(request.headers.get("X-Join-Token", ""))  # JoinRefused when not a valid link


def answer(offer: dict) -> dict:
    try:
        body = media_link.post(current_app.config, "/echo", offer, TIMEOUT)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log.warning("device check: media process unavailable (%s)", type(exc).__name__)
        raise MediaUnavailable(N_("the device check is not available right now")) from None
    return {"sdp": body["sdp"], "type": body["type"]}
