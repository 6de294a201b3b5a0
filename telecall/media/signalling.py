"""The call API seen from the media process: join, the event stream (SSE), signals, leave.

Every request carries the participant's join token (`X-Join-Token`). The event stream ends
now and then (the web closes it after ~10 minutes, networks drop it); `CallApi.events`
reconnects with the last id it saw, so no message is lost or seen twice.
"""

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp

log = logging.getLogger(__name__)

RECONNECT_DELAYS = (0.5, 1, 2, 5)  # seconds after a failure; the last repeats
CLEAN_END_DELAY = 0.1
# The web sends a keep-alive comment every 15 s: silence for longer means the stream is dead.
STREAM_READ_TIMEOUT = 45
# The status codes that mean "this token will not work again": stop, do not retry.
REFUSED = (401, 403, 404, 410)


@dataclass
class SseEvent:
    id: str | None
    event: str
    data: str


@dataclass
class SseParser:
    """Server-Sent Events, line by line (WHATWG HTML 9.2.6): `feed` takes one line without
    its line ending and returns an event when a blank line completes one."""

    last_id: str | None = None
    _data: list = field(default_factory=list)
    _event: str = ""

    def feed(self, line: str) -> SseEvent | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment: the keep-alive
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self.last_id = value
        return None  # "retry" and unknown fields are ignored

    def _dispatch(self) -> SseEvent | None:
        data, event = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return None
        return SseEvent(self.last_id, event or "message", "\n".join(data))


class CallRefused(RuntimeError):
    """The web refused the join token (expired, revoked, the visit is over)."""

    def __init__(self, status: int, text: str):
        super().__init__(f"the call API answered {status}: {text[:200]}")
        self.status = status


class CallApi:
    """One participant's view of the call API."""

    def __init__(self, base_url: str, token: str, session: aiohttp.ClientSession | None = None):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._session = session
        self._own_session = session is None
        self.cursor: int | str | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            # SDPs travel in one SSE data line: allow lines far longer than aiohttp's default
            self._session = aiohttp.ClientSession(read_bufsize=2**20)
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def headers(self) -> dict:
        return {"X-Join-Token": self.token}

    async def _post(self, path: str, body: dict | None = None) -> dict | None:
        async with self.session.post(
            self.base_url + path,
            json=body or {},
            headers=self.headers,
            timeout=aiohttp.ClientTimeout(total=30),
        ) as resp:
            if resp.status >= 400:
                raise CallRefused(resp.status, await resp.text())
            if resp.status == 204:
                return None
            return await resp.json()

    async def join(self, client: str = "python") -> dict:
        joined = await self._post("/api/v1/call/join", {"client": client})
        self.cursor = joined.get("after")
        return joined

    async def signal(self, to: int, kind: str, payload: dict) -> dict:
        return await self._post("/api/v1/call/signal", {"to": to, "kind": kind, "payload": payload})

    async def leave(self) -> None:
        await self._post("/api/v1/call/leave")

    async def quality(self, peer_id: int, **measures) -> None:
        await self._post("/api/v1/call/quality", {"peer_id": peer_id, **measures})

    async def recording_finished(self, size: int, sha256: str, seconds: float) -> None:
        body = {"bytes": size, "sha256": sha256, "seconds": round(seconds, 3)}
        await self._post("/api/v1/call/recording-finished", body)

    async def events(self) -> AsyncIterator[dict]:
        """Every message after the join, in order, for as long as the caller iterates;
        reconnects after the stream ends or breaks, from the last id seen."""
        failures = 0
        while True:
            try:
                async for message in self._one_stream():
                    failures = 0
                    yield message
                delay = CLEAN_END_DELAY  # the web closed it on purpose: come straight back
            except CallRefused as exc:
                if exc.status in REFUSED:
                    raise
                log.warning("call event stream: %s", exc)
                delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
                failures += 1
            except (TimeoutError, aiohttp.ClientError) as exc:
                log.info("call event stream broke (%s): reconnecting", type(exc).__name__)
                delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
                failures += 1
            await asyncio.sleep(delay)

    async def _one_stream(self) -> AsyncIterator[dict]:
        headers = dict(self.headers, Accept="text/event-stream")
        params = {}
        if self.cursor is not None:
            params["after"] = str(self.cursor)
            headers["Last-Event-ID"] = str(self.cursor)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=STREAM_READ_TIMEOUT)
        async with self.session.get(
            self.base_url + "/api/v1/call/events", params=params, headers=headers, timeout=timeout
        ) as resp:
            if resp.status >= 400:
                raise CallRefused(resp.status, await resp.text())
            parser = SseParser(last_id=None)
            async for raw in resp.content:
                event = parser.feed(raw.decode("utf-8").rstrip("\r\n"))
                if event is None:
                    continue
                try:
                    message = json.loads(event.data)
                except json.JSONDecodeError:
                    log.warning("call event stream: a message that is not JSON, skipped")
                    continue
                if event.id is not None:
                    self.cursor = event.id
                yield message
