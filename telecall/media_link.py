"""The web's one way of asking the media process something: a JSON POST to MEDIA_URL with
the shared MEDIA_SECRET. Only http(s) addresses from the configuration are used."""

from __future__ import annotations

import json
import urllib.request


def post(config, path: str, body: dict, timeout: float) -> dict:
    url = config["MEDIA_URL"].rstrip("/") + path
    if not url.startswith(("http://", "https://")):
        raise ValueError("MEDIA_URL must be an http(s) address")
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url,
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "X-Media-Secret": config["MEDIA_SECRET"] or "",
        },
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        text = response.read()
    return json.loads(text) if text else {}
