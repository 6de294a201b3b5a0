"""Sustained readings per second through `POST /api/v1/ingest`, beside two baselines
measured in the same run on the same database and machine:

- bare:  a Flask endpoint (bench/bare_app.py) that inserts the same readings into the same
         table with SQLAlchemy Core and checks nothing, served by the same gunicorn;
- limit: the database on its own: psycopg COPY on PostgreSQL; on SQLite, which has no COPY,
         sqlite3 executemany (one transaction per batch in both).

The ingest endpoint runs with the alert rules on (ALERT_RULES_ENABLED=1); --alerts off or
both measures it without them too (column ingest-norules), which prices the rules.

Each case (database x batch size x target) starts from an empty readings table and a fresh
gunicorn (so each worker's peak memory belongs to that case), warms up, then runs for
--seconds with --clients concurrent clients, one device each. It prints readings/s, the
ratios ingest/bare and ingest/limit, and each gunicorn worker's peak memory (VmHWM).
Results and what they mean: docs/PERFORMANCE.md.

    .venv/bin/python bench/ingest.py --db both --seconds 10 --batches 1,100,1000
"""

import argparse
import os
import signal
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import load, report, servers  # noqa: E402


@dataclass(frozen=True)
class Target:
    """An app gunicorn serves, with `env` added to the app's environment."""

    name: str
    app: str
    env: dict = field(default_factory=dict)


INGEST = Target("ingest", "wsgi:app", {"ALERT_RULES_ENABLED": "1"})
INGEST_NO_RULES = Target("ingest-norules", "wsgi:app", {"ALERT_RULES_ENABLED": "0"})
BARE = Target("bare", "bench.bare_app:app")
ALERTS = {"on": (INGEST,), "off": (INGEST_NO_RULES,), "both": (INGEST, INGEST_NO_RULES)}


def _arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seconds", type=float, default=10, help="timed run per case")
    parser.add_argument("--warmup", type=float, default=2, help="untimed run before each")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run every case this many times, in turn; the table shows medians",
    )
    parser.add_argument(
        "--batches",
        type=lambda s: [int(b) for b in s.split(",")],
        default=[1, 100, 1000],
        help="readings per request, comma-separated (default 1,100,1000)",
    )
    parser.add_argument(
        "--alerts",
        choices=tuple(ALERTS),
        default="on",
        help="the alert rules in the ingest path (ALERT_RULES_ENABLED); both = two columns",
    )
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (devices)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--worker-class",
        default="sync",
        help="gunicorn worker class: sync (default) closes the connection after each answer; "
        "gthread keeps it, so a client stays with one worker",
    )
    parser.add_argument(
        "--ratelimit-storage",
        default="memory://",
        help="the app's RATELIMIT_STORAGE_URI (memory:// counts per worker; redis://... is "
        "what several workers need in production)",
    )
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get(
            "BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL URL whose server may CREATE DATABASE (env BENCH_PG_ADMIN_URL)",
    )
    args = parser.parse_args(argv)
    if min(args.batches) < 1 or min(args.clients, args.rounds) < 1 or args.seconds <= 0:
        parser.error("batches, clients, rounds and seconds must be positive")
    if max(args.batches) > load.MAX_BATCH:
        parser.error(f"at most {load.MAX_BATCH} readings a request")
    args.served = (*ALERTS[args.alerts], BARE)
    return args


def _check_stored(db: servers.Database, name: str, result: load.Result, case) -> None:
    """What the answers said was accepted must be in the table, no more and no less."""
    held = db.count_readings()
    if held != result.stored:
        case.problems.append(f"{name}: answers accepted {result.stored}, the table holds {held}")


def _served(db: servers.Database, target: Target, batch: int, args, logs: Path, case) -> None:
    db.empty_readings()
    log = logs / f"{db.kind}-{target.name}-{batch}.log"
    env = db.env | {"RATELIMIT_STORAGE_URI": args.ratelimit_storage} | target.env
    with servers.gunicorn(target.app, env, args.workers, args.worker_class, log) as server:

        def client(device):
            return load.HttpClient(server.port, device, batch)

        cpu = server.cpu_seconds()
        result = load.drive(client, db.devices, args.seconds, args.warmup)
        cpu = server.cpu_seconds() - cpu
        case.add(target.name, result, server.peak_memory_mib(), cpu)
    _check_stored(db, target.name, result, case)


def _limit(db: servers.Database, batch: int, args, case) -> None:
    db.empty_readings()
    if db.kind == "postgresql":

        def writer(device):
            return load.CopyWriter(db.libpq, device, batch)

    else:

        def writer(device):
            return load.SqliteWriter(db.sqlite_path, device, batch)

    result = load.drive(writer, db.devices, args.seconds, args.warmup)
    case.add("limit", result)
    _check_stored(db, "limit", result, case)


def run_database(kind: str, args, logs: Path) -> list[report.Case]:
    cases = []
    with servers.database(kind, args.pg_admin_url, args.clients) as db:
        for batch in args.batches:
            case = report.Case(kind, batch)
            for n in range(args.rounds):
                for target in args.served:
                    _served(db, target, batch, args, logs, case)
                _limit(db, batch, args, case)
                print(f"  {kind} batch {batch} round {n + 1}: done", file=sys.stderr, flush=True)
            cases.append(case)
    return cases


def _stop_on_term(*_) -> None:
    raise KeyboardInterrupt  # so every `finally` stops its servers and drops its database


def main(argv=None) -> int:
    args = _arguments(argv)
    signal.signal(signal.SIGTERM, _stop_on_term)
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    cases = []
    with tempfile.TemporaryDirectory(prefix="kangyang-bench-logs-") as logs:
        for kind in kinds:
            cases += run_database(kind, args, Path(logs))
    limits = {"sqlite": "sqlite3 executemany", "postgresql": "psycopg COPY"}
    served = [t.name for t in args.served]
    print(report.table(cases, served))
    print()
    print(report.cpu_table(cases, served))
    print()
    print(
        f"{args.clients} clients, {args.workers} gunicorn workers ({args.worker_class}), "
        f"rate limits in {args.ratelimit_storage}, "
        f"{args.seconds:g} s per case after {args.warmup:g} s warm-up, {args.rounds} round(s)"
        "; limit = "
        + ", ".join(f"{limits[k]} ({k})" for k in kinds)
        + "; worker MiB = peak resident memory (VmHWM) of each worker"
    )
    for line in report.notes(cases):
        print(line)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: servers stopped, databases dropped", file=sys.stderr)
        sys.exit(130)
