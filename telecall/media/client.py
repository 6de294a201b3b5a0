"""The Python call client: joins a visit as a real peer, sends moving colour bars and a
440 Hz tone, and counts what every other participant sends. For tests, kiosks and the
benchmark.

    python -m telecall.media.client --base http://127.0.0.1:5000 --token TOKEN [--seconds 30]

Prints JSON lines: {"event": "joined", ...}, then every second, per peer,
{"event": "frames", "peer": id, "video": n, "audio": n}, and at the end a summary with each
peer's counts and the milliseconds from the join request to its first video and audio frame.
"""

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from aiortc.mediastreams import MediaStreamError

from telecall.media.call import Call
from telecall.media.signalling import CallApi, CallRefused
from telecall.media.sources import PatternVideoTrack, ToneAudioTrack


@dataclass
class PeerFrames:
    video: int = 0
    audio: int = 0
    first_video_ms: float | None = None
    first_audio_ms: float | None = None


class FrameCounter:
    def __init__(self, started: float):
        self.started = started
        self.peers: dict[int, PeerFrames] = {}
        self.tasks: set[asyncio.Task] = set()

    def track(self, peer_id: int, track) -> None:
        task = asyncio.ensure_future(
            self._count(self.peers.setdefault(peer_id, PeerFrames()), track)
        )
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _count(self, frames: PeerFrames, track) -> None:
        kind = track.kind
        try:
            while True:
                await track.recv()
                setattr(frames, kind, getattr(frames, kind) + 1)
                first = f"first_{kind}_ms"
                if getattr(frames, first) is None:
                    setattr(frames, first, round((time.monotonic() - self.started) * 1000, 1))
        except MediaStreamError:
            return

    def enough(self, peers: int, frames: int) -> bool:
        full = [p for p in self.peers.values() if min(p.video, p.audio) >= frames]
        return peers > 0 and len(full) >= peers


@dataclass
class Options:
    seconds: float = 30
    size: tuple[int, int] = (320, 240)
    expect_peers: int = 0  # stop early once this many peers each sent min_frames
    min_frames: int = 10
    report_every: float = 1.0


async def run(
    base: str,
    token: str,
    emit: Callable[[dict], None],
    options: Options | None = None,
    stop: asyncio.Event | None = None,
) -> dict:
    """Join, send and count until `options.seconds` pass, the visit ends, `stop` is set, or
    `expect_peers` peers each sent `min_frames` video and audio frames."""
    options, stop = options or Options(), stop or asyncio.Event()
    api = CallApi(base, token)
    started = time.monotonic()
    counter = FrameCounter(started)
    call = Call(
        api,
        on_track=counter.track,
        local_tracks=lambda: [PatternVideoTrack(*options.size), ToneAudioTrack()],
        on_event=lambda m: (
            m.get("kind") in ("ended", "recording")
            and emit({"event": m["kind"], "payload": m.get("payload")})
        ),
        on_state=lambda peer, state: emit({"event": "connection", "peer": peer, "state": state}),
    )
    try:
        joined = await call.join()
    except CallRefused:
        await api.close()
        raise
    peers = [p["id"] for p in joined.get("peers", [])]
    emit({"event": "joined", "participant": call.me.get("id"), "peers": peers})
    follow = asyncio.ensure_future(call.follow())
    deadline = started + options.seconds
    try:
        while time.monotonic() < deadline and not follow.done() and not stop.is_set():
            with contextlib.suppress(TimeoutError):
                wait = min(options.report_every, max(0.0, deadline - time.monotonic()))
                await asyncio.wait_for(stop.wait(), wait)
            for peer_id, frames in counter.peers.items():
                emit(
                    {
                        "event": "frames",
                        "peer": peer_id,
                        "video": frames.video,
                        "audio": frames.audio,
                    }
                )
            if options.expect_peers and counter.enough(options.expect_peers, options.min_frames):
                break
    finally:
        follow.cancel()
        await call.close(leave=True)
        await api.close()
    summary = {
        "event": "summary",
        "participant": call.me.get("id"),
        "ended": call.ended.is_set(),
        "seconds": round(time.monotonic() - started, 3),
        "peers": {str(k): asdict(v) for k, v in counter.peers.items()},
    }
    emit(summary)
    return summary


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    return int(width), int(height)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m telecall.media.client",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--base", required=True, help="the web's base URL")
    parser.add_argument("--token", required=True, help="this participant's join token")
    defaults = Options()
    parser.add_argument("--seconds", type=float, default=defaults.seconds)
    parser.add_argument("--size", type=_size, default=defaults.size, help="WIDTHxHEIGHT")
    parser.add_argument(
        "--expect-peers",
        type=int,
        default=defaults.expect_peers,
        help="stop early once this many peers each sent --min-frames",
    )
    parser.add_argument("--min-frames", type=int, default=defaults.min_frames)
    parser.add_argument(
        "--report-every",
        type=float,
        default=defaults.report_every,
        help="seconds between frames lines",
    )
    args = parser.parse_args(argv)
    options = Options(
        args.seconds, args.size, args.expect_peers, args.min_frames, args.report_every
    )
    logging.basicConfig(level=logging.WARNING)

    def emit(line: dict) -> None:
        print(json.dumps(line), flush=True)

    async def until_stopped():
        # SIGTERM or Ctrl-C: leave the call properly, so the others see `left` at once
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        await run(args.base, args.token, emit, options, stop)

    try:
        asyncio.run(until_stopped())
    except CallRefused as exc:
        emit({"event": "refused", "status": exc.status})
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
