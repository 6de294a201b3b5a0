"""The KPI board and the monthly review at town scale: a fresh database with a town of
--residents residents, --contracts contracts in force, a year of follow-ups, alerts, referrals
and video visits and --readings wearable readings (bench/kpi_seed.py writes it with
server-side INSERT ... SELECT), then each case timed --rounds times (median and min):

- the town's board for last month with no snapshots (cold: all 12 trend months computed);
- one team's board, cold;
- the kpis.snapshot job (app.kpis.board.snapshot_closed_months) on its first night (no
  snapshot yet: 24 months) and on a later night (only last month is recomputed);
- the town's board and the team's board after it (warm: the trend read from snapshots), and
  the town's board for this month so far (what the page opens on: the running month live);
- one report: app.reports.services.generate(MONTHLY_REVIEW, last month, ON_DEMAND).

Baselines from the same run, on the same database: "scan", a count(*) of every table the
KPIs read (of the readings, the 24-hour window the adherence KPI reads), and "signing", the
signing-rate query alone for the town. Each case is printed beside its ratio to both, after
the row counts; then where one cold town board spends its time, KPI by KPI.
Results and their meaning: docs/PERFORMANCE.md.

    .venv/bin/python bench/kpi.py                            # PostgreSQL, 100k residents
    .venv/bin/python bench/kpi.py --residents 2000 --readings 20000 --db sqlite --rounds 1
"""

import argparse
import dataclasses
import os
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench import kpi_seed, servers  # noqa: E402

TEAM_ID = 1  # the team whose board is timed
# what the KPIs read, counted once for the "scan" baseline (readings: see _scan)
KPI_TABLES = (
    "organisations",
    "teams",
    "team_neighbourhoods",
    "residents",
    "resident_conditions",
    "contracts",
    "follow_ups",
    "alerts",
    "referrals",
    "referral_returns",
    "devices",
    "visits",
    "kpi_settings",
)


def _arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument(
        "--contracts", type=int, help="in force today (default: half the residents, 50,000)"
    )
    parser.add_argument("--readings", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each case")
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get(
            "BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL URL whose server may CREATE DATABASE (env BENCH_PG_ADMIN_URL)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the database afterwards (to EXPLAIN its queries); prints its URL",
    )
    args = parser.parse_args(argv)
    if args.contracts is None:
        args.contracts = args.residents // 2
    if min(args.residents, args.contracts, args.readings, args.rounds) < 1:
        parser.error("--residents, --contracts, --readings and --rounds must be positive")
    if args.contracts > args.residents:
        parser.error("--contracts: more contracts than residents")
    return args


# --- the database --------------------------------------------------------------------------------


@contextmanager
def database(args) -> Iterator[str]:
    """A fresh, empty database's URL; dropped afterwards unless --keep."""
    if args.db == "sqlite":
        with tempfile.TemporaryDirectory(prefix="kangyang-bench-kpi-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'kpi.db'}"
        return
    admin = sa.make_url(args.pg_admin_url)
    name = f"kangyang_bench_kpi_{os.getpid()}"
    admin_libpq = admin.set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(admin_libpq, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # a dead run's pid
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(False)
    finally:
        if not args.keep:
            with psycopg.connect(admin_libpq, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _cipher() -> str:
    """One real ciphertext of a valid ID number, shared by every resident (never shown)."""
    from datetime import date

    from app import crypto, idcard

    return crypto.encrypt(idcard.make(f"310115{date(1948, 3, 9):%Y%m%d}001"))


def row_counts() -> dict[str, int]:
    from app.extensions import db

    tables = (*kpi_seed.TABLES, "kpi_snapshots", "reports")
    return {t: db.session.execute(_count(t)).scalar() for t in tables}


def _count(table: str) -> sa.Select:
    return sa.select(sa.func.count()).select_from(sa.table(table))


# --- timing --------------------------------------------------------------------------------------


@dataclass
class Case:
    label: str
    seconds: list[float] = field(default_factory=list)
    statements: int = 0  # SQL statements of the last round
    note: str = ""

    @property
    def median(self) -> float:
        return median(self.seconds)

    @property
    def best(self) -> float:
        return min(self.seconds)


class StatementCounter:
    def __init__(self, engine):
        self.count = 0
        sa.event.listen(engine, "before_cursor_execute", self._one)

    def _one(self, *_args) -> None:
        self.count += 1


def run_case(
    label: str, work: Callable, rounds: int, counter: StatementCounter, before=None
) -> Case:
    """`work` `rounds` times, each after `before` (untimed) and in a transaction of its own,
    rolled back afterwards (what the job commits stays)."""
    from app.extensions import db

    case = Case(label)
    for _ in range(rounds):
        if before is not None:
            before()
            db.session.commit()
        counted = counter.count
        started = time.perf_counter()
        work()
        case.seconds.append(time.perf_counter() - started)
        case.statements = counter.count - counted
        db.session.rollback()
    print(f"  {label}: {case.median * 1000:,.0f} ms", file=sys.stderr, flush=True)
    return case


def _scan(period) -> None:
    """The baseline: read every table the KPIs read once (count(*)), and of the readings the
    24-hour window before the period's end, the only part of them the board reads."""
    from app.extensions import db
    from wearables.kpis import WINDOW

    for table in KPI_TABLES:
        db.session.execute(_count(table)).scalar()
    stop = period.as_of_instant
    window = sa.text(
        "SELECT count(DISTINCT device_id) FROM readings "
        "WHERE received_at >= :a AND received_at < :b"
    )
    db.session.execute(window, {"a": stop - WINDOW, "b": stop}).scalar()


@contextmanager
def per_kpi_time() -> Iterator[tuple[dict, Counter]]:
    """Time each KPI's measure while the block runs (the registry's entries, wrapped)."""
    from app.kpis import registry

    spent: dict[str, float] = defaultdict(float)
    calls: Counter = Counter()
    original = dict(registry._kpis)

    def timed(kpi):
        def measure(ctx):
            started = time.perf_counter()
            try:
                return kpi.measure(ctx)
            finally:
                spent[kpi.key] += time.perf_counter() - started
                calls[kpi.key] += 1

        return dataclasses.replace(kpi, measure=measure)

    registry._kpis.update({key: timed(kpi) for key, kpi in original.items()})
    try:
        yield spent, calls
    finally:
        registry._kpis.clear()
        registry._kpis.update(original)


def measure(rounds: int) -> tuple[list[Case], list[tuple[str, int, float]], float, object]:
    """Every case, the per-KPI profile of one cold town board, and the period."""
    from app.extensions import db
    from app.kpis import board, registry
    from app.kpis.areas import AreaKind, Breakdown, Ctx, Period, period_from
    from app.kpis.models import KpiSnapshot
    from app.timeutil import add_months, local_today

    period = Period.month(add_months(local_today().replace(day=1), -1))
    counter = StatementCounter(db.engine)

    def no_snapshots():
        db.session.execute(sa.delete(KpiSnapshot))

    def town():
        return board.board(None, AreaKind.TOWN, None, period)

    def team():
        return board.board(None, AreaKind.TEAM, TEAM_ID, period)

    def this_month():  # what the board opens on: the running month is always computed live
        return board.board(None, AreaKind.TOWN, None, period_from(None, None))

    def signing():
        return registry.get("signing_rate").measure(Ctx(Breakdown(AreaKind.TOWN), period))

    town()  # untimed: the first call compiles the queries and warms the caches
    db.session.rollback()
    cases = [
        run_case("baseline: scan of the KPIs' tables", lambda: _scan(period), rounds, counter),
        run_case("baseline: signing query (town)", signing, rounds, counter),
        run_case("town board, cold (no snapshots)", town, rounds, counter, no_snapshots),
        run_case("team board, cold", team, rounds, counter, no_snapshots),
    ]
    no_snapshots()
    db.session.commit()
    with per_kpi_time() as (spent, calls):
        started = time.perf_counter()
        town()
        total = time.perf_counter() - started
    db.session.rollback()
    profile = sorted(((k, calls[k], s) for k, s in spent.items()), key=lambda r: -r[2])
    job = board.snapshot_closed_months
    cases += [
        run_case("snapshot job, first night (24 months)", job, rounds, counter, no_snapshots),
        run_case("snapshot job, a later night", job, rounds, counter),
        run_case("town board, warm (after the job)", town, rounds, counter),
        run_case("team board, warm", team, rounds, counter),
        run_case("town board, this month so far (warm)", this_month, rounds, counter),
    ]
    cases.append(_report_case(period, rounds, counter))
    return cases, profile, total, period


def _report_case(period, rounds: int, counter: StatementCounter) -> Case:
    label = "report: monthly review, on demand"
    try:
        from app.reports import services
        from app.reports.models import ReportKind, ReportTrigger

        generate = services.generate
    except (ImportError, AttributeError) as exc:
        return Case(label, note=f"not timed: app.reports.services.generate is not there ({exc})")

    def report():
        return generate(ReportKind.MONTHLY_REVIEW, period, ReportTrigger.ON_DEMAND)

    return run_case(label, report, rounds, counter)


# --- what is printed -----------------------------------------------------------------------------


def _aligned(lines: list[list[str]]) -> str:
    """Names to the left, numbers to the right."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join(
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    )


def counts_table(counts: dict[str, int]) -> str:
    return _aligned([["table", "rows"], *([t, f"{n:,}"] for t, n in counts.items())])


def timings_table(cases: list[Case]) -> str:
    scan, signing = cases[0], cases[1]
    lines = [["case", "rounds", "median ms", "min ms", "/scan", "/signing", "statements"]]
    for case in cases:
        if not case.seconds:
            continue
        lines.append(
            [
                case.label,
                str(len(case.seconds)),
                f"{case.median * 1000:,.1f}",
                f"{case.best * 1000:,.1f}",
                f"{case.median / scan.median:,.1f}",
                f"{case.median / signing.median:,.1f}",
                f"{case.statements:,}",
            ]
        )
    return _aligned(lines)


def profile_table(profile: list[tuple[str, int, float]], total: float) -> str:
    lines = [["KPI (one cold town board)", "calls", "ms", "share"]]
    for key, calls, spent in profile:
        lines.append([key, str(calls), f"{spent * 1000:,.1f}", f"{spent / total:.0%}"])
    rest = total - sum(spent for _k, _c, spent in profile)
    lines.append(["(outside the KPIs)", "", f"{rest * 1000:,.1f}", f"{rest / total:.0%}"])
    lines.append(["total", "", f"{total * 1000:,.1f}", "100%"])
    return _aligned(lines)


def _stop_on_term(*_) -> None:
    raise KeyboardInterrupt  # so every `finally` drops the database


def main(argv=None) -> int:
    args = _arguments(argv)
    signal.signal(signal.SIGTERM, _stop_on_term)
    scale = kpi_seed.Scale(args.residents, args.contracts, args.readings)
    with database(args) as url:
        # the configuration is read from the environment when `app` is first imported
        os.environ.update(servers.app_env(DATABASE_URL=url))
        from flask_migrate import upgrade

        from app import create_app
        from app.contracts.models import Contract
        from app.extensions import db

        app = create_app()
        with app.app_context():
            upgrade()
            print(f"seeding {args.db}:", file=sys.stderr, flush=True)

            def say(line):
                print(line, file=sys.stderr, flush=True)

            seeded = kpi_seed.seed(db.engine, scale, _cipher(), say)
            print("timing:", file=sys.stderr, flush=True)
            cases, profile, total, period = measure(args.rounds)
            counts = row_counts()
            in_force = db.session.scalar(
                sa.select(sa.func.count()).select_from(Contract).where(Contract.status == "active")
            )
            db.session.rollback()
            db.engine.dispose()
        print(counts_table(counts))
        print()
        print(f"seeded in {seeded:.1f} s on {args.db}; {in_force:,} contracts in force today")
        print()
        print(timings_table(cases))
        print()
        print(profile_table(profile, total))
        print()
        print(
            f"period: {period.start} to {period.end} (last month); team board: team {TEAM_ID}; "
            f"{args.rounds} round(s) a case; /scan and /signing: median over the baseline's median"
        )
        for case in cases:
            if case.note:
                print(f"{case.label}: {case.note}")
        if args.db == "sqlite":
            print("database: a SQLite file in a temporary folder, removed")
        elif args.keep:
            print(f"database: {sa.make_url(url).database}, kept: {url}")
        else:
            print(f"database: {sa.make_url(url).database}, dropped")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: the database was dropped", file=sys.stderr)
        sys.exit(130)
