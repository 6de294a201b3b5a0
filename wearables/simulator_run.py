"""The simulator's rounds: every few seconds, each device's readings since its last round
go to the platform in one request or message (wearables/simulator_transports.py), and
the counts are printed each minute. Talks to the platform only through its public contract.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import click

from app.timeutil import LOCAL_TZ, utcnow
from wearables import simulator_profiles as physiology

BATCH = 1000  # readings per request: far under the 5000 and 1 MiB an ingest request allows


@dataclass
class SimDevice:
    id: int
    serial: str
    kind: str
    token: str
    profile: physiology.Profile
    rng: random.Random


@dataclass
class Result:
    rows: int
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    delivered: int = 0  # MQTT: rows the broker acknowledged (the bridge stores them later)
    failure: str | None = None  # "HTTP 401", "ConnectionRefusedError", ...


COUNTS = ("requests", "sent", "accepted", "duplicate", "rejected", "delivered", "errors", "late")


@dataclass
class Stats:
    requests: int = 0
    sent: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    delivered: int = 0
    errors: int = 0  # requests or messages that failed as a whole
    late: int = 0  # rounds that took longer than the interval between rounds
    failures: Counter = field(default_factory=Counter)
    noun: str = "requests"  # MQTT: "messages"

    def add(self, result: Result) -> None:
        self.requests += 1
        self.sent += result.rows
        self.accepted += result.accepted
        self.duplicate += result.duplicate
        self.rejected += result.rejected
        self.delivered += result.delivered
        if result.failure:
            self.errors += 1
            self.failures[result.failure] += 1

    def minus(self, other: Stats) -> Stats:
        delta = Stats(**{n: getattr(self, n) - getattr(other, n) for n in COUNTS}, noun=self.noun)
        delta.failures = self.failures - other.failures
        return delta

    def copy(self) -> Stats:
        return self.minus(Stats(noun=self.noun))

    def any_success(self) -> bool:
        return self.accepted + self.duplicate + self.delivered > 0

    def line(self) -> str:
        counts = f"sent {self.sent} readings in {self.requests} {self.noun}"
        if self.delivered:
            counts += f", delivered to the broker {self.delivered}"
        else:
            counts += f", accepted {self.accepted}, duplicate {self.duplicate}"
            counts += f", rejected {self.rejected}"
        failures = ", ".join(f"{k} ×{v}" for k, v in self.failures.most_common())
        counts += f", errors {self.errors}" + (f" ({failures})" if failures else "")
        if self.late:  # nothing is lost (the next round carries more), but it is not live
            counts += f"; {self.late} rounds late: the platform or --concurrency is the limit"
        return counts


def _lead(device: SimDevice) -> timedelta:
    """How far back a device's first live round reaches: its slowest measurement's interval."""
    return timedelta(seconds=max(every or 0 for every in physiology.SCHEDULE[device.kind].values()))


class Runner:
    """Backfill (optional), then a round of readings every few seconds until the end."""

    def __init__(self, devices, transport, start, horizon, rate, echo, report_every=60.0):
        self.devices, self.transport, self.echo = devices, transport, echo
        self.start, self.horizon = start, horizon
        self.watch_every = 60 / rate
        self.push_every = max(self.watch_every, transport.min_interval)
        self.report_every = report_every
        self.stats, self.rounds = Stats(noun=transport.noun), 0
        self.battery_since = start

    def _bodies(self, device: SimDevice, after: datetime, upto: datetime, every: float):
        readings = physiology.readings_for(
            device.profile, device.kind, after, upto, every, self.start, self.horizon, device.rng
        )
        battery = physiology.battery_at(device.profile, device.kind, upto, self.battery_since)
        chunks = [readings[i : i + BATCH] for i in range(0, len(readings), BATCH)]
        return [({"battery": battery, "readings": c}, physiology.rows_in(c)) for c in chunks]

    def _push(self, jobs) -> None:
        for result in self.transport.send_all([job for job in jobs if job[1]]):
            self.stats.add(result)
        self.rounds += 1
        self._give_up_if_refused()

    def _give_up_if_refused(self) -> None:
        """Stop early when the platform refuses everything: a 4xx (a wrong --url, a token it
        does not know) at once, anything else after three rounds."""
        stats = self.stats
        if stats.any_success() or not stats.requests or stats.errors < stats.requests:
            return
        client_errors = all(k.startswith("HTTP 4") and k != "HTTP 429" for k in stats.failures)
        if client_errors or self.rounds >= 3:
            raise click.ClickException(
                f"the platform took nothing: {self.transport.refusal(stats)}"
            )

    def backfill(self, hours: float) -> None:
        since = self.start - timedelta(hours=hours)
        self.battery_since = since
        every = max(self.watch_every, 60.0)  # history at most once a minute: charts, not load
        self._push([(d, self._bodies(d, since, self.start, every)) for d in self.devices])
        self.echo(f"Backfilled {hours:g} hours: {self.stats.line()}")

    def _live_round(self, last: dict, upto: datetime) -> None:
        jobs = [(d, self._bodies(d, last[d.id], upto, self.watch_every)) for d in self.devices]
        for device in self.devices:
            last[device.id] = upto
        self._push(jobs)

    def run(self, backfill_hours: float, end: datetime | None, stop: threading.Event) -> Stats:
        try:
            if backfill_hours:
                self.backfill(backfill_hours)
            if not stop.is_set():
                self._live(end, stop, after_backfill=bool(backfill_hours))
        except KeyboardInterrupt:
            stop.set()  # the transport's threads stop sending too
            self.echo("Interrupted: stopping.")
        return self.stats

    def _live(self, end, stop, after_backfill: bool) -> None:
        # Without history, the first round carries each device's latest measurements.
        last = {
            d.id: self.start - (timedelta(0) if after_backfill else _lead(d)) for d in self.devices
        }
        next_round = last_report = time.monotonic()
        reported = self.stats.copy()
        while not stop.is_set():
            now = utcnow()
            self._live_round(last, min(now, end) if end else now)
            if end is not None and now >= end:
                break
            if time.monotonic() >= last_report + self.report_every:
                self._report(reported)
                reported, last_report = self.stats.copy(), time.monotonic()
            next_round += self.push_every
            pause = next_round - time.monotonic()
            if pause < 0:
                self.stats.late += 1
                next_round = time.monotonic()
            if end is not None:
                pause = min(pause, (end - utcnow()).total_seconds())
            stop.wait(max(pause, 0))
        self._report(reported)

    def _report(self, since: Stats) -> None:
        """What happened since the last line (a minute, or the end of the run)."""
        self.echo(f"{utcnow().astimezone(LOCAL_TZ):%H:%M:%S} {self.stats.minus(since).line()}")
