"""The KPI benchmark keeps working: bench/kpi.py on a small town (2,000 residents, 20,000
readings, one round), on the suite's database kind (SQLite, or PostgreSQL when
TEST_DATABASE_URL points there), prints the rows it seeded, a timing for every case beside its
ratios to the baselines, and leaves no database behind."""

import os
import re
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from app.kpis import board, registry
from bench import kpi_seed

ROOT = Path(__file__).resolve().parent.parent
TIMING = re.compile(
    r"^(?P<case>\S.*?)\s{2,}(?P<rounds>\d+)\s+(?P<median>[\d,.]+)\s+(?P<min>[\d,.]+)"
    r"\s+(?P<scan>[\d,.]+)\s+(?P<signing>[\d,.]+)\s+(?P<statements>[\d,]+)$"
)
CASES = (
    "baseline: scan of the KPIs' tables",
    "baseline: signing query (town)",
    "town board, cold (no snapshots)",
    "team board, cold",
    "snapshot job, first night (24 months)",
    "snapshot job, a later night",
    "town board, warm (after the job)",
    "team board, warm",
    "town board, this month so far (warm)",
    "report: monthly review, on demand",
)


def _bench_databases(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            query = "SELECT datname FROM pg_database WHERE datname LIKE 'kangyang\\_bench\\_%'"
            return set(conn.scalars(sa.text(query)))
    finally:
        engine.dispose()


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _blocks(stdout: str) -> list[list[str]]:
    return [block.splitlines() for block in stdout.strip().split("\n\n")]


def test_the_kpi_benchmark_prints_row_counts_and_timings():
    url = os.environ.get("TEST_DATABASE_URL", "")
    kind = "postgresql" if url.startswith("postgresql") else "sqlite"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "kpi.py"), "--db", kind]
        + ["--residents", "2000", "--readings", "20000", "--rounds", "1"],
        cwd=ROOT,
        env=os.environ | {"BENCH_PG_ADMIN_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    counts_block, seeded, timings, _profile, *_notes = _blocks(done.stdout)

    assert counts_block[0].split() == ["table", "rows"]
    counts = {line.split()[0]: int(_number(line.split()[1])) for line in counts_block[1:]}
    assert counts["residents"] == 2000
    assert counts["contracts"] >= 1000  # in force, and those they renewed
    assert counts["readings"] == 20000
    assert counts["devices"] == 100  # 5% of the residents wear a watch
    assert all(counts[table] > 0 for table in kpi_seed.TABLES), counts
    areas = 1 + kpi_seed.COMMITTEES + kpi_seed.TEAMS
    months = 2 * board.TREND_MONTHS  # what the job's first night fills
    assert counts["kpi_snapshots"] == months * areas * len(registry.all_kpis())
    # half the residents by default
    said = rf"seeded in [\d.]+ s on {kind}; 1,000 contracts in force today"
    assert re.fullmatch(said, seeded[0]), seeded

    assert timings[0].split()[:5] == ["case", "rounds", "median", "ms", "min"]
    rows = {m["case"]: m for m in map(TIMING.match, timings[1:]) if m}
    assert list(rows) == list(CASES), timings
    scan = _number(rows[CASES[0]]["median"])
    for case, row in rows.items():
        median, least = _number(row["median"]), _number(row["min"])
        assert row["rounds"] == "1"
        assert 0 < least <= median, case
        assert _number(row["statements"]) > 0, case
        # the ratio as printed, against the rounded timings printed beside it
        assert abs(_number(row["scan"]) - median / scan) <= 0.05 + 0.03 * median / scan, case
    if kind == "postgresql":
        said = re.search(r"^database: (kangyang_bench_kpi_\d+), dropped$", done.stdout, re.M)
        assert said, done.stdout
        assert said[1] not in _bench_databases(url), "the benchmark left its database behind"
