"""One MQTT message: authenticate the device, parse, store through the ingest service, or
keep it as a dead letter with the reason.

Topic {prefix}/devices/{serial}/readings; payload: the HTTP ingest body (Kangyang JSON, an
Open mHealth data point or list, or a FHIR Observation / Bundle) with the device token
beside it: {"token": "dev_...", "readings": [...]}. See docs/WEARABLES.md.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from wearables import devices, formats, ingest
from wearables.metrics import MalformedBody
from wearables.models import DeadLetter, DeadLetterReason, Device, ReadingSource

log = logging.getLogger(__name__)

MAX_KEPT_PAYLOAD = 64 * 1024
# The database is away (down, restarting, locked): the caller keeps the batch and retries.
OUTAGE_ERRORS = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DisconnectionError)
# A device token must never sit in the dead-letter table, even inside a payload we
# could not parse.
TOKEN_PATTERN = re.compile(r"dev_[A-Za-z0-9_\-]{8,}")


@dataclass(frozen=True)
class Outcome:
    accepted: int = 0
    duplicate: int = 0
    dead_letter: bool = False


def serial_in(topic: str) -> str | None:
    """The device serial of {prefix}/devices/{serial}/readings."""
    parts = topic.split("/")
    if len(parts) >= 4 and parts[-1] == "readings" and parts[-3] == "devices":
        return parts[-2]
    return None


def _keep(topic: str, payload: bytes | str, reason, detail=None, device=None) -> Outcome:
    text = payload if isinstance(payload, str) else payload.decode("utf-8", errors="replace")
    db.session.add(
        DeadLetter(
            topic=topic[:255],
            # PostgreSQL text cannot hold NUL; garbage from a broken device may.
            payload=TOKEN_PATTERN.sub("dev_…", text).replace("\x00", "\\x00")[:MAX_KEPT_PAYLOAD],
            reason=reason,
            detail=detail,
            device_id=device.id if device else None,
        )
    )
    db.session.flush()
    log.info("dead letter: %s", reason.value)
    return Outcome(dead_letter=True)


def _body(payload: bytes):
    try:
        return json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None


def _device(body, topic: str, known: dict) -> Device | DeadLetterReason:
    token = body.pop("token", None) if isinstance(body, dict) else None
    token = token if isinstance(token, str) else None
    if token not in known:  # a batch holds many messages of the same few devices
        known[token] = devices.authenticate(token)
    device = known[token]
    if device is None:
        return DeadLetterReason.UNKNOWN_TOKEN
    if device.serial != serial_in(topic):
        return DeadLetterReason.WRONG_TOPIC
    return device


def _store(topic: str, body, device: Device) -> Outcome:
    mimetype = "application/fhir+json" if "resourceType" in body else "application/json"
    try:
        parsed = formats.parse(mimetype, body)
    except MalformedBody as exc:
        return _keep(topic, json.dumps(body), DeadLetterReason.MALFORMED, str(exc), device)
    result = ingest.store(
        device, parsed.candidates, parsed.rejections, ReadingSource.MQTT, parsed.battery
    )
    if result.rejected:
        detail = json.dumps(result.as_dict()["rejected"], ensure_ascii=False)
        _keep(topic, json.dumps(body), DeadLetterReason.REJECTED_READINGS, detail, device)
    return Outcome(result.accepted, result.duplicate, bool(result.rejected))


def handle(topic: str, payload: bytes, known: dict | None = None, careful: bool = True) -> Outcome:
    """Store one message. `known` caches the devices of a batch by token. Careful, the
    message has its own savepoint: if it breaks a rule of the database it is kept as a dead
    letter and does not take the rest of its batch with it. The bridge first stores a batch
    without savepoints (cheaper) and goes careful only if that fails. An outage
    (OperationalError) propagates so the whole batch is tried again."""
    body = _body(payload)
    if not isinstance(body, dict):
        reason = DeadLetterReason.NOT_JSON if body is None else DeadLetterReason.MALFORMED
        return _keep(topic, payload, reason, "the payload must be a JSON object")
    found = _device(body, topic, {} if known is None else known)
    if isinstance(found, DeadLetterReason):
        return _keep(topic, json.dumps(body), found)
    if not careful:
        return _store(topic, body, found)
    try:
        with db.session.begin_nested():
            return _store(topic, body, found)
    except OUTAGE_ERRORS:
        raise
    except sa.exc.DBAPIError as exc:
        return _keep(topic, json.dumps(body), DeadLetterReason.MALFORMED, type(exc).__name__, found)
