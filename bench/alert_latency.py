"""How long an SOS takes to reach a caregiver's open page: from the answer of
`POST /api/v1/ingest` (an SOS event, critical at once) to the `alert` event on the
caregiver's Server-Sent Events stream (`GET /alerts/stream`), p50 and p99.

For each database (a SQLite file; a private PostgreSQL database created and dropped):
- idle:    gunicorn, --workers gthread workers, the bus in Redis (ALERT_BUS_URL);
- load:    the same, while --load-clients threads push current readings for other
           residents (the rules judge every one); the load's rate is printed beside;
- streams: one worker holding --streams more open streams of another user: the latency
           beside it, and the worker's resident memory before and after they opened.
Each sample resolves its alert through the API, so the next SOS opens a new one. "send"
counts from when the ingest request left, "answer" from its answer (an event first: 0).

    .venv/bin/python bench/alert_latency.py                 # both databases
    .venv/bin/python bench/alert_latency.py --db sqlite --samples 50 --streams 200
"""

import argparse
import http.client
import json
import os
import queue
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import servers  # noqa: E402

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
NORMAL = (("heart_rate", 72, "/min"), ("spo2", 97, "%"), ("respiratory_rate", 16, "/min"))


# --- people: a caregiver of the SOS resident, and another user whose streams only wait ----


def seed_people(resident_ids: list[int]) -> None:
    """Run in a process of its own (the configuration is read at import): prints JSON."""
    from app import create_app
    from app.accounts import services as accounts
    from app.accounts.models import Role
    from app.extensions import db
    from app.residents import services as residents
    from app.residents.models import CaregiverRelationship, CaregiverScope, Resident
    from app.timeutil import local_today

    app, made = create_app(), {}
    with app.app_context():
        for name, resident_id in zip(("carer", "idle"), resident_ids, strict=True):
            resident = db.session.get(Resident, resident_id)
            password = secrets.token_urlsafe(12)
            person = {"display_name": name, "password": password}
            own = accounts.create_user(
                person
                | {"username": f"bench-r-{name}", "role": Role.RESIDENT}
                | {"resident_id": resident.id}
            )
            carer = accounts.create_user(
                person | {"username": f"bench-{name}", "role": Role.CAREGIVER}
            )
            residents.grant_caregiver(
                own,
                resident,
                {
                    "caregiver_id": carer.id,
                    "relationship_kind": CaregiverRelationship.FAMILY_MEMBER,
                    "scope": CaregiverScope.CARE,
                    "ends_on": local_today() + timedelta(days=30),
                    "priority": 1,
                },
            )
            made[name] = {"username": carer.username, "password": password}
        db.session.commit()
    print(json.dumps(made))


def _people(db: servers.Database) -> dict:
    ids = [db.devices[0]["resident_id"], db.devices[1]["resident_id"]]
    done = subprocess.run(  # noqa: S603 (our interpreter, our arguments)
        [sys.executable, "-m", "bench.alert_latency", "seed", *map(str, ids)],
        cwd=ROOT,
        env=db.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"seeding the people failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- HTTP as a browser and a device speak it ---------------------------------------------------


def _session_cookie(answer) -> str:
    cookies = [c.split(";")[0] for c in answer.msg.get_all("Set-Cookie") or ()]
    return next(c for c in cookies if c.startswith("session="))


def sign_in(port: int, person: dict) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/login")
    page = conn.getresponse()
    cookie, token = _session_cookie(page), CSRF_RE.search(page.read().decode()).group(1)
    form = {"csrf_token": token, "identifier": person["username"], "password": person["password"]}
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    conn.request("POST", "/login", urllib.parse.urlencode(form), headers)
    answer = conn.getresponse()
    answer.read()
    if answer.status != 302:
        raise RuntimeError(f"sign-in answered {answer.status}")
    return _session_cookie(answer)


def api_token(port: int, person: dict) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({k: person[k] for k in ("username", "password")})
    conn.request("POST", "/api/v1/auth/token", body, {"Content-Type": "application/json"})
    return json.loads(conn.getresponse().read())["access_token"]


class Stream:
    """An open event stream; `alerts` gets (arrival time, data) of each `alert` event."""

    def __init__(self, port: int, cookie: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.conn.request("GET", "/alerts/stream", headers={"Cookie": cookie})
        self.sock = self.conn.sock
        self.response = self.conn.getresponse()
        if self.response.status != 200:
            raise RuntimeError(f"the stream answered {self.response.status}")
        self.alerts: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        event = None
        try:
            while line := self.response.readline():
                if line.startswith(b"event: "):
                    event = line[7:].strip().decode()
                elif line.startswith(b"data: ") and event == "alert":
                    self.alerts.put((time.monotonic(), json.loads(line[6:])))
                elif line == b"\n":
                    event = None
        except (OSError, ValueError, AttributeError, http.client.HTTPException):  # closed
            pass

    def close(self) -> None:
        self.sock.shutdown(2)
        self.conn.close()


class Device:
    """A device's keep-alive connection; each push carries a fresh time of its own."""

    def __init__(self, port: int, device: dict):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {device['token']}"}
        self.headers["Content-Type"] = "application/json"
        self.last = datetime.now(UTC)

    def _moment(self) -> str:
        self.last = max(datetime.now(UTC), self.last + timedelta(milliseconds=1))
        return self.last.isoformat()

    def push(self, readings: list[dict]) -> dict:
        self.conn.request(
            "POST", "/api/v1/ingest", json.dumps({"readings": readings}), self.headers
        )
        answer = self.conn.getresponse()
        body = answer.read()
        if answer.status != 200:
            raise RuntimeError(f"ingest answered {answer.status}: {body[:200]!r}")
        return json.loads(body)

    def sos(self) -> dict:
        return self.push([{"metric": "sos", "measured_at": self._moment()}])

    def normal(self, batch: int) -> int:
        at = [self._moment() for _ in range(batch)]
        readings = [
            {"metric": m, "value": v, "unit": u, "measured_at": when}
            for when in at
            for m, v, u in NORMAL
        ]
        return self.push(readings)["accepted"]


# --- the load, the samples ------------------------------------------------------------------


@contextmanager
def background_load(port: int, devices: list[dict], batch: int):
    """Threads pushing normal readings until the block ends; yields a rate counter."""
    stop, counts, lock = (
        threading.Event(),
        {"requests": 0, "readings": 0, "errors": 0},
        threading.Lock(),
    )

    def run(device):
        client = Device(port, device)
        while not stop.is_set():
            try:
                accepted, failed = client.normal(batch), 0
            except (OSError, RuntimeError, http.client.HTTPException):
                accepted, failed = 0, 1
                client = Device(port, device)
            with lock:
                counts["requests"] += 1
                counts["readings"] += accepted
                counts["errors"] += failed

    threads = [threading.Thread(target=run, args=(d,), daemon=True) for d in devices]
    for thread in threads:
        thread.start()

    def snapshot():
        with lock:
            return time.monotonic(), dict(counts)

    try:
        yield snapshot
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)


def samples(port: int, people: dict, device: dict, count: int) -> list[tuple[float, float]]:
    """(from the request, from its answer) in seconds, one per SOS."""
    stream = Stream(port, sign_in(port, people["carer"]))
    token, sos = api_token(port, people["carer"]), Device(port, device)
    resolver = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    found = []
    try:
        time.sleep(0.5)  # the stream's first read is done; it waits on the bus
        for _ in range(count):
            sent = time.monotonic()
            sos.sos()
            answered = time.monotonic()
            arrived, data = stream.alerts.get(timeout=30)
            found.append((arrived - sent, max(0.0, arrived - answered)))
            resolver.request(
                "POST",
                f"/api/v1/alerts/{data['alert']['id']}/resolve",
                json.dumps({"note": "bench"}),
                headers,
            )
            resolver.getresponse().read()
            time.sleep(0.05 + secrets.randbelow(100) / 1000)  # out of step with heartbeats
    finally:
        stream.close()
    return found


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def row(db: str, case: str, found: list, load: str = "", note: str = "") -> str:
    sent = [s * 1000 for s, _ in found]
    answer = [a * 1000 for _, a in found]
    cells = [db, case, str(len(found))]
    cells += [f"{percentile(v, p):.0f}" for v in (sent, answer) for p in (50, 99)]
    cells += [f"{max(sent):.0f}", load, note]
    return " | ".join(cells)


HEADER = (
    "db | case | n | send p50 ms | send p99 ms | answer p50 ms | answer p99 ms | max ms"
    " | load | note"
)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _env(db: servers.Database, args, threads: int) -> dict:
    return db.env | {
        "ALERT_BUS_URL": args.redis_url,
        "GUNICORN_CMD_ARGS": f"--threads {threads} --keep-alive 30 --graceful-timeout 3",
    }


def run_database(kind: str, args, logs: Path) -> list[str]:
    rows = []
    with servers.database(kind, args.pg_admin_url, 2 + args.load_clients) as db:
        people, sos_device, load_devices = _people(db), db.devices[0], db.devices[2:]
        log = logs / f"{kind}-pair.log"
        with servers.gunicorn(
            "wsgi:app", _env(db, args, args.threads), args.workers, "gthread", log
        ) as server:
            samples(server.port, people, sos_device, 3)  # warm-up: imports, pools, catalogues
            rows.append(row(kind, "idle", samples(server.port, people, sos_device, args.samples)))
            with background_load(server.port, load_devices, args.load_batch) as rate:
                time.sleep(2)
                start, before = rate()
                found = samples(server.port, people, sos_device, args.samples)
                end, after = rate()
            per_s = {k: (after[k] - before[k]) / (end - start) for k in after}
            load = f"{per_s['requests']:.0f} req/s, {per_s['readings']:.0f} readings/s"
            errors = f"{after['errors'] - before['errors']} load errors"
            rows.append(row(kind, f"load ({args.load_clients} clients)", found, load, errors))
        rows.append(_streams_case(kind, db, people, sos_device, args, logs))
    return rows


def _streams_case(kind, db, people, device, args, logs) -> str:
    log = logs / f"{kind}-streams.log"
    with servers.gunicorn(
        "wsgi:app", _env(db, args, args.streams + 16), 1, "gthread", log
    ) as server:
        samples(server.port, people, device, 3)
        worker = server.worker_pids()[0]
        before = rss_mib(worker)
        cookie = sign_in(server.port, people["idle"])
        opened = [Stream(server.port, cookie) for _ in range(args.streams)]
        time.sleep(1)
        after = rss_mib(worker)
        try:
            found = samples(server.port, people, device, args.samples)
        finally:
            for stream in opened:
                stream.close()
    note = f"1 worker: {before:.0f} -> {after:.0f} MiB with them open"
    return row(kind, f"+{args.streams} open streams", found, "", note)


def _arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--samples", type=int, default=100, help="SOS events per case")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn gthread workers")
    parser.add_argument("--threads", type=int, default=32, help="threads per worker")
    parser.add_argument("--load-clients", type=int, default=6, help="devices pushing load")
    parser.add_argument("--load-batch", type=int, default=5, help="moments per push (x3 metrics)")
    parser.add_argument("--streams", type=int, default=200, help="extra open streams")
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    )
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get(
            "BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL URL whose server may CREATE DATABASE (env BENCH_PG_ADMIN_URL)",
    )
    return parser.parse_args(argv)


def _stop_on_term(*_) -> None:
    raise KeyboardInterrupt  # so every `finally` stops its servers and drops its database


def main(argv=None) -> int:
    if argv is None and sys.argv[1:2] == ["seed"]:
        seed_people([int(i) for i in sys.argv[2:]])
        return 0
    args = _arguments(argv)
    signal.signal(signal.SIGTERM, _stop_on_term)
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    rows = []
    with tempfile.TemporaryDirectory(prefix="kangyang-bench-logs-") as logs:
        for kind in kinds:
            rows += run_database(kind, args, Path(logs))
    print(HEADER)
    print("\n".join(rows))
    print()
    print(
        f"{args.workers} gunicorn gthread workers x {args.threads} threads, bus {args.redis_url}; "
        f"load = {args.load_clients} devices, {args.load_batch * len(NORMAL)} readings a push; "
        f"{args.samples} SOS events per case"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
