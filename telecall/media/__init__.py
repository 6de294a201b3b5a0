"""The media process of video visits: asyncio + aiortc + aiohttp, on its own event loop.

It serves the pre-call device check (`/echo`), consented recording (`/recordings`) and the
Python call client. It imports nothing from Flask or `app/` and talks to the web only over
HTTP (the call API), so it runs as its own process (`python -m telecall.media`) or, on the
embedded default, in a daemon thread of the web process (`embedded.start_in_thread`).
Importing it starts no event loop.
"""
