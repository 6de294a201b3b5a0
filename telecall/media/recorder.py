"""Consented recording: a participant of role `recorder` joins the visit through the call
API, receives every other participant's audio and video (recvonly offers), and writes them,
tiled and mixed, into one Matroska file with aiortc's MediaRecorder (H.264 + AAC).

It stops on `DELETE /recordings/<id>`, on an `ended` message, or when its token stops
working; then it closes the file and reports its size, SHA-256 and length to the web
(`POST /api/v1/call/recording-finished`) before leaving the call.
"""

import asyncio
import contextlib
import hashlib
import logging
import time
from pathlib import Path

from aiortc.contrib.media import MediaRecorder
from aiortc.mediastreams import MediaStreamError

from telecall.media.call import Call
from telecall.media.mixing import AudioMixer, VideoMixer
from telecall.media.signalling import CallApi

log = logging.getLogger(__name__)


def file_digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return path.stat().st_size, digest.hexdigest()


class Recording:
    def __init__(self, recording_id, api: CallApi, path: str | Path):
        self.recording_id = recording_id
        self.api = api
        self.path = Path(path)
        self.video = VideoMixer()
        self.audio = AudioMixer()
        self.call = Call(api, on_track=self._track, offer_to_joiners=True)
        self._stop = asyncio.Event()
        self._consumers: set[asyncio.Task] = set()
        self.result: dict | None = None

    def stop(self) -> None:
        self._stop.set()

    def _track(self, peer_id: int, track) -> None:
        mixer = self.video if track.kind == "video" else self.audio
        task = asyncio.ensure_future(self._consume(mixer, track))
        self._consumers.add(task)
        task.add_done_callback(self._consumers.discard)

    async def _consume(self, mixer, track) -> None:
        mixer.add_source(track)
        try:
            while True:
                mixer.feed(track, await track.recv())
        except MediaStreamError:
            pass
        finally:
            mixer.remove_source(track)

    async def run(self) -> dict | None:
        """Record until stopped; returns what was reported to the web (None if joining
        failed, in which case there is no file to report)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            await self.call.join()
        except Exception:
            log.exception("recording %s: the recorder could not join", self.recording_id)
            await self.api.close()
            return None
        recorder = MediaRecorder(str(self.path), format="matroska")
        recorder.addTrack(self.video)
        recorder.addTrack(self.audio)
        started = time.monotonic()
        await recorder.start()
        follow = asyncio.ensure_future(self.call.follow())
        stop = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({follow, stop}, return_when=asyncio.FIRST_COMPLETED)
            if follow.done() and not follow.cancelled() and follow.exception():
                log.warning("recording %s: %s", self.recording_id, follow.exception())
        finally:
            for task in (follow, stop):
                task.cancel()
            await self.call.close(leave=False)
            for task in list(self._consumers):
                task.cancel()
            await recorder.stop()
            seconds = time.monotonic() - started
            await self._finish(seconds)
            with contextlib.suppress(Exception):
                await self.api.leave()
            await self.api.close()
        return self.result

    async def _finish(self, seconds: float) -> None:
        size, sha256 = await asyncio.to_thread(file_digest, self.path)
        self.result = {"bytes": size, "sha256": sha256, "seconds": round(seconds, 3)}
        try:
            await self.api.recording_finished(size, sha256, seconds)
        except Exception:
            log.exception("recording %s: the web did not take the report", self.recording_id)
