"""The simulator's transports: HTTP (keep-alive, paced under the ingest rate limit, retried
when the platform is busy: ingest is idempotent) and MQTT (QoS 1, a bounded number in
flight). Each sends a round of bodies and answers what became of them."""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
import urllib.request
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import click
import limits

from wearables.simulator_run import Result, SimDevice, Stats

RATE_MARGIN = 0.9  # use 90 % of a device's rate limit: the server's window is not ours
MAX_IN_FLIGHT = 100  # MQTT QoS 1 messages published and not yet acknowledged by the broker
RETRY_PAUSES = (0.5, 2.0)  # seconds before trying a request again


class Pacer:
    """At most `allowed` requests per device in any `window` seconds, so the simulator stays
    under the platform's per-device ingest rate limit even when backfilling."""

    def __init__(self, allowed: int, window: float):
        self.allowed, self.window = max(allowed, 1), window
        self.sent: dict[int, deque] = {}

    @property
    def min_interval(self) -> float:
        return self.window / self.allowed

    def wait(self, device_id: int, stop: threading.Event) -> None:
        times = self.sent.setdefault(device_id, deque())
        if len(times) >= self.allowed:
            stop.wait(max(times.popleft() + self.window - time.monotonic(), 0))
        times.append(time.monotonic())


class HttpTransport:
    def __init__(self, url: str, concurrency: int, rate_limit: str):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise click.BadParameter("must look like http://127.0.0.1:5000", param_hint="--url")
        self.url, self.parts = url.rstrip("/"), parts
        self.path = parts.path.rstrip("/") + "/api/v1/ingest"
        limit = limits.parse(rate_limit)
        self.pacer = Pacer(int(limit.amount * RATE_MARGIN), limit.get_expiry())
        self.min_interval = self.pacer.min_interval
        self.noun = "requests"
        self.local = threading.local()
        self.connections: list[http.client.HTTPConnection] = []
        self.pool = ThreadPoolExecutor(concurrency, thread_name_prefix="simulator")
        self.stop = threading.Event()

    def describe(self) -> str:
        return f"HTTP to {self.url}"

    def open(self, wait: float, stop: threading.Event) -> None:
        """Wait until the platform answers (`make run SIMULATE=1` starts both at once)."""
        self.stop = stop
        deadline = time.monotonic() + wait
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as answer:  # noqa: S310  (http(s) checked above)
                    if answer.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() >= deadline:
                raise click.ClickException(f"the platform at {self.url} does not answer")
            if stop.wait(0.5):
                return

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            https = self.parts.scheme == "https"
            kind = http.client.HTTPSConnection if https else http.client.HTTPConnection
            conn = self.local.conn = kind(self.parts.hostname, self.parts.port, timeout=15)
            self.connections.append(conn)
        return conn

    def _attempt(self, device: SimDevice, payload: bytes) -> tuple[int | None, bytes, float]:
        """One POST: (status or None when the connection failed, body, seconds to wait)."""
        self.pacer.wait(device.id, self.stop)
        conn = self._connection()
        headers = {"Authorization": f"Bearer {device.token}", "Content-Type": "application/json"}
        try:
            conn.request("POST", self.path, payload, headers)
            answer = conn.getresponse()
            data = answer.read()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()  # a keep-alive connection the server dropped: a new one next time
            return None, type(exc).__name__.encode(), 0.2
        return answer.status, data, float(answer.headers.get("Retry-After") or 0)

    def post(self, device: SimDevice, body: dict, rows: int) -> Result:
        """Ingest is idempotent, so a dropped connection, a 429 or a 5xx (SQLite busy) is
        simply tried again, as a device would; not while stopping."""
        payload = json.dumps(body, ensure_ascii=False).encode()
        for pause in (*RETRY_PAUSES, None):
            status, data, retry_after = self._attempt(device, payload)
            if status == 200:
                counts = json.loads(data)
                rejected = len(counts["rejected"])
                return Result(rows, counts["accepted"], counts["duplicate"], rejected)
            failure = f"HTTP {status}" if status else data.decode()
            final = status is not None and status != 429 and status < 500
            if final or pause is None or self.stop.is_set():
                return Result(rows, failure=failure)
            self.stop.wait(min(max(pause, retry_after), 10))
        raise AssertionError("unreachable")  # pragma: no cover

    def send_all(self, jobs: list[tuple[SimDevice, list[tuple[dict, int]]]]) -> list[Result]:
        def one_device(job):
            device, bodies = job
            # stopping: what is not sent yet stays unsent, as with a watch switched off
            return [
                self.post(device, body, rows) for body, rows in bodies if not self.stop.is_set()
            ]

        return [r for results in self.pool.map(one_device, jobs) for r in results]

    def refusal(self, stats: Stats) -> str:
        if stats.failures.get("HTTP 401"):
            return (
                "device tokens refused (401): is --url the platform whose database "
                "this command set up?"
            )
        return stats.line()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        for conn in self.connections:
            conn.close()


class MqttTransport:
    def __init__(self, url: str, prefix: str):
        from wearables.mqtt_bridge import broker_address

        try:
            self.address = broker_address(url)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--mqtt") from None
        self.url, self.prefix = url, prefix
        self.min_interval = 0.0
        self.noun = "messages"
        self.client = None
        self.connected = threading.Event()
        self.refused: str | None = None
        self.pending: deque = deque()
        self.stop = threading.Event()

    def describe(self) -> str:
        return f"MQTT to {self.url}, topic {self.prefix}/devices/<serial>/readings"

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            self.refused = str(reason_code)
        self.connected.set()

    def open(self, wait: float, stop: threading.Event) -> None:
        import paho.mqtt.client as mqtt

        self.stop = stop
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"kangyang-simulator-{os.getpid()}"
        )
        client.max_inflight_messages_set(MAX_IN_FLIGHT)
        if self.address.get("username"):
            client.username_pw_set(self.address["username"], self.address.get("password"))
        if self.address.get("tls"):
            client.tls_set()
        client.on_connect = self._on_connect
        self.client = client
        deadline = time.monotonic() + wait
        while True:
            try:
                client.connect(self.address["host"], self.address["port"], keepalive=30)
                break
            except OSError as exc:
                if time.monotonic() >= deadline:
                    raise click.ClickException(f"the MQTT broker does not answer: {exc}") from None
                if stop.wait(0.5):
                    return
        client.loop_start()
        if not self.connected.wait(max(wait, 5)) or self.refused:
            raise click.ClickException(f"the MQTT broker refused us: {self.refused or 'timeout'}")

    def _settle(self, keep: int) -> list[Result]:
        """Wait for the broker's acknowledgements until at most `keep` are outstanding."""
        results = []
        while len(self.pending) > keep:
            info, rows = self.pending.popleft()
            try:
                info.wait_for_publish(timeout=1 if self.stop.is_set() else 30)
            except (RuntimeError, ValueError) as exc:
                results.append(Result(rows, failure=str(exc)))
                continue
            published = info.is_published()
            results.append(Result(rows, delivered=rows if published else 0,
                                  failure=None if published else "no acknowledgement"))  # fmt: skip
        return results

    def send_all(self, jobs: list[tuple[SimDevice, list[tuple[dict, int]]]]) -> list[Result]:
        results = []
        for device, bodies in jobs:
            topic = f"{self.prefix}/devices/{device.serial}/readings"
            for body, rows in bodies:
                if self.stop.is_set():
                    break
                payload = json.dumps(body | {"token": device.token}, ensure_ascii=False)
                self.pending.append((self.client.publish(topic, payload, qos=1), rows))
                results += self._settle(MAX_IN_FLIGHT)  # memory stays bounded
        return results + self._settle(0)

    def refusal(self, stats: Stats) -> str:
        return stats.line()

    def close(self) -> None:
        if self.client is not None:
            self._settle(0)
            self.client.disconnect()
            self.client.loop_stop()


def transport_for(config, url: str, mqtt_url: str | None, concurrency: int):
    if mqtt_url:
        broker = config["MQTT_URL"] if mqtt_url == "config" else mqtt_url
        return MqttTransport(broker, config["MQTT_TOPIC_PREFIX"])
    return HttpTransport(url, concurrency, config["INGEST_RATE_LIMIT"])
