"""The databases and servers a benchmark runs against: a fresh database per run (a SQLite
file, or a PostgreSQL database created beside the admin URL's and dropped afterwards),
built by bench/seed.py, and gunicorn serving an app on a free local port."""

import base64
import http.client
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent


def app_env(**extra: str) -> dict:
    """The environment the app runs with: production settings, fresh keys, and a device rate
    limit far above what the benchmark sends, so the limit is counted but never refuses."""
    env = dict(os.environ)
    env.update(
        KANGYANG_CONFIG="production",
        SECRET_KEY=secrets.token_hex(32),
        FIELD_ENCRYPTION_KEY=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        INGEST_RATE_LIMIT="100000000 per minute",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


@dataclass
class Database:
    kind: str  # "sqlite" or "postgresql"
    url: str  # SQLAlchemy URL, as DATABASE_URL
    env: dict  # the app's environment, DATABASE_URL included
    devices: list[dict]  # {"id", "resident_id", "token"} from bench/seed.py

    @property
    def libpq(self) -> str:
        return sa.make_url(self.url).set(drivername="postgresql").render_as_string(False)

    @property
    def sqlite_path(self) -> str:
        return sa.make_url(self.url).database

    def count_readings(self) -> int:
        if self.kind == "sqlite":
            with sqlite3.connect(self.sqlite_path, timeout=30) as conn:
                return conn.execute("SELECT count(*) FROM readings").fetchone()[0]
        with psycopg.connect(self.libpq) as conn:
            return conn.execute("SELECT count(*) FROM readings").fetchone()[0]

    def empty_readings(self) -> None:
        """Every run starts from an empty readings table, so none pays for another's rows."""
        if self.kind == "sqlite":
            with sqlite3.connect(self.sqlite_path, timeout=30) as conn:
                conn.execute("DELETE FROM readings")
            return
        with psycopg.connect(self.libpq, autocommit=True) as conn:
            conn.execute("TRUNCATE readings CASCADE")
            conn.execute("VACUUM ANALYZE readings")


def _seed(url: str, devices: int) -> tuple[dict, list[dict]]:
    env = app_env(DATABASE_URL=url)
    done = subprocess.run(  # noqa: S603 (our interpreter, our arguments)
        [sys.executable, "-m", "bench.seed", str(devices)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"seeding the benchmark database failed:\n{done.stderr[-3000:]}")
    return env, json.loads(done.stdout.strip().splitlines()[-1])


@contextmanager
def database(kind: str, pg_admin_url: str, devices: int) -> Iterator[Database]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="kangyang-bench-") as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            env, made = _seed(url, devices)
            yield Database(kind, url, env, made)
        return
    admin = sa.make_url(pg_admin_url)
    name = f"kangyang_bench_{secrets.token_hex(4)}"
    admin_libpq = admin.set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(admin_libpq, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = admin.set(database=name).render_as_string(False)
        env, made = _seed(url, devices)
        yield Database(kind, url, env, made)
    finally:
        with psycopg.connect(admin_libpq, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path

    def worker_pids(self) -> list[int]:
        """gunicorn's workers: the master's children."""
        pids = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(
                    line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
                )
            except OSError:  # the process ended while we looked
                continue
            if int(fields.get("PPid", "0").strip()) == self.process.pid:
                pids.append(int(status.parent.name))
        return sorted(pids)

    def peak_memory_mib(self) -> list[float]:
        """Each worker's peak resident memory so far (VmHWM), in MiB."""
        peaks = []
        for pid in self.worker_pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return peaks

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the workers have used so far."""
        ticks = 0
        for pid in self.worker_pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        return ticks / os.sysconf("SC_CLK_TCK")

    def ready(self) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


def _stop(process: subprocess.Popen) -> None:
    """TERM to the group this benchmark started (master and workers), KILL if it lingers."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def gunicorn(app: str, env: dict, workers: int, worker_class: str, log: Path) -> Iterator[Server]:
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        f"--workers={workers}",
        f"--worker-class={worker_class}",
        f"--bind=127.0.0.1:{port}",
        "--timeout=120",
        "--log-level=warning",
        app,
    ]
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603 (our interpreter, our arguments)
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(process, port, log)
    try:
        deadline = time.monotonic() + 90
        while not (server.ready() and len(server.worker_pids()) == workers):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn {app} did not start:\n{server.tail()}")
            time.sleep(0.2)
        yield server
    finally:
        _stop(process)
