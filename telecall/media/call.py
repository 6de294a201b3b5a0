"""One participant in a visit's call: a peer connection to each other participant, set up
through the call API (complete SDP offers and answers, no trickle).

Who offers: the newcomer offers to everyone present at its join (the spec's rule). A
participant that must also reach later joiners (the recorder) offers to a joiner that has not
offered itself within a short grace. An incoming offer always wins: the link to that peer is
rebuilt and answered, which also serves as the answer side of an ICE restart. The side that
offered re-offers on a fresh connection when its link fails or stays disconnected 3 s
(aiortc cannot restart ICE on a live connection).
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from aiortc import RTCPeerConnection
from aiortc.mediastreams import MediaStreamTrack
from aiortc.sdp import candidate_from_sdp

from telecall.media import peers
from telecall.media.signalling import CallApi

log = logging.getLogger(__name__)

DISCONNECTED_GRACE = 3.0  # seconds a link may stay disconnected before a re-offer
JOINER_GRACE = 3.0  # seconds a joiner has to send its own offer before we offer to it


@dataclass
class Link:
    peer_id: int
    pc: RTCPeerConnection
    offered: bool  # we sent the offer, so we re-offer when it breaks
    tracks: list = field(default_factory=list)
    watchdog: asyncio.Task | None = None


class Call:
    """Join, connect to the peers, follow the event stream until stopped or ended.

    `local_tracks()` gives fresh tracks for each new link (None: receive only);
    `on_track(peer_id, track)` gets every remote track and must consume it;
    `on_event(message)` sees every message and `on_state(peer_id, state)` every change of a
    link's connection state (for logs and summaries).
    """

    def __init__(
        self,
        api: CallApi,
        on_track: Callable[[int, MediaStreamTrack], None],
        local_tracks: Callable[[], list[MediaStreamTrack]] | None = None,
        offer_to_joiners: bool = False,
        on_event: Callable[[dict], None] | None = None,
        client: str = "python",
        on_state: Callable[[int, str], None] | None = None,
    ):
        self.api = api
        self.on_track = on_track
        self.local_tracks = local_tracks
        self.offer_to_joiners = offer_to_joiners
        self.on_event = on_event or (lambda message: None)
        self.on_state = on_state or (lambda peer_id, state: None)
        self.client = client
        self.me: dict = {}
        self.ice_servers: list[dict] = []
        self.links: dict[int, Link] = {}
        self.ended = asyncio.Event()
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()

    # -- life cycle -------------------------------------------------------------------------

    async def join(self) -> dict:
        joined = await self.api.join(self.client)
        self.me = joined["participant"]
        self.ice_servers = joined.get("ice_servers") or []
        async with self._lock:
            for peer in joined.get("peers", []):
                try:
                    await self._offer(peer["id"])
                except Exception:  # the others still get theirs
                    log.exception("the offer to a peer failed")
        return joined

    async def follow(self) -> None:
        """Handle messages until the visit ends, a `bye` comes, or the caller cancels."""
        async for message in self.api.events():
            self.on_event(message)
            async with self._lock:
                try:
                    await self._handle(message)
                except Exception:  # one bad message or peer must not end the call
                    log.exception("call message %s could not be handled", message.get("kind"))
            if self.ended.is_set():
                return

    async def close(self, leave: bool = True) -> None:
        for task in list(self._tasks):
            task.cancel()
        async with self._lock:
            for peer_id in list(self.links):
                await self._drop(peer_id)
        if leave:
            with contextlib.suppress(Exception):
                await self.api.leave()

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- messages -----------------------------------------------------------------------------

    async def _handle(self, message: dict) -> None:
        kind, sender, payload = message.get("kind"), message.get("from"), message.get("payload")
        payload = payload or {}
        if kind == "offer" and sender is not None:
            await self._answer(sender, payload)
        elif kind == "answer" and sender in self.links:
            pc = self.links[sender].pc
            if pc.signalingState == "have-local-offer":
                await pc.setRemoteDescription(peers.description(payload))
        elif kind == "candidate" and sender in self.links:
            await self._candidate(self.links[sender].pc, payload)
        elif kind == "joined" and self.offer_to_joiners:
            peer_id = (payload.get("peer") or {}).get("id")
            if peer_id is not None and peer_id != self.me.get("id"):
                self._spawn(self._offer_unless_offered(peer_id))
        elif kind == "left":
            await self._drop(payload.get("peer_id"))
        elif kind in ("ended", "bye"):
            self.ended.set()

    async def _candidate(self, pc: RTCPeerConnection, payload: dict) -> None:
        """A trickled candidate (browsers may send them after a complete SDP)."""
        text = (payload.get("candidate") or "").removeprefix("candidate:")
        if not text:
            return
        try:
            candidate = candidate_from_sdp(text)
            candidate.sdpMid = payload.get("sdpMid")
            candidate.sdpMLineIndex = payload.get("sdpMLineIndex")
            await pc.addIceCandidate(candidate)
        except (ValueError, IndexError):
            log.info("a candidate that does not parse, ignored")

    # -- links --------------------------------------------------------------------------------

    def _new_link(self, peer_id: int, offered: bool) -> Link:
        pc = peers.new_peer(self.ice_servers)
        link = Link(peer_id, pc, offered, list(self.local_tracks() if self.local_tracks else []))
        self.links[peer_id] = link

        @pc.on("track")
        def _track(track):
            self.on_track(peer_id, track)

        @pc.on("connectionstatechange")
        async def _state():
            if self.links.get(peer_id) is link:
                self.on_state(peer_id, pc.connectionState)
                if link.offered:
                    self._watch(link)

        return link

    async def _offer(self, peer_id: int) -> None:
        await self._drop(peer_id)
        link = self._new_link(peer_id, offered=True)
        if link.tracks:
            for track in link.tracks:
                link.pc.addTrack(track)
        else:
            link.pc.addTransceiver("audio", direction="recvonly")
            link.pc.addTransceiver("video", direction="recvonly")
        await self.api.signal(peer_id, "offer", await peers.make_offer(link.pc))

    async def _answer(self, peer_id: int, offer: dict) -> None:
        await self._drop(peer_id)
        link = self._new_link(peer_id, offered=False)
        answer = await peers.make_answer(link.pc, offer, link.tracks)
        await self.api.signal(peer_id, "answer", answer)

    async def _offer_unless_offered(self, peer_id: int) -> None:
        await asyncio.sleep(JOINER_GRACE)
        async with self._lock:
            if peer_id not in self.links:
                await self._offer(peer_id)

    async def _drop(self, peer_id) -> None:
        link = self.links.pop(peer_id, None)
        if link is None:
            return
        if link.watchdog is not None:
            link.watchdog.cancel()
        await link.pc.close()
        for track in link.tracks:
            track.stop()

    # -- re-offer -----------------------------------------------------------------------------

    def _watch(self, link: Link) -> None:
        state = link.pc.connectionState
        if state in ("failed", "disconnected") and link.watchdog is None:
            delay = 0 if state == "failed" else DISCONNECTED_GRACE
            link.watchdog = asyncio.ensure_future(self._reoffer_after(link, delay))
        elif state == "connected" and link.watchdog is not None:
            link.watchdog.cancel()
            link.watchdog = None

    async def _reoffer_after(self, link: Link, delay: float) -> None:
        await asyncio.sleep(delay)
        async with self._lock:
            if self.links.get(link.peer_id) is link and link.pc.connectionState in (
                "failed",
                "disconnected",
            ):
                log.info("link to a peer %s: offering again", link.pc.connectionState)
                link.watchdog = None  # _drop must not cancel the task running this
                await self._offer(link.peer_id)
