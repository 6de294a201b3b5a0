"""`flask --app wsgi simulate-wearables`: simulated residents' watches, blood-pressure
monitors and glucometers pushing realistic vitals to the platform over HTTP or MQTT, a few
residents deteriorating, for the demo and for benchmarks (docs/WEARABLES.md, "Simulator").

Setup runs here, in the app context, as the seeded administrator: residents (the demo's
first, simulated ones added when there are too few), their devices registered and bound,
or reused with a fresh token. Then the simulator talks to the platform only through its
public contract, as a device would. What is measured: wearables/simulator_profiles.py.
"""

from __future__ import annotations

import random
import signal
import threading
from dataclasses import dataclass
from datetime import date, timedelta

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from app import crypto, idcard
from app.accounts.models import Organisation, OrganisationKind, Role, Team, User
from app.errors import DomainError
from app.extensions import db
from app.residents import services as residents_service
from app.residents.models import ChronicCondition, Mobility, Resident, Sex
from app.timeutil import utcnow
from wearables import devices as devices_service
from wearables import simulator_profiles as physiology
from wearables.models import Device, DeviceStatus
from wearables.simulator_run import Runner, SimDevice, Stats
from wearables.simulator_transports import transport_for

SIMULATED_NAME = "模拟居民"  # "simulated resident": never a real person
SERIAL_PREFIX = {"watch": "SIM-W", "blood_pressure_monitor": "SIM-BP", "glucometer": "SIM-GL"}
MODEL = {"watch": "SimWatch 1", "blood_pressure_monitor": "SimCuff 1", "glucometer": "SimGluco 1"}
VENDOR = "Kangyang simulator"
HORIZON_UNTIL_STOPPED = timedelta(minutes=30)  # --minutes 0: worst after half an hour


@dataclass
class Setup:
    devices: list[SimDevice]
    resident_ids: list[int]
    deteriorating: list[int]
    created: int = 0
    registered: int = 0
    reused: int = 0


def _actor() -> User:
    """The seeded administrator: the platform has no system account, and the residents'
    register and devices record who made each change."""
    query = (
        sa.select(User)
        .where(User.role == Role.ADMIN, User.active)
        .order_by(User.username != "admin", User.id)
    )
    admin = db.session.scalars(query).first()
    if admin is None:
        raise click.ClickException(
            "no active administrator to act as: run `flask seed-demo` or "
            "`flask create-user admin --role admin` first"
        )
    return admin


def _neighbourhood_id() -> int:
    """Where simulated residents live: the first team's first neighbourhood, as the demo's."""
    team = db.session.scalars(sa.select(Team).where(Team.active).order_by(Team.id)).first()
    if team is not None and team.neighbourhoods:
        return min(n.id for n in team.neighbourhoods)
    kind = OrganisationKind.NEIGHBOURHOOD_COMMITTEE
    found = db.session.scalar(
        sa.select(Organisation.id).where(Organisation.kind == kind).order_by(Organisation.id)
    )
    if found is None:
        raise click.ClickException("no neighbourhood committee for simulated residents to live in")
    return found


def _free_national_id(number: int, sex: Sex) -> tuple[date, str]:
    """A valid, unused ID number (GB 11643 check digit) for the n-th simulated resident."""
    born = date(1936 + number * 7 % 25, 1 + number % 12, 1 + number * 5 % 28)
    for order in range(100):
        national_id = idcard.make(f"310115{born:%Y%m%d}{order:02d}{1 if sex == Sex.MALE else 2}")
        taken = sa.select(Resident.id).where(
            Resident.national_id_digest == crypto.digest(national_id)
        )
        if db.session.scalar(taken) is None:
            return born, national_id
    raise click.ClickException("could not find a free national ID for a simulated resident")


def _simulated_resident(admin: User, number: int, neighbourhood_id: int) -> Resident:
    sex = Sex.MALE if number % 2 else Sex.FEMALE
    born, national_id = _free_national_id(number, sex)
    conditions = [ChronicCondition.HYPERTENSION] if number % 3 == 1 else []
    if number % 4 == 2:
        conditions.append(ChronicCondition.TYPE2_DIABETES)
    return residents_service.register_resident(
        admin,
        {
            "name": f"{SIMULATED_NAME} {number}",
            "sex": sex,
            "birth_date": born,
            "national_id": national_id,
            "address": f"{SIMULATED_NAME}地址 {number} 号",
            "neighbourhood_id": neighbourhood_id,
            "living_alone": number % 3 == 0,
            "mobility": Mobility.INDEPENDENT if number % 5 else Mobility.NEEDS_ASSISTANCE,
            "conditions": conditions,
        },
    )


def _residents(admin: User, count: int) -> tuple[list[Resident], int]:
    """The first `count` residents by id, adding simulated ones when there are fewer."""
    chosen = list(db.session.scalars(sa.select(Resident).order_by(Resident.id).limit(count)))
    missing = count - len(chosen)
    if missing <= 0:
        return chosen, 0
    named = Resident.name.like(f"{SIMULATED_NAME} %")
    number = db.session.scalar(sa.select(sa.func.count()).where(named)) or 0
    neighbourhood_id = _neighbourhood_id()
    for _ in range(missing):
        number += 1
        chosen.append(_simulated_resident(admin, number, neighbourhood_id))
    return chosen, missing


def _worsening(chosen: list[Resident], count: int) -> list[int]:
    """Who deteriorates: hypertensive residents first (a blood pressure of 185/112 is the
    demo's clearest alarm), then the others, each in id order."""
    ordered = sorted(
        chosen, key=lambda r: (ChronicCondition.HYPERTENSION not in r.conditions, r.id)
    )
    return [r.id for r in ordered[:count]]


def _device(admin: User, resident_id: int, kind: str) -> tuple[Device, str, bool]:
    """The resident's simulated device of this kind with a fresh token, registered if it
    is not there yet; True when it was reused. A device marked lost is left alone."""
    serial = f"{SERIAL_PREFIX[kind]}-{resident_id:06d}"
    for suffix in ["", *(f"-{n}" for n in range(2, 10))]:
        device = db.session.scalar(sa.select(Device).where(Device.serial == serial + suffix))
        if device is None:
            data = {"serial": serial + suffix, "kind": kind, "model": MODEL[kind]}
            device, token = devices_service.register(
                admin, data | {"vendor": VENDOR, "resident_id": resident_id}
            )
            return device, token, False
        if device.status == DeviceStatus.LOST:
            continue
        if device.resident_id != resident_id or device.status != DeviceStatus.ACTIVE:
            devices_service.bind(admin, device, resident_id)
        device, token = devices_service.rotate_token(admin, device)
        return device, token, True
    raise click.ClickException(f"every simulated {kind} serial of resident {resident_id} is lost")


def set_up(count: int, worsening: int, seed: int) -> Setup:
    """Residents, profiles and devices with fresh tokens; committed."""
    admin = _actor()
    chosen, created = _residents(admin, count)
    sick = _worsening(chosen, worsening)
    setup = Setup(devices=[], resident_ids=[r.id for r in chosen], deteriorating=sick)
    setup.created = created
    for resident in chosen:
        event = None
        if sick and resident.id == sick[0]:  # one of them falls or presses SOS, once
            event = "sos" if resident.mobility == Mobility.BEDRIDDEN else "fall"
        profile = physiology.make_profile(
            resident.id, resident.conditions, resident.mobility, seed, resident.id in sick, event
        )
        for kind in physiology.devices_for(profile):
            device, token, reused = _device(admin, resident.id, kind)
            setup.reused += reused
            setup.registered += not reused
            rng = random.Random(f"{seed}-{device.serial}")  # noqa: S311  (simulated data)
            setup.devices.append(SimDevice(device.id, device.serial, kind, token, profile, rng))
    db.session.commit()
    return setup


def _id_ranges(ids: list[int]) -> str:
    """1, 2, 3, 4, 9 as "1-4, 9": a benchmark's thousand residents stay one line."""
    ranges: list[list[int]] = []
    for i in sorted(ids):
        if ranges and i == ranges[-1][1] + 1:
            ranges[-1][1] = i
        else:
            ranges.append([i, i])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges) or "none"


def _summary(setup: Setup, transport: str) -> str:
    ids, sick = _id_ranges(setup.resident_ids), _id_ranges(setup.deteriorating)
    return (
        f"Simulating {len(setup.resident_ids)} residents (ids {ids}; {setup.created} simulated "
        f"residents added), {len(setup.devices)} devices ({setup.registered} registered, "
        f"{setup.reused} reused with a fresh token).\nDeteriorating: residents {sick}. "
        f"Pushing over {transport}."
    )


def _check_backfill(hours: float) -> None:
    window = current_app.config["INGEST_MAX_AGE_DAYS"] * 24
    if hours >= window - 1:
        raise click.BadParameter(
            f"must stay inside the ingest window of {window} hours (INGEST_MAX_AGE_DAYS)",
            param_hint="--backfill",
        )


def _stop_on_sigterm(stop: threading.Event):
    """`make run SIMULATE=1` stops the simulator with SIGTERM: finish like Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, lambda *_: stop.set())


@click.command("simulate-wearables")
@click.option(
    "--residents", "count", type=click.IntRange(1, 100_000), default=10, show_default=True
)
@click.option(
    "--minutes",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    help="How long to push live readings; 0 runs until interrupted.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0.1, max=600),
    default=6.0,
    show_default=True,
    help="Watch measurements (heart rate, SpO2, respiratory rate) per resident per minute.",
)
@click.option("--url", default="http://127.0.0.1:5000", show_default=True)
@click.option(
    "--mqtt",
    "mqtt_url",
    is_flag=False,
    flag_value="config",
    default=None,
    help="Publish over MQTT to this broker instead of HTTP (`--mqtt` alone: MQTT_URL).",
)
@click.option("--deteriorating", type=click.IntRange(min=0), help="[default: 10 %, at least 1]")
@click.option("--seed", type=int, default=2026, show_default=True)
@click.option(
    "--backfill",
    type=click.FloatRange(min=0),
    default=0.0,
    help="First push this many hours of history, so the charts have something.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    help="HTTP requests in parallel [default: 1 on SQLite, which writes one at a time; else 4]",
)
@click.option("--wait", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Seconds to wait for the platform to answer before giving up.")  # fmt: skip
@with_appcontext
def simulate_wearables(
    count, minutes, rate, url, mqtt_url, deteriorating, seed, backfill, concurrency, wait
):
    """Push simulated residents' vitals to the platform (demo and benchmarks)."""
    if current_app.config["NAME"] == "production":
        raise click.ClickException("simulate-wearables is refused in production")
    _check_backfill(backfill)
    worsening = max(1, round(count / 10)) if deteriorating is None else min(deteriorating, count)
    if concurrency is None:
        sqlite = current_app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
        concurrency = 1 if sqlite else 4
    transport = transport_for(current_app.config, url, mqtt_url, concurrency)  # checks the URLs
    try:
        setup = set_up(count, worsening, seed)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(
            f"setup refused: {exc.field or 'error'}: {exc.message}"
        ) from None
    click.echo(_summary(setup, transport.describe()))
    stop = threading.Event()
    previous = _stop_on_sigterm(stop)
    try:
        transport.open(wait, stop)
        stats = None if stop.is_set() else _run(setup, transport, minutes, rate, backfill, stop)
    finally:
        transport.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if stats is None:
        click.echo("Stopped before pushing anything.")
        return
    _finish(stats, transport)


def _run(setup: Setup, transport, minutes: float, rate: float, backfill: float, stop) -> Stats:
    """The deterioration runs over the whole run (its worst at the end), or over half an
    hour when the run has no end."""
    start = utcnow()
    horizon = timedelta(minutes=minutes) if minutes else HORIZON_UNTIL_STOPPED
    runner = Runner(setup.devices, transport, start, horizon, rate, click.echo)
    return runner.run(backfill, start + horizon if minutes else None, stop)


def _finish(stats: Stats, transport) -> None:
    click.echo(f"Done. {stats.line()}")
    if not stats.any_success():
        raise click.ClickException(f"the platform took nothing: {transport.refusal(stats)}")
