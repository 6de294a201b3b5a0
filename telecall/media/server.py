"""The media process's HTTP face (aiohttp). Every request must carry the shared secret in
`X-Media-Secret`; only the web knows it.

    POST   /echo              {"sdp", "type"} -> {"sdp", "type"}   the device check
    POST   /recordings        {"recording_id", "join_token", "base_url", "path"} -> 202
    DELETE /recordings/<id>   -> 202 (the recorder reports to the web when its file is closed)
    GET    /health            -> {"echo_sessions": n, "recordings": n}
"""

import asyncio
import hmac
import json
import logging

from aiohttp import web

from telecall.media.echo import EchoFull, EchoSessions
from telecall.media.recorder import Recording
from telecall.media.settings import Settings
from telecall.media.signalling import CallApi

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
ECHO = web.AppKey("echo", EchoSessions)
RECORDINGS = web.AppKey("recordings", dict)
STOP_WAIT = 10  # seconds a shutdown waits for recorders to close their files


def _error(kind, message: str) -> web.HTTPException:
    return kind(text=json.dumps({"error": message}), content_type="application/json")


@web.middleware
async def require_secret(request: web.Request, handler):
    given = request.headers.get("X-Media-Secret", "")
    if not hmac.compare_digest(given.encode(), request.app[SETTINGS].secret.encode()):
        raise _error(web.HTTPUnauthorized, "media secret required")
    return await handler(request)


async def _json_body(request: web.Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    return body


def _bad(message: str) -> web.HTTPException:
    return _error(web.HTTPBadRequest, message)


async def echo(request: web.Request) -> web.Response:
    body = await _json_body(request)
    try:
        answer = await request.app[ECHO].answer(body)
    except EchoFull:
        raise _error(web.HTTPServiceUnavailable, "the device check is busy") from None
    except ValueError as exc:
        raise _bad(str(exc)) from None
    return web.json_response(answer)


async def start_recording(request: web.Request) -> web.Response:
    body = await _json_body(request)
    fields = ("recording_id", "join_token", "base_url", "path")
    if not all(body.get(f) not in (None, "") for f in fields):
        raise _bad("recording_id, join_token, base_url and path are required")
    recordings = request.app[RECORDINGS]
    key = str(body["recording_id"])
    if key in recordings:
        return web.json_response({"recording_id": body["recording_id"]}, status=202)
    api = CallApi(str(body["base_url"]), str(body["join_token"]))
    recording = Recording(body["recording_id"], api, str(body["path"]))
    task = asyncio.ensure_future(recording.run())
    recordings[key] = (recording, task)
    task.add_done_callback(lambda _: recordings.pop(key, None))
    return web.json_response({"recording_id": body["recording_id"]}, status=202)


async def stop_recording(request: web.Request) -> web.Response:
    found = request.app[RECORDINGS].get(request.match_info["recording_id"])
    if found is None:
        raise _error(web.HTTPNotFound, "no such recording")
    found[0].stop()
    return web.json_response({"recording_id": found[0].recording_id}, status=202)


async def health(request: web.Request) -> web.Response:
    app = request.app
    return web.json_response({"echo_sessions": len(app[ECHO]), "recordings": len(app[RECORDINGS])})


async def _shutdown(app: web.Application) -> None:
    """Close every file properly: a recorder stopped mid-write leaves an unplayable file."""
    await app[ECHO].close()
    running = list(app[RECORDINGS].values())
    for recording, _ in running:
        recording.stop()
    if running:
        await asyncio.wait([task for _, task in running], timeout=STOP_WAIT)


def build_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[require_secret], client_max_size=256 * 1024)
    app[SETTINGS] = settings
    app[ECHO] = EchoSessions(settings.ice_servers, settings.max_echo_sessions)
    app[RECORDINGS] = {}
    app.router.add_post("/echo", echo)
    app.router.add_post("/recordings", start_recording)
    app.router.add_delete("/recordings/{recording_id}", stop_recording)
    app.router.add_get("/health", health)
    app.on_shutdown.append(_shutdown)
    return app
