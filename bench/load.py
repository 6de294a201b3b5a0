"""The load: readings that are all distinct and all acceptable, pushed by concurrent clients
for a fixed time, over HTTP (the ingest endpoint, the bare endpoint) or straight into the
database (the limit).

Each client owns one device, so (device, metric, measured_at) never collides between
clients. A request gets its own millisecond on its device's clock, which starts six hours
back: inside the accepted window (INGEST_MAX_AGE_DAYS), recent enough for the alert rules to
judge (ALERT_READING_MAX_AGE_HOURS, 12), never in the future. Reading i of a batch sits at
microsecond i of that millisecond, hence at most 1000 readings a request. Values are a
healthy resident's (NEWS2 0), so the rules judge every reading and raise nothing.

Bodies come from a template made once per batch size, so the client spends next to nothing
building them and the servers, not the clients, are what is measured.
"""

import http.client
import json
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

MAX_BATCH = 1000
# (metric, canonical unit, lowest value, spread): values a healthy resident shows.
METRICS = (
    ("heart_rate", "/min", 60, 30),
    ("spo2", "%", 96, 4),
    ("respiratory_rate", "/min", 12, 8),
    ("body_temperature", "Cel", 36.2, 1.5),
)
MARK = "@@"  # stands for the request's millisecond in a template


def _reading(i: int) -> tuple[str, str, float]:
    metric, unit, low, spread = METRICS[i % len(METRICS)]
    return metric, unit, round(low + (i * 7) % (spread * 10) / 10, 1)


def body_template(batch: int) -> str:
    items = ",".join(
        json.dumps({"metric": m, "value": v, "unit": u, "measured_at": f"{MARK}{i:03d}+00:00"})
        for i, (m, u, v) in ((i, _reading(i)) for i in range(batch))
    )
    return '{"readings":[' + items + "]}"


class Clock:
    """A device's clock: one fresh millisecond per request, from six hours ago onwards."""

    def __init__(self, separator: str = "T"):
        self.ms = (int(time.time()) - 6 * 3600) * 1000
        self.format = f"%Y-%m-%d{separator}%H:%M:%S"

    def tick(self) -> str:
        """The request's time to the millisecond; a reading adds its three digits."""
        self.ms += 1
        second, ms = divmod(self.ms, 1000)
        return time.strftime(self.format, time.gmtime(second)) + f".{ms:03d}"


@dataclass
class Tally:
    readings: int = 0  # accepted (or written) during the timed part
    sent: int = 0
    errors: Counter = field(default_factory=Counter)  # HTTP status or exception name


class HttpClient:
    """Keep-alive when the server allows it; http.client reconnects when it closes."""

    def __init__(self, port: int, device: dict, batch: int, path: str = "/api/v1/ingest"):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.path, self.batch = path, batch
        self.template, self.clock = body_template(batch), Clock()
        self.headers = {
            "Authorization": f"Bearer {device['token']}",
            "Content-Type": "application/json",
            "X-Bench-Device": f"{device['id']}:{device['resident_id']}",
        }

    def push(self, tally: Tally) -> None:
        body = self.template.replace(MARK, self.clock.tick()).encode()
        tally.sent += self.batch
        try:
            self.conn.request("POST", self.path, body, self.headers)
            response = self.conn.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            tally.errors[type(exc).__name__] += 1
            time.sleep(0.05)  # a server that is gone must not turn this into a busy loop
            return
        if response.status != 200:
            tally.errors[response.status] += 1
            return
        tally.readings += json.loads(answer)["accepted"]

    def close(self) -> None:
        self.conn.close()


COLUMNS = (
    "device_id, resident_id, metric, value, unit, original_value, original_unit, "
    "measured_at, received_at, source"
)


def _rows(device: dict, batch: int, tick: str, received: str, zone: str) -> list[tuple]:
    return [
        (
            device["id"],
            device["resident_id"],
            m,
            v,
            u,
            v,
            u,
            f"{tick}{i:03d}{zone}",
            received,
            "json",
        )
        for i, (m, u, v) in ((i, _reading(i)) for i in range(batch))
    ]


class CopyWriter:
    """The PostgreSQL limit: psycopg COPY of each batch, one transaction per batch."""

    def __init__(self, libpq: str, device: dict, batch: int):
        import psycopg

        self.conn = psycopg.connect(libpq)
        self.device, self.batch, self.clock = device, batch, Clock()

    def push(self, tally: Tally) -> None:
        received = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
        rows = _rows(self.device, self.batch, self.clock.tick(), received, "+00:00")
        tally.sent += self.batch
        with self.conn.cursor() as cur, cur.copy(f"COPY readings ({COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        self.conn.commit()
        tally.readings += len(rows)

    def close(self) -> None:
        self.conn.close()


class SqliteWriter:
    """The SQLite analogue of the limit (SQLite has no COPY): sqlite3 executemany of each
    batch in one transaction, times stored the way SQLAlchemy stores them (naive UTC)."""

    def __init__(self, path: str, device: dict, batch: int):
        self.conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        self.device, self.batch, self.clock = device, batch, Clock(separator=" ")
        self.sql = (
            "INSERT INTO readings (device_id, resident_id, metric, value, unit, original_value,"
            " original_unit, measured_at, received_at, source) VALUES (?,?,?,?,?,?,?,?,?,?)"
        )

    def push(self, tally: Tally) -> None:
        received = time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime())
        rows = _rows(self.device, self.batch, self.clock.tick(), received, "")
        tally.sent += self.batch
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.executemany(self.sql, rows)
        self.conn.execute("COMMIT")
        tally.readings += len(rows)

    def close(self) -> None:
        self.conn.close()


@dataclass
class Result:
    readings: int
    seconds: float
    sent: int
    errors: Counter
    stored: int  # accepted during warm-up and timed part: what the table must hold

    @property
    def rate(self) -> float:
        return self.readings / self.seconds if self.seconds else 0.0


def drive(make_client, devices: list[dict], seconds: float, warmup: float) -> Result:
    """One client per device, each in its own thread: warm up, meet at a barrier, then push
    for `seconds`. Only the timed part counts; the clock stops when the last answer is in."""
    window: dict[str, float] = {}

    def open_window() -> None:  # runs once, when the last client is warm
        window["start"] = time.monotonic()
        window["end"] = window["start"] + seconds

    barrier = threading.Barrier(len(devices), action=open_window)
    tallies = [Tally() for _ in devices]
    warm = [Tally() for _ in devices]
    finished = [0.0] * len(devices)
    failures: list[BaseException] = []

    def run(n: int, device: dict) -> None:
        client = None
        try:
            client = make_client(device)
            until = time.monotonic() + warmup
            while time.monotonic() < until:
                client.push(warm[n])
            barrier.wait()
            while time.monotonic() < window["end"]:
                client.push(tallies[n])
            finished[n] = time.monotonic()
        except BaseException as exc:
            failures.append(exc)
            barrier.abort()
        finally:
            if client is not None:
                client.close()

    threads = [
        threading.Thread(target=run, args=(n, d), daemon=True) for n, d in enumerate(devices)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"a client failed: {failures[0]!r}") from failures[0]
    errors = sum((t.errors for t in tallies), Counter())
    total = sum(t.readings for t in tallies)
    stored = total + sum(t.readings for t in warm)
    sent = sum(t.sent for t in tallies)
    return Result(total, max(finished) - window["start"], sent, errors, stored)
