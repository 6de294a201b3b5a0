"""The media process's parts on their own: the synthetic sources, the SSE parser and the
event stream's reconnection, settings, peer configuration, the recorder's mixers, and the
rule that it imports nothing from Flask or app/ (the HTTP face: test_media_server.py)."""

import asyncio
import json
import os
import subprocess
import sys
import time
from array import array
from pathlib import Path

import av
import pytest
from aiohttp import web

from telecall.media import peers
from telecall.media.mixing import AudioMixer, VideoMixer, fit, grid
from telecall.media.settings import Settings, SettingsError, parse_ice_servers
from telecall.media.signalling import CallApi, SseEvent, SseParser
from telecall.media.sources import BARS, PatternVideoTrack, ToneAudioTrack

ROOT = Path(__file__).resolve().parents[2]


# -- sources ------------------------------------------------------------------------------


def test_pattern_frames_have_the_size_format_and_video_clock_timestamps():
    track = PatternVideoTrack(320, 240, fps=30)
    frames = [track.frame_at(i) for i in range(3)]
    assert {(f.width, f.height, f.format.name) for f in frames} == {(320, 240, "yuv420p")}
    assert [f.pts for f in frames] == [0, 3000, 6000]  # 90 kHz / 30 fps
    assert frames[0].time_base == frames[0].time_base.__class__(1, 90000)
    row = bytes(frames[0].planes[0])[: frames[0].width]
    assert set(row) == {bar[0] for bar in BARS}  # all eight bars, in luma
    assert bytes(frames[0].planes[0]) != bytes(frames[1].planes[0])  # the bars move


def test_pattern_track_is_paced_like_a_camera():
    async def first_frames(n):
        track = PatternVideoTrack(64, 48, fps=30)
        started = time.monotonic()
        frames = [await track.recv() for _ in range(n)]
        return frames, time.monotonic() - started

    frames, took = asyncio.run(first_frames(7))
    assert [f.pts for f in frames] == [i * 3000 for i in range(7)]
    assert 0.18 <= took <= 0.6  # six frame intervals of 1/30 s


def test_the_tone_is_440_hz_in_20_ms_frames_that_join_up():
    track = ToneAudioTrack()
    frames = [track.frame_at(i) for i in range(100)]  # two seconds, across the loop point
    assert {(f.samples, f.sample_rate, f.format.name, f.layout.name) for f in frames} == {
        (960, 48000, "s16", "mono")
    }
    assert [f.pts for f in frames[:3]] == [0, 960, 1920]
    samples = array("h")
    for frame in frames:
        samples.frombytes(bytes(frame.planes[0]))
    crossings = sum((a < 0) != (b < 0) for a, b in zip(samples, samples[1:], strict=False))
    assert crossings / 2 / 2 == pytest.approx(440, abs=2)
    # no click where the one-second loop restarts
    assert abs(samples[48000] - samples[47999]) < 2000


# -- the SSE parser and the event stream ----------------------------------------------------


def feed(parser, text):
    return [e for e in (parser.feed(line) for line in text.split("\n")) if e is not None]


def test_sse_parser_reads_ids_data_and_skips_comments():
    parser = SseParser()
    text = 'id: 7\ndata: {"kind": "joined"}\n\n: keep-alive\n\nid: 8\ndata: {"a":\ndata: 1}\n\n'
    assert feed(parser, text) == [
        SseEvent("7", "message", '{"kind": "joined"}'),
        SseEvent("8", "message", '{"a":\n1}'),
    ]
    assert parser.last_id == "8"


def test_sse_parser_fields_without_space_event_names_and_empty_events():
    parser = SseParser()
    events = feed(parser, "event:ping\ndata:x\n\nid: 3\n\nretry: 10\ndata\n\n")
    assert events[0] == SseEvent(None, "ping", "x")
    assert events[1] == SseEvent("3", "message", "")  # a bare "data" line is an empty datum
    assert parser.last_id == "3"  # an id alone moves the cursor but dispatches nothing


def test_call_events_reconnect_from_the_last_id():
    """The stream ends twice; the client comes back with after= and Last-Event-ID each time
    and sees every message once, in order."""
    seen_requests = []

    async def stream(request):
        seen_requests.append(
            (
                request.query.get("after"),
                request.headers.get("Last-Event-ID"),
                request.headers.get("X-Join-Token"),
            )
        )
        start = int(request.query.get("after", "0"))
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(b": keep-alive\n\n")
        for n in range(start + 1, start + 3):
            body = json.dumps({"id": n, "from": 1, "kind": "offer", "payload": {"n": n}})
            await resp.write(f"id: {n}\ndata: {body}\n\n".encode())
        return resp  # the stream ends, as the web's does after ten minutes

    async def scenario():
        app = web.Application()
        app.router.add_get("/api/v1/call/events", stream)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        api = CallApi(f"http://127.0.0.1:{port}/", "tok")
        api.cursor = 4
        got = []
        async for message in api.events():
            got.append(message["id"])
            if len(got) == 6:
                break
        await api.close()
        await runner.cleanup()
        return got

    got = asyncio.run(scenario())
    assert got == [5, 6, 7, 8, 9, 10]
    assert seen_requests == [("4", "4", "tok"), ("6", "6", "tok"), ("8", "8", "tok")]


# -- settings and peers ---------------------------------------------------------------------


def test_settings_refuse_to_run_without_a_secret():
    with pytest.raises(SettingsError, match="MEDIA_SECRET"):
        Settings.from_env({})
    settings = Settings.from_env(
        {
            "MEDIA_SECRET": "s",
            "MEDIA_PORT": "9000",
            "MEDIA_ICE_SERVERS": '[{"urls": "turn:10.0.0.1", "username": "u", "credential": "c"}]',
        }
    )
    assert (settings.host, settings.port) == ("127.0.0.1", 9000)
    assert settings.ice_servers[0]["urls"] == "turn:10.0.0.1"


@pytest.mark.parametrize("text", ["{", '{"urls": "stun:x"}', '[{"user": "x"}]'])
def test_bad_ice_server_settings_are_refused(text):
    with pytest.raises(SettingsError):
        parse_ice_servers(text)


def test_peers_use_only_the_configured_ice_servers():
    """aiortc's default would be Google's public STUN server."""

    async def configured(servers):
        pc = peers.new_peer(servers)
        offer = await peers.make_offer(pc)
        config = pc._RTCPeerConnection__configuration  # noqa: SLF001
        await pc.close()
        return config.iceServers, offer

    servers, offer = asyncio.run(configured([]))
    assert servers == []
    assert "typ srflx" not in offer["sdp"]
    assert offer["type"] == "offer"
    servers, _ = asyncio.run(
        configured([{"urls": "turn:10.0.0.9:3478", "username": "u", "credential": "c"}])
    )
    assert [(s.urls, s.username) for s in servers] == [("turn:10.0.0.9:3478", "u")]


def test_the_media_package_imports_nothing_from_flask_or_app_and_starts_no_loop():
    code = (
        "import sys, asyncio, threading\n"
        "import telecall.media.server, telecall.media.client, telecall.media.embedded\n"
        "import telecall.media.recorder, telecall.media.__main__\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'app', 'werkzeug')]\n"
        "assert not bad, bad\n"
        "assert threading.active_count() == 1\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )
    assert done.stdout.strip() == "ok", done.stderr


# -- the recorder's mixers ------------------------------------------------------------------


def test_grid_tiles_are_even_and_inside_the_picture():
    assert grid(0, 640, 480) == []
    assert grid(1, 640, 480) == [(0, 0, 640, 480)]
    assert grid(3, 640, 480) == [(0, 0, 320, 240), (320, 0, 320, 240), (0, 240, 320, 240)]


def test_a_picture_keeps_its_shape_in_its_tile():
    assert fit(320, 240, 0, 0, 640, 480) == (0, 0, 640, 480)
    assert fit(320, 240, 320, 0, 320, 480) == (320, 120, 320, 240)  # letterboxed, centred
    assert fit(240, 320, 0, 0, 640, 480) == (140, 0, 360, 480)


def test_video_mixer_tiles_each_source():
    mixer = VideoMixer(64, 32)
    sources = {"white": BARS[0], "blue": BARS[6]}
    for name, (y, u, v) in sources.items():
        frame = av.VideoFrame(width=16, height=16, format="yuv420p")
        for plane, value in zip(frame.planes, (y, u, v), strict=True):
            plane.update(bytes([value]) * plane.buffer_size)
        mixer.add_source(name)
        mixer.feed(name, frame)
    out = mixer.compose()
    luma = bytes(out.planes[0])
    stride = out.planes[0].line_size
    assert (out.width, out.height) == (64, 32)
    assert abs(luma[10 * stride + 10] - BARS[0][0]) <= 2  # left tile
    assert abs(luma[10 * stride + 50] - BARS[6][0]) <= 2  # right tile
    mixer.remove_source("blue")
    alone = bytes(mixer.compose().planes[0])
    assert abs(alone[10 * stride + 32] - BARS[0][0]) <= 2  # the one left fills the middle
    assert alone[10 * stride + 2] == 16  # black beside it: its shape is kept


def _tone_frame(value: int, samples: int = 960) -> av.AudioFrame:
    frame = av.AudioFrame(format="s16", layout="mono", samples=samples)
    frame.planes[0].update(array("h", [value] * samples).tobytes())
    frame.sample_rate = 48000
    return frame


def test_audio_mixer_sums_sources_and_clips():
    mixer = AudioMixer()
    for name, value in (("a", 1000), ("b", 2000), ("c", 32000)):
        mixer.add_source(name)
        mixer.feed(name, _tone_frame(value, 960 * 3))  # 60 ms: past the jitter prebuffer
    assert set(array("h", mixer.mix())) == {32767}  # 35000, clipped
    mixer.remove_source("c")
    assert set(array("h", mixer.mix())) == {3000}


def test_audio_mixer_waits_out_jitter_instead_of_clicking():
    mixer = AudioMixer()
    mixer.add_source("a")
    mixer.feed("a", _tone_frame(1000))
    assert set(array("h", mixer.mix())) == {0}  # 20 ms is not enough to start on
    mixer.feed("a", _tone_frame(1000, 960 * 2))
    assert [set(array("h", mixer.mix())) for _ in range(3)] == [{1000}] * 3
    mixer.feed("a", _tone_frame(1000, 480))  # a late packet: half a frame
    assert set(array("h", mixer.mix())) == {0}  # silence, never half a frame and a click
    mixer.feed("a", _tone_frame(1000, 960 * 3))
    assert set(array("h", mixer.mix())) == {1000}
