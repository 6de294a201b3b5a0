"""What the wearables simulator measures: a profile per resident (their own baselines), a
day/night rhythm, noise, sensor dropouts, and for a few residents a drift towards a
clinically worrying state. Pure functions of (profile, time, progress, random source): no
database, no network, so a seed repeats a run.

`progress` is how far the deterioration has gone: 0 before the run starts (history pushed
by --backfill is a resident's ordinary days), 1 at the end of the run.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from app.residents.models import ChronicCondition, Mobility
from app.timeutil import LOCAL_TZ


@dataclass(frozen=True)
class Vital:
    """How one vital sign behaves: noise, the day/night swing (amplitude, hour of its
    peak), where a deteriorating resident ends up, and the decimals a device shows."""

    sd: float
    amplitude: float
    peak_hour: float
    decimals: int
    worse: float | None = None  # absolute target; None: `worse_by` is added instead
    worse_by: float = 0.0
    high: float | None = None  # a sensor never shows more (SpO2 100 %)


VITALS = {
    "heart_rate": Vital(sd=2.5, amplitude=6, peak_hour=15, decimals=0, worse_by=40),
    "respiratory_rate": Vital(sd=0.8, amplitude=1, peak_hour=15, decimals=0, worse=28),
    "spo2": Vital(sd=0.6, amplitude=0.5, peak_hour=14, decimals=0, worse=88, high=100),
    # core temperature is lowest at about 04:00 and highest early in the evening
    "body_temperature": Vital(sd=0.08, amplitude=0.3, peak_hour=18, decimals=1, worse=38.5),
    "systolic_bp": Vital(sd=5, amplitude=8, peak_hour=10, decimals=0, worse_by=15),
    "diastolic_bp": Vital(sd=3, amplitude=5, peak_hour=10, decimals=0, worse_by=8),
    "blood_glucose": Vital(sd=0.4, amplitude=0.6, peak_hour=13, decimals=1, worse=16),
}
HYPERTENSIVE_CRISIS = {"systolic_bp": 185.0, "diastolic_bp": 112.0}

# How often each device measures, in seconds; "vitals" is the watch's own rate (--rate).
# A real cuff or glucometer is used a few times a day: here more often, so a ten-minute
# demo shows a line.
SCHEDULE = {
    "watch": {"vitals": None, "body_temperature": 60, "steps": 60},
    "blood_pressure_monitor": {"blood_pressure": 300},
    "glucometer": {"blood_glucose": 900},
}
# Chance that a measurement is missing: the watch off the wrist or the cuff not used
# ("sample": everything measured at that moment), an arm moved during the SpO2 reading.
DROPOUT = {"sample": 0.03, "spo2": 0.05}
# Battery drain in percent per hour.
DRAIN = {"watch": 1.5, "blood_pressure_monitor": 0.1, "glucometer": 0.05}
# Share of a day's steps walked in each local hour, 00:00 to 23:00.
ACTIVITY = (0, 0, 0, 0, 0, 0, 2, 6, 10, 10, 8, 6, 4, 5, 7, 8, 8, 7, 6, 5, 3, 1, 0, 0)
STEPS_A_DAY = {
    Mobility.INDEPENDENT: (3000, 7000),
    Mobility.NEEDS_ASSISTANCE: (800, 2500),
    Mobility.WHEELCHAIR: (0, 300),
    Mobility.BEDRIDDEN: (0, 50),
}
EVENT_AT = 0.75  # the one deteriorating resident with an event has it three quarters in


@dataclass(frozen=True)
class Profile:
    resident_id: int
    seed: int
    baseline: dict[str, float]
    steps_a_day: int
    deteriorating: bool = False
    hypertensive: bool = False
    event: str | None = None  # "fall" or "sos", once
    battery: dict[str, float] = field(default_factory=dict)  # starting level per device kind


def make_profile(
    resident_id: int,
    conditions: list[ChronicCondition],
    mobility: Mobility,
    seed: int,
    deteriorating: bool = False,
    event: str | None = None,
) -> Profile:
    rng = random.Random(f"{seed}-{resident_id}")  # noqa: S311  (simulated data, not secrets)
    hypertensive = ChronicCondition.HYPERTENSION in conditions
    baseline = {
        "heart_rate": rng.uniform(60, 85),
        "spo2": rng.uniform(95, 99) - (2 if ChronicCondition.COPD in conditions else 0),
        "respiratory_rate": rng.uniform(12, 18),
        "body_temperature": rng.uniform(36.3, 36.7),
        "systolic_bp": rng.uniform(140, 155) if hypertensive else rng.uniform(112, 132),
        "diastolic_bp": rng.uniform(86, 94) if hypertensive else rng.uniform(68, 82),
    }
    if ChronicCondition.TYPE2_DIABETES in conditions:
        baseline["blood_glucose"] = rng.uniform(5, 8)
    low, high = STEPS_A_DAY.get(mobility, STEPS_A_DAY[Mobility.INDEPENDENT])
    return Profile(
        resident_id=resident_id,
        seed=seed,
        baseline=baseline,
        steps_a_day=rng.randint(low, high),
        deteriorating=deteriorating,
        hypertensive=hypertensive,
        event=event,
        battery={kind: rng.uniform(55, 100) for kind in DRAIN},
    )


def devices_for(profile: Profile) -> list[str]:
    """The device kinds a resident wears or keeps at home."""
    kinds = ["watch", "blood_pressure_monitor"]
    return kinds + (["glucometer"] if "blood_glucose" in profile.baseline else [])


def _ease(progress: float) -> float:
    """Deterioration starts slowly, then speeds up, then levels off (smoothstep)."""
    p = min(max(progress, 0.0), 1.0)
    return p * p * (3 - 2 * p)


def _target(profile: Profile, metric: str) -> float:
    vital, base = VITALS[metric], profile.baseline[metric]
    if profile.hypertensive and metric in HYPERTENSIVE_CRISIS:
        return HYPERTENSIVE_CRISIS[metric]
    return vital.worse if vital.worse is not None else base + vital.worse_by


def value_of(
    profile: Profile, metric: str, when: datetime, progress: float, rng: random.Random
) -> float:
    """One measurement: baseline, day/night swing, drift when deteriorating, noise."""
    vital, value = VITALS[metric], profile.baseline[metric]
    hour = when.astimezone(LOCAL_TZ)
    hour = hour.hour + hour.minute / 60
    value += vital.amplitude * math.cos(2 * math.pi * (hour - vital.peak_hour) / 24)
    if profile.deteriorating:
        value += (_target(profile, metric) - profile.baseline[metric]) * _ease(progress)
    value += rng.gauss(0, vital.sd)
    if vital.high is not None:
        value = min(value, vital.high)
    return round(value, vital.decimals) if vital.decimals else round(value)


def steps_by(profile: Profile, when: datetime) -> int:
    """Steps walked since local midnight: rises through the day, never falls within it."""
    local = when.astimezone(LOCAL_TZ)
    day_rng = random.Random(f"{profile.seed}-{profile.resident_id}-{local:%Y%m%d}")  # noqa: S311
    today = profile.steps_a_day * day_rng.uniform(0.8, 1.2)
    hour = local.hour + local.minute / 60 + local.second / 3600
    done = sum(ACTIVITY[: int(hour)]) + ACTIVITY[int(hour)] * (hour % 1)
    return round(today * done / sum(ACTIVITY))


def battery_at(profile: Profile, kind: str, when: datetime, since: datetime) -> int:
    """The battery level: starts where the profile says, drains slowly, never below 5 %."""
    hours = max((when - since).total_seconds(), 0) / 3600
    return max(5, round(profile.battery[kind] - DRAIN[kind] * hours))


def sample_times(after: datetime, upto: datetime, every: float) -> list[datetime]:
    """The measurement times in (after, upto], on multiples of `every` seconds since the
    epoch: a second run measuring the same stretch (a repeated --backfill) hits the same
    times, so the platform counts duplicates instead of doubling the chart."""
    first = math.floor(after.timestamp() / every) + 1
    last = math.floor(upto.timestamp() / every)
    return [datetime.fromtimestamp(k * every, UTC) for k in range(first, last + 1)]


def stamp(when: datetime) -> str:
    """ISO 8601 with the local offset, as a device in Shanghai would send it."""
    return when.astimezone(LOCAL_TZ).isoformat(timespec="milliseconds")


def progress_at(when: datetime, start: datetime, horizon: timedelta) -> float:
    return min(max((when - start) / horizon, 0.0), 1.0)


def intervals(kind: str, watch_every: float) -> dict[str, float]:
    return {name: every or watch_every for name, every in SCHEDULE[kind].items()}


def _watch(profile, when, progress, rng) -> list[dict]:
    return [
        {"metric": metric, "value": value_of(profile, metric, when, progress, rng), "unit": unit}
        for metric, unit in (("heart_rate", "/min"), ("respiratory_rate", "/min"), ("spo2", "%"))
        if not (metric == "spo2" and rng.random() < DROPOUT["spo2"])
    ]


def readings_for(
    profile: Profile,
    kind: str,
    after: datetime,
    upto: datetime,
    watch_every: float,
    start: datetime,
    horizon: timedelta,
    rng: random.Random,
) -> list[dict]:
    """Everything one device measured in (after, upto], as native ingest readings."""
    readings = []
    for name, every in intervals(kind, watch_every).items():
        for when in sample_times(after, upto, every):
            if rng.random() < DROPOUT["sample"]:
                continue
            progress = progress_at(when, start, horizon)
            readings += [
                item | {"measured_at": stamp(when)}
                for item in _measure(profile, name, when, progress, rng)
            ]
    if kind == "watch" and profile.event:
        moment = start + horizon * EVENT_AT
        if after < moment <= upto:
            readings.append({"metric": profile.event, "measured_at": stamp(moment)})
    readings.sort(key=lambda r: r["measured_at"])
    return readings


def _measure(profile, name, when, progress, rng) -> list[dict]:
    if name == "vitals":
        return _watch(profile, when, progress, rng)
    if name == "steps":
        return [{"metric": "steps", "value": steps_by(profile, when), "unit": "/d"}]
    if name == "blood_pressure":
        return [
            {
                "metric": "blood_pressure",
                "systolic": value_of(profile, "systolic_bp", when, progress, rng),
                "diastolic": value_of(profile, "diastolic_bp", when, progress, rng),
                "unit": "mm[Hg]",
            }
        ]
    unit = {"body_temperature": "Cel", "blood_glucose": "mmol/L"}[name]
    return [{"metric": name, "value": value_of(profile, name, when, progress, rng), "unit": unit}]


def rows_in(readings: list[dict]) -> int:
    """How many rows the platform stores for these readings (blood pressure gives two)."""
    return sum(2 if r["metric"] == "blood_pressure" else 1 for r in readings)
