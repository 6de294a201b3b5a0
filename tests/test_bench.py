"""The ingest benchmark keeps working: a one-second run of bench/ingest.py (on the suite's
database kind: SQLite, or PostgreSQL when TEST_DATABASE_URL points there) prints its table
with readings per second above zero for the endpoint and both baselines, every reading it
sent was accepted and stored, and it leaves no database behind."""

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent


def _bench_databases(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            query = "SELECT datname FROM pg_database WHERE datname LIKE 'kangyang\\_bench\\_%'"
            return set(conn.scalars(sa.text(query)))
    finally:
        engine.dispose()


def test_the_ingest_benchmark_runs_and_prints_rates_and_ratios():
    url = os.environ.get("TEST_DATABASE_URL", "")
    kind = "postgresql" if url.startswith("postgresql") else "sqlite"
    before = _bench_databases(url) if kind == "postgresql" else set()
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "ingest.py"), "--db", kind]
        + ["--seconds", "1", "--warmup", "0.5", "--batches", "100", "--clients", "2"],
        cwd=ROOT,
        env=os.environ | {"BENCH_PG_ADMIN_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    header = "db batch ingest r/s bare r/s limit r/s ingest/bare ingest/limit"
    assert lines[0].split()[:10] == header.split()
    row = lines[1].split()
    assert row[:2] == [kind, "100"]
    rates = [float(cell.replace(",", "")) for cell in row[2:5]]  # ingest, bare, limit
    assert all(rate > 0 for rate in rates), lines[1]
    # ingest/bare as printed, against the rounded rates printed beside it
    assert abs(float(row[5]) - rates[0] / rates[1]) <= 0.011, lines[1]
    for trouble in ("failed requests", "not accepted", "the table holds"):
        assert trouble not in done.stdout, done.stdout
    if kind == "postgresql":
        assert _bench_databases(url) <= before, "the benchmark left its database behind"
