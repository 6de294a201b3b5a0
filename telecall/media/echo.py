"""The pre-call device check: an aiortc peer that sends the caller's own camera and
microphone back (through MediaRelay), so the page can show what the others will see and
hear. A session ends when the caller goes, its connection fails, or after two minutes."""

import asyncio
import logging

from aiortc import sdp
from aiortc.contrib.media import MediaRelay

from telecall.media import peers

log = logging.getLogger(__name__)

ECHO_SECONDS = 120


class EchoFull(RuntimeError):
    """As many echo sessions as the process takes are running."""


def _check_offer(offer: dict) -> None:
    if peers.description(offer).type != "offer":
        raise ValueError("the echo takes an offer")
    try:
        media = sdp.SessionDescription.parse(offer["sdp"]).media
    except Exception:  # noqa: BLE001 (any parse failure is the caller's bad SDP)
        raise ValueError("the offer is not SDP") from None
    if not any(m.kind in ("audio", "video") for m in media):
        raise ValueError("the offer has neither audio nor video")


class EchoSessions:
    def __init__(self, ice_servers: list[dict], limit: int, seconds: float = ECHO_SECONDS):
        self.ice_servers = ice_servers
        self.limit = limit
        self.seconds = seconds
        self.sessions: set = set()
        self.relay = MediaRelay()

    def __len__(self) -> int:
        return len(self.sessions)

    async def answer(self, offer: dict) -> dict:
        """Answer the caller's offer; the session then runs on its own until it ends."""
        if len(self.sessions) >= self.limit:
            raise EchoFull
        _check_offer(offer)  # a bad offer fails before any peer exists
        pc = peers.new_peer(self.ice_servers)
        self.sessions.add(pc)
        done = asyncio.Event()

        @pc.on("track")
        def _track(track):
            pc.addTrack(self.relay.subscribe(track))
            track.on("ended", done.set)  # the caller hung up (RTCP BYE)

        @pc.on("connectionstatechange")
        def _state():
            if pc.connectionState in ("failed", "closed"):
                done.set()

        try:
            answer = await peers.make_answer(pc, offer)
        except Exception as exc:  # aiortc refuses bad SDP with assorted errors
            await self._end(pc)
            raise ValueError(f"the offer was refused ({type(exc).__name__})") from exc
        asyncio.ensure_future(self._run(pc, done))
        return answer

    async def _run(self, pc, done: asyncio.Event) -> None:
        try:
            await asyncio.wait_for(done.wait(), self.seconds)
        except TimeoutError:
            log.info("echo session ended after %s s", self.seconds)
        finally:
            await self._end(pc)

    async def _end(self, pc) -> None:
        self.sessions.discard(pc)
        await pc.close()

    async def close(self) -> None:
        await asyncio.gather(*(self._end(pc) for pc in list(self.sessions)))
