"""The bus that wakes open event streams: in-process on the embedded default, Redis pub/sub
when ALERT_BUS_URL is set (several gunicorn workers).

It carries only "look again" pings with an id (a user's, on the alerts channel; a call
participant's, on the calls channel of telecall/signalling.py); the database is the source
of truth, so a lost ping loses nothing (the stream reads what it has not sent yet on the
next wake-up or heartbeat). Pings are published after the transaction that wrote them commits.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict

import sqlalchemy as sa
from flask import current_app

from app.extensions import db

log = logging.getLogger(__name__)
CHANNEL = "kangyang:alerts"
_PENDING_KEY = "alert_bus_pending"


class LocalBus:
    """One process: a condition per user."""

    def __init__(self):
        self._lock = threading.Lock()
        self._versions: dict[int, int] = defaultdict(int)
        self._changed = threading.Condition(self._lock)

    def publish(self, user_ids) -> None:
        with self._changed:
            for user_id in user_ids:
                self._versions[user_id] += 1
            self._changed.notify_all()

    def version(self, user_id: int) -> int:
        with self._lock:
            return self._versions[user_id]

    def wait(self, user_id: int, seen: int, timeout: float) -> int:
        """Block until the user's version passes `seen` or the timeout; the new version."""
        with self._changed:
            self._changed.wait_for(lambda: self._versions[user_id] != seen, timeout)
            return self._versions[user_id]


class RedisBus(LocalBus):
    """Several processes: pings go through Redis; a listener thread feeds the local bus."""

    def __init__(self, url: str, channel: str = CHANNEL):
        super().__init__()
        import redis

        self._channel = channel
        self._redis = redis.Redis.from_url(url)
        # Subscribed before the first stream reads the database, so that a ping published
        # between that read and a later subscription is not lost.
        try:
            self._pubsub = self._subscribe()
        except Exception:  # noqa: BLE001 (the listener retries)
            self._pubsub = None
        self._listener = threading.Thread(target=self._listen, name="alert-bus", daemon=True)
        self._listener.start()

    def publish(self, user_ids) -> None:
        self._redis.publish(self._channel, json.dumps(list(user_ids)))

    def _subscribe(self):
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(self._channel)
        return pubsub

    def _listen(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        while True:
            try:
                pubsub = pubsub or self._subscribe()
                for message in pubsub.listen():
                    super().publish(json.loads(message["data"]))
            except Exception:  # noqa: BLE001 (reconnect; streams fall back to heartbeats)
                log.warning("alert bus: lost Redis, reconnecting")
                pubsub = None
                threading.Event().wait(1)


_buses: dict[tuple[str, str], LocalBus] = {}
_buses_lock = threading.Lock()


def get_bus(channel: str = CHANNEL) -> LocalBus:
    url = current_app.config.get("ALERT_BUS_URL") or "local"
    with _buses_lock:
        if (url, channel) not in _buses:
            bus = LocalBus() if url == "local" else RedisBus(url, channel)
            _buses[(url, channel)] = bus
        return _buses[(url, channel)]


def ping_after_commit(ids, channel: str = CHANNEL) -> None:
    """Wake these streams (users' on the alerts channel) once the transaction has committed."""
    pending = db.session.info.setdefault(_PENDING_KEY, {})
    pending.setdefault(channel, set()).update(ids)


@sa.event.listens_for(sa.orm.Session, "after_commit")
def _publish_pending(session) -> None:
    # SQLAlchemy calls this for a savepoint's release too (raise_alert opens one): nothing
    # is visible to the streams until the outermost transaction commits.
    if session.in_nested_transaction():
        return
    pending = session.info.pop(_PENDING_KEY, None)
    for channel, ids in (pending or {}).items():
        try:
            get_bus(channel).publish(sorted(ids))
        except Exception:  # noqa: BLE001 (a lost ping loses nothing: streams poll too)
            log.exception("bus: publish failed")


@sa.event.listens_for(sa.orm.Session, "after_rollback")
def _drop_pending(session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint rolled back: the outer transaction's pings still stand
    session.info.pop(_PENDING_KEY, None)
