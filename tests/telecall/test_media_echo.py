"""The device check for real: the media process runs inside a private network namespace
(`python -m telecall.media`), and an aiortc peer in the same namespace sends moving colour
bars and a 440 Hz tone to /echo and gets them back. Requests without the secret are refused.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.telecall.netns import netns  # noqa: F401 (the fixture)

pytestmark = pytest.mark.media

ROOT = Path(__file__).resolve().parents[2]
PORT = 8765  # the namespace is private: nothing else listens there


@pytest.fixture(scope="module")
def media(netns, tmp_path_factory):  # noqa: F811
    secret = secrets.token_urlsafe(24)
    env = os.environ | {"MEDIA_SECRET": secret, "PYTHONPATH": str(ROOT)}
    log = tmp_path_factory.mktemp("media") / "media.log"
    with log.open("w") as out:
        process = netns.popen(
            [sys.executable, "-m", "telecall.media", "--host", "127.0.0.1", "--port", PORT],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    yield {"url": f"http://127.0.0.1:{PORT}", "env": env, "log": log}
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


def probe(netns, media, *args) -> dict:  # noqa: F811
    done = netns.run(
        [sys.executable, "-m", "tests.telecall.echo_probe", media["url"], *args],
        cwd=ROOT,
        env=media["env"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:] + media["log"].read_text()[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_echo_sends_back_the_callers_own_video_and_audio(netns, media):  # noqa: F811
    result = probe(netns, media, "--frames", "30")
    echo = result["echo"]
    assert echo["video"] >= 30, echo
    assert echo["audio"] >= 30, echo
    assert echo["sizes"] == ["320x240"], echo
    assert echo["bars"] >= 6, echo  # the colour bars we sent, not some other picture
    assert 400 <= echo["tone_hz"] <= 480, echo  # and the 440 Hz tone
    assert echo["connection"] == "connected"
    assert echo["health_during"]["echo_sessions"] == 1
    assert echo["sessions_after_close"] == 0  # the session ended when the caller hung up


def test_requests_without_the_secret_are_refused(netns, media):  # noqa: F811
    result = probe(netns, media, "--frames", "0")
    assert result["health"] == {"echo_sessions": 0, "recordings": 0}
    assert set(result["refused"].values()) == {401}, result["refused"]


def test_the_media_process_will_not_start_without_a_secret():
    env = {k: v for k, v in os.environ.items() if k != "MEDIA_SECRET"}
    done = subprocess.run(
        [sys.executable, "-m", "telecall.media", "--port", "0"],
        cwd=ROOT,
        env=env | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "MEDIA_SECRET" in done.stderr
