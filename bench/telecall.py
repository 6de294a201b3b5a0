"""The media process, measured: how long from joining to the first media frame, and what an
echo session costs it in CPU, beside baselines from the same run on the same machine.

- join to first frame (median of --trials):
    bare:  two aiortc peers in one process, offer and answer handed over in memory;
    echo:  an aiortc peer POSTs its offer to the media process's /echo and waits for its own
           video (and audio) to come back;
    call:  two `python -m telecall.media.client` processes in one visit through the real call
           API (gunicorn, one gthread worker, on the demo data in a SQLite file); the second
           to join offers; its time from the join request to the other's first frame.
- CPU per echo session: N = --sessions concurrent echo sessions for --seconds each; the media
  process's utime + stime (/proc/<pid>/stat) per session-second, the senders' process beside
  it, and the same N as bare aiortc loopback pairs (sender and echo in one process, no
  server). CPU per echoed video frame is shown too: it holds when a busy machine makes the
  peers drop frames, where CPU per second does not. The idle media process is the floor.

Everything runs inside a private network namespace this script makes and removes (root
needed: aioice skips 127.0.0.1, and nothing may leave the machine).

    sudo .venv/bin/python bench/telecall.py --seconds 10 --sessions 1,2,4
"""

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on the path, and this file would shadow the
# `telecall` package it measures.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

MEDIA_PORT, WEB_PORT = 8765, 5000  # inside the private namespace nothing else listens
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15)


# -- roles run inside the namespace -------------------------------------------------------


async def _echo_pair(size, url: str | None, session):
    """One sender and its echo: the media process's (url) or a bare peer in this process."""
    from aiortc.contrib.media import MediaRelay

    from telecall.media import peers
    from telecall.media.client import FrameCounter, PeerFrames
    from telecall.media.sources import PatternVideoTrack, ToneAudioTrack

    pc, seen = peers.new_peer([]), FrameCounter(time.monotonic())
    pc.addTrack(PatternVideoTrack(*size))
    pc.addTrack(ToneAudioTrack())
    pc.on("track", lambda track: seen.track(0, track))
    offer = await peers.make_offer(pc)
    others = []
    if url:
        headers = {"X-Media-Secret": os.environ["MEDIA_SECRET"]}
        async with session.post(url + "/echo", json=offer, headers=headers) as resp:
            answer = await resp.json()
    else:
        echo, relay = peers.new_peer([]), MediaRelay()
        echo.on("track", lambda track: echo.addTrack(relay.subscribe(track)))
        answer = await peers.make_answer(echo, offer)
        others.append(echo)
    await pc.setRemoteDescription(peers.description(answer))
    return [pc, *others], seen.peers.setdefault(0, PeerFrames())


async def run_echo_role(args) -> None:
    """N echo pairs; prints "ready" once every pair has its first frame back, then counts
    frames between the "measure" and "stop" lines on stdin."""
    import aiohttp

    url = None if args.role == "bare" else args.url
    async with aiohttp.ClientSession() as session:
        pairs = [await _echo_pair(args.size, url, session) for _ in range(args.n)]
        deadline = time.monotonic() + 20
        while any(s.first_video_ms is None or s.first_audio_ms is None for _, s in pairs):
            if time.monotonic() > deadline:
                raise SystemExit("echo: no frames came back")
            await asyncio.sleep(0.02)
        first = [(s.first_video_ms, s.first_audio_ms) for _, s in pairs]
        print(json.dumps({"ready": first, "pid": os.getpid()}), flush=True)
        stdin = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
        await stdin.readline()  # "measure"
        before = sum(s.video for _, s in pairs)
        await stdin.readline()  # "stop"
        frames = sum(s.video for _, s in pairs) - before
        for connections, _ in pairs:
            for pc in connections:
                await pc.close()
    print(json.dumps({"frames": frames}), flush=True)


def run_seed_role() -> None:
    """The demo data (which books 张桂英 a video consult with dr.wang in the next slot), and
    if that visit cannot be joined yet, another one at the first free time from now."""
    from datetime import time as clock
    from datetime import timedelta

    import sqlalchemy as sa
    from flask import current_app
    from flask_migrate import upgrade

    from app import create_app, demo
    from app.accounts.models import User
    from app.extensions import db
    from app.residents.models import Resident
    from app.timeutil import local_today, utcnow
    from telecall import availability, booking
    from telecall.models import OPEN_STATUSES, ParticipantRole, Visit, VisitType
    from telecall.tokens import make_token

    app = create_app()
    with app.app_context():
        upgrade()
        demo.seed()
        doctor = db.session.scalar(sa.select(User).where(User.username == "dr.wang"))
        account = db.session.scalar(sa.select(User).where(User.username == "zhang.guiying"))
        early = timedelta(minutes=current_app.config["VISIT_JOIN_EARLY_MINUTES"])
        visit = db.session.scalar(
            sa.select(Visit).where(
                Visit.resident_id == account.resident_id,
                Visit.status.in_(OPEN_STATUSES),
                Visit.starts_at <= utcnow() + early,
                Visit.ends_at > utcnow(),
            )
        )
        if visit is None:
            resident = db.session.get(Resident, account.resident_id)
            team_id = booking.own_team_id(resident)
            day = [
                {"weekday": d, "start_time": clock(0), "end_time": clock(23, 40)} for d in range(7)
            ]
            availability.set_weekly(doctor, doctor, team_id, day)
            kind, today = VisitType.VIDEO_CONSULT, local_today()
            first = availability.free_starts(doctor.id, team_id, kind, today, today + timedelta(1))
            data = {"doctor_id": doctor.id, "visit_type": kind, "starts_at": first[0]}
            visit = booking.book(doctor, resident, data)
            db.session.flush()
        seats = {p.role: make_token(p) for p in visit.participants}
        db.session.commit()
        roles = {"resident": ParticipantRole.RESIDENT, "doctor": ParticipantRole.DOCTOR}
        print(json.dumps({name: seats[role] for name, role in roles.items()}))


# -- the conductor, outside the namespace ------------------------------------------------------


class Bench:
    def __init__(self, args, namespace, folder: Path):
        self.args = args
        self.ns = namespace
        self.folder = folder
        self.env = os.environ | {
            "MEDIA_SECRET": secrets.token_urlsafe(24),
            "PYTHONPATH": str(ROOT),
            "SECRET_KEY": secrets.token_hex(32),
            "KANGYANG_CONFIG": "development",
            "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
            "MEDIA_EMBEDDED": "0",
            "SCHEDULER_ENABLED": "0",
            "PUBLIC_URL": f"http://127.0.0.1:{WEB_PORT}",
            "MEDIA_URL": f"http://127.0.0.1:{MEDIA_PORT}",
        }
        self.env.pop("ALERT_BUS_URL", None)  # the host's Redis is out of reach in the namespace
        self.started: list[subprocess.Popen] = []

    def start(self, name: str, command: list) -> subprocess.Popen:
        with (self.folder / f"{name}.log").open("w") as out:
            process = self.ns.popen(
                command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        self.started.append(process)
        return process

    def me(self, role: str, *extra) -> list:
        size = "x".join(map(str, self.args.size))
        return [sys.executable, __file__, "--role", role, "--size", size, *map(str, extra)]

    def stop_all(self) -> None:
        for process in self.started:
            process.terminate()
        for process in self.started:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()

    def echo_run(self, role: str, n: int, seconds: float, media_pid: int | None) -> dict:
        """Connect n pairs, then measure CPU for `seconds` (0: only the first frames)."""
        command = self.me(role, "--n", n, "--url", f"http://127.0.0.1:{MEDIA_PORT}")
        pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "text": True}
        process = self.ns.popen(command, cwd=ROOT, env=self.env, **pipes)
        try:
            ready = json.loads(process.stdout.readline() or "{}")
            if "ready" not in ready:
                raise RuntimeError(f"{role} with {n} pairs did not connect")
            pids = [ready["pid"]] + ([media_pid] if media_pid else [])
            before = [cpu_seconds(pid) for pid in pids]
            process.stdin.write("measure\n")
            process.stdin.flush()
            began = time.monotonic()
            time.sleep(seconds)
            spent = [cpu_seconds(pid) - b for pid, b in zip(pids, before, strict=True)]
            took = time.monotonic() - began
            process.stdin.write("stop\n")
            process.stdin.flush()
            frames = json.loads(process.stdout.readline())["frames"]
            process.wait(30)
        finally:
            if process.poll() is None:
                process.kill()
        per = n * took if took else 1
        return {
            "first": ready["ready"],
            "own": spent[0] / per,
            "media": spent[1:] and spent[1] / per,
            "fps": frames / per,
        }

    def wait_until_up(self, url: str) -> None:
        code = (
            "import sys, time, urllib.request as u\n"
            "for _ in range(300):\n"
            "    try:\n"
            "        u.urlopen(sys.argv[1], timeout=1); break\n"
            "    except Exception as exc:\n"
            "        if getattr(exc, 'code', None): break\n"
            "        time.sleep(0.1)\n"
            "else: sys.exit(1)\n"
        )
        done = self.ns.run([sys.executable, "-c", code, url], env=self.env, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"{url} did not come up; see {self.folder}")

    def call_trial(self, tokens: dict) -> dict:
        """Resident first, then the doctor, who offers; the doctor's join-to-first-frame."""
        base = f"http://127.0.0.1:{WEB_PORT}"
        clients = []
        for who in ("resident", "doctor"):
            command = [sys.executable, "-m", "telecall.media.client", "--base", base]
            command += ["--token", tokens[who], "--size", "x".join(map(str, self.args.size))]
            command += ["--seconds", "20", "--expect-peers", "1", "--min-frames", "5"]
            process = self.ns.popen(
                command, cwd=ROOT, env=self.env, stdout=subprocess.PIPE, text=True
            )
            clients.append(process)
            if json.loads(process.stdout.readline()).get("event") != "joined":
                raise RuntimeError(f"the {who} client did not join")
        lines = [json.loads(line) for line in clients[1].stdout]
        clients[0].terminate()  # it leaves the call properly on SIGTERM
        for process in clients:
            process.wait(30)
        last = lines[-1]
        peer = next(iter(last["peers"].values()), {})
        return {"video": peer.get("first_video_ms"), "audio": peer.get("first_audio_ms")}


def _ms(values) -> str:
    values = [v for v in values if v is not None]
    return f"{median(values):,.0f}" if values else "-"


def _ratio(a, b) -> str:
    return f"{a / b:.2f}" if a and b else "-"


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    )


def first_frames(bench: Bench, args, found: dict) -> str:
    """`found` holds the single-session CPU run's first frames already: one trial each."""
    while len(found["echo"]) < args.trials:
        for role, name in (("bare", "bare"), ("senders", "echo")):
            found[name] += bench.echo_run(role, 1, 0, None)["first"]
    if not args.no_call:
        seeded = bench.ns.run(
            [sys.executable, str(Path(__file__).resolve()), "--role", "seed"],
            cwd=ROOT,
            env=bench.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if seeded.returncode != 0:
            raise RuntimeError(f"seeding failed:\n{seeded.stderr[-3000:]}")
        tokens = json.loads(seeded.stdout.strip().splitlines()[-1])
        # one worker: the in-process bus wakes its streams at once, as Redis would several
        web = [sys.executable, "-m", "gunicorn", "-w", "1", "-k", "gthread", "--threads", "16"]
        bench.start("web", [*web, "-b", f"127.0.0.1:{WEB_PORT}", "wsgi:app"])
        bench.wait_until_up(f"http://127.0.0.1:{WEB_PORT}/healthz")
        for _ in range(args.trials):
            trial = bench.call_trial(tokens)
            found["call"].append((trial["video"], trial["audio"]))
    rows = [["join to first frame", "video ms", "audio ms", "video / bare"]]
    bare = median(v for v, _ in found["bare"])
    for name, pairs in found.items():
        if pairs:
            video = [v for v, _ in pairs]
            rows.append([name, _ms(video), _ms(a for _, a in pairs), _ratio(median(video), bare)])
    return _table(rows)


CPU_HEAD = ["sessions", "media CPU/s-s", "senders CPU/s-s", "bare pair CPU/s-s", "echo fps"]
CPU_HEAD += ["bare fps", "media ms/frame", "echo ms/frame", "bare ms/frame", "echo/bare"]
CPU_HEAD += ["media/bare"]


def _per_frame(cpu: float, fps: float) -> float | None:
    """CPU milliseconds per video frame echoed (audio included): unlike CPU per second, it
    holds when a busy machine makes the peers drop frames."""
    return cpu * 1000 / fps if fps else None


def cpu_per_session(bench: Bench, args, media_pid: int, found: dict) -> str:
    idle = cpu_seconds(media_pid)
    time.sleep(args.seconds)
    idle = (cpu_seconds(media_pid) - idle) / args.seconds
    rows = [CPU_HEAD]
    for n in args.sessions:
        echo = bench.echo_run("senders", n, args.seconds, media_pid)
        bare = bench.echo_run("bare", n, args.seconds, None)
        if n == 1:
            found["echo"] += echo["first"]
            found["bare"] += bare["first"]
        cpu = [echo["media"], echo["own"], bare["own"], echo["fps"], bare["fps"]]
        media_ms = _per_frame(echo["media"], echo["fps"])
        echo_ms = _per_frame(echo["media"] + echo["own"], echo["fps"])
        ms = [media_ms, echo_ms, _per_frame(bare["own"], bare["fps"])]
        row = [str(n), *(f"{c:.3f}" for c in cpu[:3]), *(f"{f:.1f}" for f in cpu[3:])]
        row += [("-" if m is None else f"{m:.1f}") for m in ms]
        rows.append([*row, _ratio(ms[1], ms[2]), _ratio(ms[0], ms[2])])
        print(f"  {n} echo session(s): done", file=sys.stderr, flush=True)
    return _table(rows) + f"\nidle media process: {idle:.4f} CPU s per s"


def _arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10, help="measured time per case")
    parser.add_argument(
        "--sessions",
        type=lambda s: [int(n) for n in s.split(",")],
        default=[1, 2, 4],
        help="concurrent echo sessions, comma-separated",
    )
    parser.add_argument(
        "--size",
        type=lambda s: tuple(int(n) for n in s.split("x")),
        default=(640, 480),
        help="the test pattern's WIDTHxHEIGHT",
    )
    parser.add_argument("--trials", type=int, default=3, help="join-to-first-frame repeats")
    parser.add_argument("--no-call", action="store_true", help="skip the two-client call")
    parser.add_argument("--role", choices=("senders", "bare", "seed"), help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.trials < 1 or min(args.sessions) < 1:
        parser.error("seconds, trials and sessions must be positive")
    return args


def main(argv=None) -> int:
    args = _arguments(argv)
    if args.role == "seed":
        run_seed_role()
        return 0
    if args.role:
        asyncio.run(run_echo_role(args))
        return 0
    if os.geteuid() != 0:
        print("bench/telecall.py makes a network namespace: run it as root", file=sys.stderr)
        return 2
    from tests.telecall.netns import network_namespace

    with (
        tempfile.TemporaryDirectory(prefix="kangyang-bench-telecall-") as folder,
        network_namespace() as namespace,
    ):
        print(f"namespace {namespace.name}", file=sys.stderr, flush=True)
        bench = Bench(args, namespace, Path(folder))
        try:
            media = bench.start(
                "media", [sys.executable, "-m", "telecall.media", "--port", MEDIA_PORT]
            )
            bench.wait_until_up(f"http://127.0.0.1:{MEDIA_PORT}/health")
            found = {"bare": [], "echo": [], "call": []}
            cpu = cpu_per_session(bench, args, media.pid, found)
            print(first_frames(bench, args, found))
            print()
            print(cpu)
        finally:
            bench.stop_all()
    w, h = args.size
    print(
        f"{w}x{h} colour bars at 30 fps (VP8) + 440 Hz tone (Opus); {args.seconds:g} s per "
        f"CPU case; CPU/s-s = CPU seconds per session-second (utime + stime); "
        f"join-to-first-frame: median of {args.trials}; "
        f"{os.cpu_count()} CPUs; aiortc in a private network namespace"
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: processes stopped, namespace removed", file=sys.stderr)
        sys.exit(130)
