"""The MQTT bridge: `flask --app wsgi mqtt-bridge`.

It subscribes with QoS 1 on a persistent MQTT 5 session to {prefix}/devices/+/readings and
stores each message through the same service as HTTP ingest (wearables.messages). A message
is acknowledged to the broker only after the transaction holding its readings (or its dead
letter) has committed, so a database outage or a crash loses nothing: the broker keeps
what was not acknowledged and hands it over again; the readings' unique key makes the
second delivery a duplicate, never a second row.

paho's network thread only queues messages; one worker thread stores them in batches (one
transaction per batch, each message in its own savepoint), then acknowledges the batch.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import click
import paho.mqtt.client as mqtt
import sqlalchemy as sa
from flask import Flask, current_app
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from app.extensions import db
from wearables import messages
from wearables.messages import OUTAGE_ERRORS

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30.0


@dataclass
class Delivery:
    topic: str
    payload: bytes
    mid: int
    qos: int


@dataclass
class Stats:
    received: int = 0
    committed: int = 0  # messages whose transaction committed and were acknowledged
    accepted: int = 0
    duplicate: int = 0
    dead_letters: int = 0
    retries: int = 0  # batches tried again after the database failed
    reconnects: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict:
        names = ("received", "committed", "accepted", "duplicate", "dead_letters", "retries")
        return {name: getattr(self, name) for name in names + ("reconnects",)}


def broker_address(url: str) -> dict:
    """mqtt://[user:password@]host[:port] or mqtts://... as connection settings."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError("MQTT_URL must look like mqtt://host:1883 or mqtts://host:8883")
    return {
        "host": parts.hostname,
        "port": parts.port or (8883 if parts.scheme == "mqtts" else 1883),
        "tls": parts.scheme == "mqtts",
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
    }


class Bridge:
    def __init__(self, app: Flask):
        self.app = app
        config = app.config
        self.address = broker_address(config["MQTT_URL"])
        self.topic = f"{config['MQTT_TOPIC_PREFIX']}/devices/+/readings"
        self.batch_size = config["MQTT_BATCH_SIZE"]
        self.stats = Stats()
        self._queue: queue.Queue[Delivery] = queue.Queue()
        self._stopping = threading.Event()
        self._subscribed = threading.Event()
        self._client = self._make_client(config)
        self._worker = threading.Thread(target=self._work, name="mqtt-bridge-worker", daemon=True)

    def _make_client(self, config) -> mqtt.Client:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=config["MQTT_CLIENT_ID"],
            protocol=mqtt.MQTTv5,
            manual_ack=True,  # acknowledged only after the readings are committed
        )
        if self.address["username"]:
            client.username_pw_set(self.address["username"], self.address["password"])
        if self.address["tls"]:
            client.tls_set()
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _connect_properties(self) -> Properties:
        properties = Properties(PacketTypes.CONNECT)
        # The broker keeps the subscription and the unacknowledged messages while we are away.
        properties.SessionExpiryInterval = self.app.config["MQTT_SESSION_EXPIRY_SECONDS"]
        # How many unacknowledged messages the broker may hand us at once.
        properties.ReceiveMaximum = self.app.config["MQTT_RECEIVE_MAXIMUM"]
        return properties

    # paho's network thread --------------------------------------------------------------

    def _on_connect(self, client, _userdata, flags, reason_code, _properties):
        if reason_code.is_failure:
            log.error("the broker refused the bridge: %s", reason_code)
            return
        log.info("connected to the broker (session present: %s)", flags.session_present)
        client.subscribe(self.topic, options=SubscribeOptions(qos=1))

    def _on_subscribe(self, _client, _userdata, _mid, reason_codes, _properties):
        if all(not code.is_failure for code in reason_codes):
            self._subscribed.set()
        else:
            log.error("the broker refused the subscription: %s", reason_codes)

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _properties):
        if not self._stopping.is_set():
            self.stats.add(reconnects=1)
            log.warning("lost the broker (%s); reconnecting", reason_code)

    def _on_message(self, _client, _userdata, message):
        self.stats.add(received=1)
        self._queue.put(Delivery(message.topic, message.payload, message.mid, message.qos))

    # the worker thread ------------------------------------------------------------------

    def _next_batch(self) -> list[Delivery]:
        try:
            batch = [self._queue.get(timeout=0.2)]
        except queue.Empty:
            return []
        while len(batch) < self.batch_size:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _work(self) -> None:
        while not (self._stopping.is_set() and self._queue.empty()):
            batch = self._next_batch()
            if batch:
                self._store_until_committed(batch)

    def _store_until_committed(self, batch: list[Delivery]) -> None:
        delay = 0.5
        while True:
            try:
                self._store(batch)
                break
            except Exception as exc:  # noqa: BLE001 (the worker must outlive any failure)
                # Nothing is acknowledged: the broker still holds every message of the batch.
                self.stats.add(retries=1)
                if not isinstance(exc, OUTAGE_ERRORS):
                    log.exception("storing a batch failed")
                name = type(exc).__name__
                log.warning("database unavailable (%s); retrying in %.1f s", name, delay)
                if self._stopping.wait(delay):
                    return  # stopping: leave the batch unacknowledged for the next run
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)
        for delivery in batch:
            self._client.ack(delivery.mid, delivery.qos)
        self.stats.add(committed=len(batch))

    def _store(self, batch: list[Delivery]) -> None:
        try:
            outcomes = self._store_in_one_transaction(batch, careful=False)
        except OUTAGE_ERRORS:
            raise
        except sa.exc.DBAPIError:
            # A message broke a rule of the database: again, each message in a savepoint,
            # so that one becomes a dead letter and the others are stored.
            outcomes = self._store_in_one_transaction(batch, careful=True)
        self.stats.add(
            accepted=sum(o.accepted for o in outcomes),
            duplicate=sum(o.duplicate for o in outcomes),
            dead_letters=sum(o.dead_letter for o in outcomes),
        )

    def _store_in_one_transaction(self, batch: list[Delivery], careful: bool) -> list:
        with self.app.app_context():
            try:
                known: dict = {}
                outcomes = [messages.handle(d.topic, d.payload, known, careful) for d in batch]
                db.session.commit()
                return outcomes
            except BaseException:
                db.session.rollback()
                raise
            finally:
                db.session.remove()

    # running ----------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> Bridge:
        """Connect, subscribe and start storing; returns once the subscription holds."""
        self._client.connect(
            self.address["host"],
            self.address["port"],
            keepalive=30,
            clean_start=False,
            properties=self._connect_properties(),
        )
        self._client.loop_start()
        self._worker.start()
        if not self._subscribed.wait(timeout):
            self.stop()
            raise ConnectionError(f"no subscription to {self.topic} within {timeout:.0f} s")
        return self

    def stop(self, drain: bool = True) -> None:
        """Stop. With drain, the messages already received are stored and acknowledged
        first, while the database answers; without it (or while the database is away) they
        are left unacknowledged for the broker to hand over again."""
        if not drain:
            self._client.on_message = None
            self._discard_queue()
        self._stopping.set()
        if self._worker.is_alive():
            self._worker.join()
        self._client.disconnect()
        self._client.loop_stop()

    def _discard_queue(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

    def wait_idle(self, timeout: float) -> bool:
        """True once everything received so far is committed (for tests and shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.empty() and self.stats.committed >= self.stats.received:
                return True
            time.sleep(0.05)
        return False


@click.command("mqtt-bridge")
@click.option("--report-every", default=60, show_default=True, help="Seconds between counts.")
def mqtt_bridge_command(report_every: int):
    """Store readings that devices publish over MQTT (runs until stopped)."""
    bridge = Bridge(current_app._get_current_object())
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    bridge.start()
    click.echo(f"mqtt-bridge: subscribed to {bridge.topic}")
    while not stop.wait(report_every):
        log.info("mqtt-bridge counts: %s", bridge.stats.as_dict())
    bridge.stop(drain=True)
    click.echo(f"mqtt-bridge: stopped; {bridge.stats.as_dict()}")
