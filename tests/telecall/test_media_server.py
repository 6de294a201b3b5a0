"""The media process's HTTP face on its own: the embedded daemon thread, refused requests,
and a recorder's whole life (join, write, stop on DELETE, report) against a stand-in call
API with nobody else in the call, so no media network is needed."""

import asyncio
import hashlib
import json
import urllib.error
import urllib.request

import aiohttp
import av
import pytest
from aiohttp import web

from telecall.media.embedded import start_in_thread
from telecall.media.settings import Settings, SettingsError

# -- embedded -------------------------------------------------------------------------------


def _status(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 (local)
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:  # noqa: S310 (local)
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None


def test_embedded_server_runs_in_a_daemon_thread_and_stops():
    with pytest.raises(SettingsError):
        start_in_thread("127.0.0.1", 0, "")
    handle = start_in_thread("127.0.0.1", 0, "s3cret", [])
    try:
        assert handle._thread.daemon
        assert _status(handle.url + "/health", {"X-Media-Secret": "s3cret"}) == (
            200,
            {"echo_sessions": 0, "recordings": 0},
        )
        assert _status(handle.url + "/health")[0] == 401
        assert _status(handle.url + "/health", {"X-Media-Secret": "nope"})[0] == 401
    finally:
        handle.stop()
    assert not handle._thread.is_alive()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(handle.url + "/health", timeout=2)  # noqa: S310


# -- the server's requests, and a recorder's life against a stand-in call API ----------------


def test_a_recording_stops_on_delete_and_reports_its_file(tmp_path):
    """The recorder joins (a stand-in call API with nobody else in the call), writes black
    video and silence, and on DELETE closes the file and reports its size and SHA-256."""
    reports, joined = [], asyncio.Event()

    async def join(request):
        assert request.headers["X-Join-Token"] == "rec-token"
        joined.set()
        me = {"id": 9, "role": "recorder", "display_name": "recorder"}
        return web.json_response({"participant": me, "ice_servers": [], "peers": [], "after": 0})

    async def events(request):
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        while True:
            await resp.write(b": keep-alive\n\n")
            await asyncio.sleep(0.2)

    async def finished(request):
        reports.append(await request.json())
        return web.json_response({})

    async def leave(request):
        return web.Response(status=204)

    async def scenario():
        from telecall.media.server import build_app

        fake = web.Application()
        fake.router.add_post("/api/v1/call/join", join)
        fake.router.add_get("/api/v1/call/events", events)
        fake.router.add_post("/api/v1/call/recording-finished", finished)
        fake.router.add_post("/api/v1/call/leave", leave)
        runners = [web.AppRunner(fake), web.AppRunner(build_app(Settings(secret="s")))]
        ports = []
        for runner in runners:
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            ports.append(runner.addresses[0][1])
        media, auth = f"http://127.0.0.1:{ports[1]}", {"X-Media-Secret": "s"}
        body = {
            "recording_id": 5,
            "join_token": "rec-token",
            "base_url": f"http://127.0.0.1:{ports[0]}",
            "path": str(tmp_path / "r.mkv"),
        }
        async with aiohttp.ClientSession(headers=auth) as session:
            async with session.post(media + "/recordings", json={"recording_id": 5}) as resp:
                refused = resp.status
            async with session.post(media + "/recordings", json=body) as resp:
                started = resp.status
            await asyncio.wait_for(joined.wait(), 10)
            await asyncio.sleep(1.0)
            async with session.get(media + "/health") as resp:
                during = await resp.json()
            async with session.delete(media + "/recordings/5") as resp:
                stopped = resp.status
            async with session.delete(media + "/recordings/77") as resp:
                unknown = resp.status
            for _ in range(100):
                if reports:
                    break
                await asyncio.sleep(0.1)
            async with session.get(media + "/health") as resp:
                after = await resp.json()
        for runner in reversed(runners):
            await runner.cleanup()
        return refused, started, during, stopped, unknown, after

    refused, started, during, stopped, unknown, after = asyncio.run(scenario())
    assert (refused, started, stopped, unknown) == (400, 202, 202, 404)
    assert during == {"echo_sessions": 0, "recordings": 1}
    assert after == {"echo_sessions": 0, "recordings": 0}
    path = tmp_path / "r.mkv"
    assert reports == [
        {
            "bytes": path.stat().st_size,
            "seconds": reports[0]["seconds"],
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        }
    ]
    assert 0.8 <= reports[0]["seconds"] <= 5
    with av.open(str(path)) as container:
        assert sorted(s.type for s in container.streams) == ["audio", "video"]


@pytest.mark.parametrize(
    ("limit", "body", "status", "error"),
    [
        (1, [1], 400, "the body must be a JSON object"),
        (1, {"type": "offer"}, 400, 'a session description needs "sdp" and "type"'),
        (1, {"sdp": "v=0", "type": "answer"}, 400, "the echo takes an offer"),
        (1, {"sdp": "v=0", "type": "offer"}, 400, "the offer has neither audio nor video"),
        (1, {"sdp": "v=0\r\nm=audio x\r\n", "type": "offer"}, 400, "the offer is not SDP"),
        (0, {"sdp": "v=0", "type": "offer"}, 503, "the device check is busy"),
    ],
)
def test_bad_echo_offers_are_refused_and_the_session_limit_holds(limit, body, status, error):
    async def scenario():
        from telecall.media.server import build_app

        runner = web.AppRunner(build_app(Settings(secret="s", max_echo_sessions=limit)))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        async with aiohttp.ClientSession(headers={"X-Media-Secret": "s"}) as session:
            async with session.post(url + "/echo", json=body) as resp:
                found = resp.status, (await resp.json())["error"]
            async with session.get(url + "/health") as resp:
                sessions = (await resp.json())["echo_sessions"]
        await runner.cleanup()
        return found, sessions

    (got_status, got_error), sessions = asyncio.run(scenario())
    assert got_status == status
    assert got_error.startswith(error)
    assert sessions == 0
