"""Synthetic media for the Python client, the echo probe and tests: moving colour bars and
a 440 Hz tone, paced in real time like a camera and a microphone.

Built from bytes with PyAV alone (no numpy): each frame's planes are filled row by row.
"""

import asyncio
import fractions
import math
import time
from array import array

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, VideoFrame

VIDEO_CLOCK_RATE = 90000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK_RATE)
AUDIO_RATE = 48000
AUDIO_PTIME = 0.020  # 20 ms a frame, as Opus packets are
TONE_HZ = 440

# BT.601 limited range (Y, U, V): white, yellow, cyan, green, magenta, red, blue, black
BARS = (
    (235, 128, 128),
    (210, 16, 146),
    (170, 166, 16),
    (145, 54, 34),
    (106, 202, 222),
    (81, 90, 240),
    (41, 240, 110),
    (16, 128, 128),
)
SHIFT_PER_FRAME = 4  # pixels the bars move each frame, so frames differ like a live camera


class Clock:
    """Real-time pacing: the n-th frame is due `n * step` seconds after the first."""

    def __init__(self, step: float):
        self.step = step
        self.start: float | None = None
        self.count = 0

    async def tick(self) -> int:
        if self.start is None:
            self.start = time.monotonic()
        else:
            self.count += 1
            await asyncio.sleep(max(0.0, self.start + self.count * self.step - time.monotonic()))
        return self.count


def _bar_row(width: int, channel: int) -> bytes:
    """Two periods of the bars in one channel, so any shift is a slice of `width` bytes."""
    row = bytes(BARS[x * len(BARS) // width][channel] for x in range(width))
    return row + row


class PatternVideoTrack(MediaStreamTrack):
    """Moving colour bars, `fps` frames a second, timestamps on the 90 kHz video clock."""

    kind = "video"

    def __init__(self, width: int = 320, height: int = 240, fps: int = 30):
        super().__init__()
        if width < 16 or height < 16 or width % 2 or height % 2:
            raise ValueError("the pattern needs an even size of at least 16x16")
        self.width, self.height, self.fps = width, height, fps
        self._clock = Clock(1 / fps)
        chroma = (width + 1) // 2
        self._rows = (_bar_row(width, 0), _bar_row(chroma, 1), _bar_row(chroma, 2))

    def frame_at(self, index: int) -> VideoFrame:
        frame = VideoFrame(width=self.width, height=self.height, format="yuv420p")
        for plane, row in zip(frame.planes, self._rows, strict=True):
            shift = (index * SHIFT_PER_FRAME * plane.width // self.width) % plane.width
            line = row[shift : shift + plane.width].ljust(plane.line_size, b"\0")
            plane.update(line * plane.height)
        frame.pts = index * VIDEO_CLOCK_RATE // self.fps
        frame.time_base = VIDEO_TIME_BASE
        return frame

    async def recv(self) -> VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        return self.frame_at(await self._clock.tick())


def _tone_second(frequency: int, rate: int, amplitude: float) -> bytes:
    """One second of a sine: with a whole number of cycles a second it loops seamlessly."""
    peak = int(32767 * amplitude)
    samples = array(
        "h", (round(peak * math.sin(2 * math.pi * frequency * n / rate)) for n in range(rate))
    )
    return samples.tobytes()


class ToneAudioTrack(MediaStreamTrack):
    """A 440 Hz sine, mono 48 kHz s16, in 20 ms frames; pts counts samples."""

    kind = "audio"

    def __init__(self, frequency: int = TONE_HZ, amplitude: float = 0.3):
        super().__init__()
        self.samples = int(AUDIO_RATE * AUDIO_PTIME)
        self._second = _tone_second(frequency, AUDIO_RATE, amplitude)
        self._clock = Clock(AUDIO_PTIME)

    def frame_at(self, index: int) -> AudioFrame:
        frame = AudioFrame(format="s16", layout="mono", samples=self.samples)
        start = (index * self.samples) % AUDIO_RATE * 2  # a frame never straddles the loop
        frame.planes[0].update(self._second[start : start + self.samples * 2])
        frame.pts = index * self.samples
        frame.sample_rate = AUDIO_RATE
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        return frame

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        return self.frame_at(await self._clock.tick())
