"""The media server inside another process (the embedded default of `flask serve`): a daemon
thread with its own asyncio loop, so aiortc never runs inside a WSGI request thread.

    handle = start_in_thread("127.0.0.1", 8765, secret, ice_servers)
    ...
    handle.stop()
"""

import asyncio
import logging
import threading

from aiohttp import web

from telecall.media.server import build_app
from telecall.media.settings import Settings

log = logging.getLogger(__name__)

START_TIMEOUT = 15
STOP_TIMEOUT = 20


class MediaThread:
    """A running media server; `port` is the bound one (pass port 0 for any free port)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.port: int | None = None
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="telecall-media", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.port}"

    def start(self) -> "MediaThread":
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise RuntimeError("the media server did not start in time")
        if self.error is not None:
            raise RuntimeError(f"the media server did not start: {self.error}") from self.error
        return self

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start(), or logged if it came later
            self.error = exc
            if self._ready.is_set():
                log.exception("the media server stopped")
        finally:
            self._ready.set()
            loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        runner = web.AppRunner(build_app(self.settings), shutdown_timeout=15)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.settings.host, self.settings.port)
            await site.start()
            self.port = runner.addresses[0][1]
            self._ready.set()
            await self._stopping.wait()
        finally:
            await runner.cleanup()

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(STOP_TIMEOUT)


def start_in_thread(
    host: str, port: int, secret: str, ice_servers: list[dict] | None = None
) -> MediaThread:
    """Start the media server in a daemon thread; refuses (SettingsError) without a secret."""
    settings = Settings(secret=secret, host=host, port=port, ice_servers=list(ice_servers or []))
    return MediaThread(settings).start()
