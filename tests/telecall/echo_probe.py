"""Run inside a test's network namespace (`python -m tests.telecall.echo_probe URL`): waits
for the media server, checks that it refuses requests without the secret, sends moving
colour bars and a 440 Hz tone to /echo, and prints one JSON object: what came back (frame
counts, sizes, the bars and the tone recognised), the refusals' status codes and /health.

The secret comes from MEDIA_SECRET in the environment.
"""

import argparse
import asyncio
import json
import os
import sys
import time
from array import array
from statistics import median

import aiohttp
import av
from aiortc.mediastreams import MediaStreamError

from telecall.media import peers
from telecall.media.sources import BARS, PatternVideoTrack, ToneAudioTrack

TOLERANCE = 12  # VP8 is lossy: a bar's luma comes back within a few levels


async def wait_for_server(session, url: str, headers: dict, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        try:
            async with session.get(url + "/health", headers=headers) as resp:
                if resp.status == 200:
                    return await resp.json()
        except aiohttp.ClientError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"the media server at {url} did not answer")
        await asyncio.sleep(0.1)


async def refusals(session, url: str) -> dict:
    """Status codes without the secret and with a wrong one."""
    found = {}
    for name, headers in (("none", {}), ("wrong", {"X-Media-Secret": "not-the-secret"})):
        async with session.get(url + "/health", headers=headers) as resp:
            found[f"health_{name}"] = resp.status
        async with session.post(
            url + "/echo", json={"sdp": "", "type": "offer"}, headers=headers
        ) as resp:
            found[f"echo_{name}"] = resp.status
    return found


def bars_seen(frame) -> int:
    """How many of the eight bar luma levels appear along the middle row."""
    plane = frame.planes[0]
    middle = bytes(plane)[plane.line_size * (frame.height // 2) :][: frame.width]
    levels = [bar[0] for bar in BARS]
    return sum(any(abs(px - level) <= TOLERANCE for px in middle) for level in levels)


def tone_hz(frames, floor: int = 1000) -> float:
    """The frequency of audio frames (any format): the median over their loud stretches of
    the zero-crossing rate of the mono mix. A median, because a recording made on a busy
    machine has gaps, and each gap's edges add a crossing or two to their stretch."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
    rates = []
    for frame in frames:
        frame.pts = None  # decoders' timestamps need not be continuous for this
        for mono in resampler.resample(frame):
            chunk = array("h", bytes(mono.planes[0])[: mono.samples * 2])
            if len(chunk) < 256 or max(map(abs, chunk)) < floor:
                continue
            pairs = zip(chunk, chunk[1:], strict=False)
            crossings = sum((a < 0) != (b < 0) for a, b in pairs)
            rates.append(crossings / 2 / ((len(chunk) - 1) / 48000))
    return median(rates) if rates else 0.0


class Received:
    def __init__(self):
        self.video = self.audio = 0
        self.sizes = set()
        self.bars = 0
        self.first_video_ms = None
        self.audio_frames = []

    async def consume(self, track, started: float) -> None:
        try:
            while True:
                frame = await track.recv()
                if track.kind == "video":
                    self.video += 1
                    self.sizes.add(f"{frame.width}x{frame.height}")
                    self.bars = max(self.bars, bars_seen(frame))
                    if self.first_video_ms is None:
                        self.first_video_ms = round((time.monotonic() - started) * 1000, 1)
                else:
                    self.audio += 1
                    if self.audio > 25:  # past the start, where Opus ramps up
                        self.audio_frames = (self.audio_frames + [frame])[-50:]
        except MediaStreamError:
            return


async def echo(session, url: str, headers: dict, args) -> dict:
    pc = peers.new_peer([])
    pc.addTrack(PatternVideoTrack(args.width, args.height))
    pc.addTrack(ToneAudioTrack())
    received = Received()
    started = time.monotonic()
    tasks = []
    pc.on(
        "track", lambda track: tasks.append(asyncio.ensure_future(received.consume(track, started)))
    )
    offer = await peers.make_offer(pc)
    async with session.post(url + "/echo", json=offer, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        answer = await resp.json()
    await pc.setRemoteDescription(peers.description(answer))
    deadline = started + args.seconds
    while time.monotonic() < deadline and min(received.video, received.audio) < args.frames:
        await asyncio.sleep(0.05)
    async with session.get(url + "/health", headers=headers) as resp:
        during = await resp.json()
    state = pc.connectionState
    await pc.close()
    for task in tasks:
        task.cancel()
    after = await sessions_after_close(session, url, headers)
    return {
        "video": received.video,
        "audio": received.audio,
        "sizes": sorted(received.sizes),
        "bars": received.bars,
        "tone_hz": round(tone_hz(received.audio_frames), 1),
        "first_video_ms": received.first_video_ms,
        "connection": state,
        "health_during": during,
        "sessions_after_close": after,
    }


async def sessions_after_close(session, url: str, headers: dict, seconds: float = 5) -> int:
    """The server ends a session when its caller hangs up (RTCP BYE): wait for that."""
    deadline = time.monotonic() + seconds
    while True:
        async with session.get(url + "/health", headers=headers) as resp:
            count = (await resp.json())["echo_sessions"]
        if count == 0 or time.monotonic() > deadline:
            return count
        await asyncio.sleep(0.1)


async def main(args) -> dict:
    headers = {"X-Media-Secret": os.environ["MEDIA_SECRET"]}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
        result = {"health": await wait_for_server(session, args.url, headers, args.wait)}
        result["refused"] = await refusals(session, args.url)
        if args.frames:
            result["echo"] = await echo(session, args.url, headers, args)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--frames", type=int, default=30, help="0: no echo, only the checks")
    parser.add_argument("--seconds", type=float, default=12)
    parser.add_argument("--wait", type=float, default=10)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
    sys.exit(0)
