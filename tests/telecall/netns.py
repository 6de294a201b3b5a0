"""A private network namespace for media tests: aioice and Chromium skip 127.0.0.1, so WebRTC
needs a non-loopback address, and nothing may reach the internet. The namespace holds its
own loopback and a veth pair with both ends inside (10.77.0.1, 10.77.0.2); nothing touches
the root namespace. Needs root (`ip netns`).

Inside it, 127.0.0.1 is the namespace's own loopback: a server started there listens there,
and the host's PostgreSQL and Redis are not reachable over TCP (PostgreSQL's unix socket in
/var/run/postgresql is, and so are SQLite files).

    def test_x(netns):
        netns.run([sys.executable, "-c", "..."])            # inside the namespace
        browser = playwright.chromium.launch(executable_path=str(netns.chromium_wrapper))

In CI (CI=true) a namespace that cannot be made fails the test; elsewhere it is skipped.
"""

import itertools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PREFIX = "ky-"
ADDRESSES = ("10.77.0.1", "10.77.0.2")
SETUP = (
    "ip link set lo up"
    " && ip link add v0 type veth peer name v1"
    f" && ip addr add {ADDRESSES[0]}/24 dev v0 && ip addr add {ADDRESSES[1]}/24 dev v1"
    " && ip link set v0 up && ip link set v1 up"
)
CHROMIUM = "/usr/bin/chromium"
_numbers = itertools.count(1)


class NamespaceError(RuntimeError):
    """The namespace could not be made (no `ip`, not root, no veth support)."""


class Namespace:
    def __init__(self, name: str, folder: Path):
        self.name = name
        self.folder = folder
        self.chromium_wrapper = folder / "chromium"
        self.chromium_wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {name} {CHROMIUM} "$@"\n')
        self.chromium_wrapper.chmod(0o755)

    def command(self, args) -> list[str]:
        return ["ip", "netns", "exec", self.name, *map(str, args)]

    def run(self, args, **kwargs) -> subprocess.CompletedProcess:
        kwargs.setdefault("check", False)
        return subprocess.run(self.command(args), **kwargs)

    def popen(self, args, **kwargs) -> subprocess.Popen:
        return subprocess.Popen(self.command(args), **kwargs)

    def pids(self) -> list[int]:
        done = subprocess.run(
            ["ip", "netns", "pids", self.name], capture_output=True, text=True, check=False
        )
        return [int(p) for p in done.stdout.split()]

    def kill_all(self, grace: float = 3.0) -> None:
        """TERM every process left inside, then KILL what is still there."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in self.pids():
                with suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + grace
            while self.pids() and time.monotonic() < deadline:
                time.sleep(0.05)


def _delete(name: str) -> None:
    subprocess.run(["ip", "netns", "delete", name], capture_output=True, check=False)


def _remove_orphans() -> None:
    """Namespaces of earlier runs whose process is gone (a crash or a kill -9)."""
    done = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        parts = name.split("-")
        mine = name.startswith(PREFIX) and len(parts) == 3 and parts[1].isdigit()
        if mine and not Path(f"/proc/{parts[1]}").exists():
            Namespace(name, Path(tempfile.mkdtemp())).kill_all(0.5)
            _delete(name)


@contextmanager
def network_namespace() -> Iterator[Namespace]:
    if shutil.which("ip") is None:
        raise NamespaceError("the `ip` command (iproute2) is not installed")
    _remove_orphans()
    name = f"{PREFIX}{os.getpid()}-{next(_numbers)}"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if made.returncode != 0:
        raise NamespaceError(f"ip netns add failed (root needed): {made.stderr.strip()}")
    folder = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    namespace = Namespace(name, folder)
    try:
        setup = namespace.run(["sh", "-c", SETUP], capture_output=True, text=True)
        if setup.returncode != 0:
            raise NamespaceError(f"setting up {name} failed: {setup.stderr.strip()}")
        yield namespace
    finally:
        namespace.kill_all()
        _delete(name)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def netns() -> Iterator[Namespace]:
    try:
        with network_namespace() as namespace:
            yield namespace
    except NamespaceError as exc:
        if IN_CI:
            pytest.fail(f"media tests need a network namespace: {exc}")
        pytest.skip(f"media tests need a network namespace: {exc}")
