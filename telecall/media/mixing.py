"""The recorder's two output tracks: every peer's video tiled into one picture, every peer's
audio summed into one mono signal. A recording is one Matroska file with one video and one
audio stream whatever comes and goes during the visit; a container cannot gain streams once
writing has started, and a late joiner must still be in the file.

Tiling and mixing use PyAV (swscale, swresample) and plain bytes: no numpy.
"""

import fractions
import math
from array import array

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from telecall.media.sources import AUDIO_PTIME, AUDIO_RATE, VIDEO_TIME_BASE, Clock

BLACK = (16, 128, 128)  # Y, U, V
MAX_AUDIO_BACKLOG = 0.5  # seconds of a peer's audio kept; older samples are dropped
# Seconds of a peer's audio held before it is mixed, and again after each underrun: network
# jitter then costs a short gap now and then instead of a click in every frame.
AUDIO_PREBUFFER = 0.06


def grid(count: int, width: int, height: int) -> list[tuple[int, int, int, int]]:
    """`count` tiles (x, y, w, h) in a near-square grid, even-sized for 4:2:0 chroma."""
    if count <= 0:
        return []
    cols = math.ceil(math.sqrt(count))
    rows = math.ceil(count / cols)
    w, h = width // cols // 2 * 2, height // rows // 2 * 2
    return [((i % cols) * w, (i // cols) * h, w, h) for i in range(count)]


def fit(width: int, height: int, x: int, y: int, w: int, h: int) -> tuple[int, int, int, int]:
    """A `width` x `height` picture scaled into the tile keeping its shape, centred."""
    scale = min(w / width, h / height)
    fw, fh = max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)
    return x + (w - fw) // 4 * 2, y + (h - fh) // 4 * 2, fw, fh


class VideoMixer(MediaStreamTrack):
    """The latest frame of each source, tiled, `fps` frames a second."""

    kind = "video"

    def __init__(self, width: int = 640, height: int = 480, fps: int = 15):
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self.latest: dict = {}  # source -> its last VideoFrame (None before the first)
        self._clock = Clock(1 / fps)

    def add_source(self, key) -> None:
        self.latest.setdefault(key, None)

    def remove_source(self, key) -> None:
        self.latest.pop(key, None)

    def feed(self, key, frame: av.VideoFrame) -> None:
        if key in self.latest:
            self.latest[key] = frame

    def compose(self) -> av.VideoFrame:
        out = av.VideoFrame(width=self.width, height=self.height, format="yuv420p")
        planes = [
            bytearray([value]) * p.buffer_size for value, p in zip(BLACK, out.planes, strict=True)
        ]
        frames = [f for f in self.latest.values() if f is not None]
        for (x, y, w, h), frame in zip(
            grid(len(frames), self.width, self.height), frames, strict=True
        ):
            x, y, w, h = fit(frame.width, frame.height, x, y, w, h)
            tile = frame.reformat(width=w, height=h, format="yuv420p")
            for i, (dst, src) in enumerate(zip(out.planes, tile.planes, strict=True)):
                scale = 1 if i == 0 else 2
                _blit(
                    planes[i],
                    dst.line_size,
                    bytes(src),
                    src.line_size,
                    src.width,
                    src.height,
                    x // scale,
                    y // scale,
                )
        for dst, data in zip(out.planes, planes, strict=True):
            dst.update(bytes(data))
        return out

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        index = await self._clock.tick()
        frame = self.compose()
        frame.pts = index * 90000 // self.fps
        frame.time_base = VIDEO_TIME_BASE
        return frame


def _blit(dst: bytearray, dst_stride, src: bytes, src_stride, width, height, x, y) -> None:
    for row in range(height):
        start = (y + row) * dst_stride + x
        dst[start : start + width] = src[row * src_stride : row * src_stride + width]


class AudioMixer(MediaStreamTrack):
    """Each source resampled to mono 48 kHz s16 and summed, in 20 ms frames."""

    kind = "audio"

    def __init__(self):
        super().__init__()
        self.samples = int(AUDIO_RATE * AUDIO_PTIME)
        self.buffers: dict = {}  # source -> bytearray of s16 samples
        self.resamplers: dict = {}
        self.primed: dict = {}  # source -> whether its buffer has filled since the last gap
        self._clock = Clock(AUDIO_PTIME)

    def add_source(self, key) -> None:
        self.buffers.setdefault(key, bytearray())
        self.primed.setdefault(key, False)
        self.resamplers.setdefault(
            key, av.AudioResampler(format="s16", layout="mono", rate=AUDIO_RATE)
        )

    def remove_source(self, key) -> None:
        self.buffers.pop(key, None)
        self.resamplers.pop(key, None)
        self.primed.pop(key, None)

    def feed(self, key, frame: av.AudioFrame) -> None:
        if key not in self.buffers:
            return
        buffer = self.buffers[key]
        for out in self.resamplers[key].resample(frame):
            buffer += bytes(out.planes[0])[: out.samples * 2]
        excess = len(buffer) - int(MAX_AUDIO_BACKLOG * AUDIO_RATE) * 2
        if excess > 0:
            del buffer[:excess]

    def mix(self) -> bytes:
        size = self.samples * 2
        chunks = []
        for key, buffer in self.buffers.items():
            if not self.primed[key]:
                self.primed[key] = len(buffer) >= int(AUDIO_PREBUFFER * AUDIO_RATE) * 2
            if self.primed[key] and len(buffer) < size:
                self.primed[key] = False  # an underrun: silent until the buffer fills again
            if self.primed[key]:
                chunks.append(bytes(buffer[:size]))
                del buffer[:size]
        if not chunks:
            return bytes(size)
        if len(chunks) == 1:
            return chunks[0]
        columns = zip(*(array("h", chunk) for chunk in chunks), strict=True)
        return array("h", (max(-32768, min(32767, sum(c))) for c in columns)).tobytes()

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        index = await self._clock.tick()
        frame = av.AudioFrame(format="s16", layout="mono", samples=self.samples)
        frame.planes[0].update(self.mix())
        frame.pts = index * self.samples
        frame.sample_rate = AUDIO_RATE
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        return frame
