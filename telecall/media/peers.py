"""Peer connections built one way everywhere: with the configured ICE servers only.

aiortc falls back to Google's public STUN server when given no configuration; nothing here
may reach the internet, so every peer connection goes through `new_peer`.
"""

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription

ICE_SERVER_KEYS = ("urls", "username", "credential")


def rtc_ice_servers(servers: list[dict]) -> list[RTCIceServer]:
    return [RTCIceServer(**{k: s[k] for k in ICE_SERVER_KEYS if k in s}) for s in servers]


def new_peer(ice_servers: list[dict]) -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(iceServers=rtc_ice_servers(ice_servers or [])))


def description(data: dict) -> RTCSessionDescription:
    """An offer or answer from JSON, checked: a complete SDP of a known type."""
    sdp, kind = data.get("sdp"), data.get("type")
    if not isinstance(sdp, str) or kind not in ("offer", "answer"):
        raise ValueError('a session description needs "sdp" and "type" (offer or answer)')
    return RTCSessionDescription(sdp=sdp, type=kind)


def as_json(pc: RTCPeerConnection) -> dict:
    """The local description; aiortc's setLocalDescription has gathered every candidate by
    the time it returns, so the SDP is complete (the call API carries no trickle)."""
    local = pc.localDescription
    return {"sdp": local.sdp, "type": local.type}


async def make_offer(pc: RTCPeerConnection) -> dict:
    await pc.setLocalDescription(await pc.createOffer())
    return as_json(pc)


async def make_answer(pc: RTCPeerConnection, offer: dict, tracks=()) -> dict:
    """Answer an offer, sending `tracks` on the offered transceivers (none: receive only)."""
    await pc.setRemoteDescription(description(offer))
    for track in tracks:
        pc.addTrack(track)
    await pc.setLocalDescription(await pc.createAnswer())
    return as_json(pc)
