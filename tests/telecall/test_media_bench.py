"""bench/telecall.py keeps working: a short run (one echo session for a second, no call)
prints the join-to-first-frame table and the CPU table with numbers above zero, and removes
the network namespace it made."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.telecall.netns import IN_CI

pytestmark = pytest.mark.media

ROOT = Path(__file__).resolve().parents[2]


def _namespaces() -> set[str]:
    done = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    return {line.split()[0] for line in done.stdout.splitlines() if line.strip()}


def test_the_media_benchmark_runs_and_prints_its_tables():
    if shutil.which("ip") is None or os.geteuid() != 0:
        reason = "bench/telecall.py needs root and `ip` to make its network namespace"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "telecall.py")]
        + ["--seconds", "1", "--sessions", "1", "--trials", "1", "--no-call", "--size", "320x240"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].split()[:4] == ["join", "to", "first", "frame"]
    first = {line.split()[0]: line.split()[1:] for line in lines[1:3]}
    assert set(first) == {"bare", "echo"}
    assert all(float(cells[0].replace(",", "")) > 0 for cells in first.values()), lines
    head = next(i for i, line in enumerate(lines) if line.startswith("sessions"))
    row = lines[head + 1].split()
    assert row[0] == "1"
    media, senders, bare, echo_fps = (float(cell) for cell in row[1:5])
    assert media > 0, lines[head + 1]
    assert senders > 0, lines[head + 1]
    assert bare > 0, lines[head + 1]
    assert echo_fps > 5, lines[head + 1]  # echoed video frames per second per session
    media_ms, echo_ms, bare_ms = (float(cell) for cell in row[6:9])
    assert 0 < media_ms < echo_ms  # the media process's share of the echo's CPU per frame
    assert bare_ms > 0
    made = [line.split()[-1] for line in done.stderr.splitlines() if line.startswith("namespace")]
    assert made, done.stderr
    assert made[0] not in _namespaces(), "the benchmark left its namespace behind"
