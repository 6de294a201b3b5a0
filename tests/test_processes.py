"""The commands that run the platform, started as real processes."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def process_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "KANGYANG_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'kangyang.db'}"
    subprocess.run([*FLASK, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    return env


def read_until(process, text: str, seconds: float = 20) -> str:
    seen = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return "".join(seen)
    raise AssertionError(f"{text!r} not printed; got: {''.join(seen)[-2000:]}")


@pytest.mark.own_app
def test_serve_runs_the_web_and_the_scheduler_in_one_process(process_env):
    port = free_port()
    process = subprocess.Popen(
        [*FLASK, "serve", "--port", str(port)],
        cwd=ROOT,
        env=process_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = read_until(process, "Running on")
        assert "Scheduler started with jobs" in output
        assert "residents.expire_caregiver_links" in output
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:  # noqa: S310
            assert response.status == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.own_app
def test_scheduler_runs_alone(process_env):
    process = subprocess.Popen(
        [*FLASK, "scheduler"],
        cwd=ROOT,
        env=process_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = read_until(process, "Scheduler running with jobs")
        assert "auth.purge_expired_tokens" in output
        assert process.poll() is None  # it keeps running
    finally:
        process.terminate()
        process.wait(timeout=10)
