"""`python -m telecall.media [--host H] [--port P]`: the media process on its own.

Settings come from the environment (MEDIA_HOST, MEDIA_PORT, MEDIA_SECRET, MEDIA_ICE_SERVERS);
the secret is never a command-line argument, where `ps` would show it.
"""

import argparse
import logging
import sys

from aiohttp import web

from telecall.media.server import build_app
from telecall.media.settings import Settings, SettingsError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m telecall.media", description=__doc__)
    parser.add_argument("--host", help="address to listen on (env MEDIA_HOST)")
    parser.add_argument("--port", type=int, help="port to listen on (env MEDIA_PORT)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("aioice").setLevel(logging.WARNING)
    try:
        settings = Settings.from_env(host=args.host, port=args.port)
    except SettingsError as exc:
        print(f"telecall.media: {exc}", file=sys.stderr)
        return 2
    web.run_app(
        build_app(settings),
        host=settings.host,
        port=settings.port,
        print=lambda _: logging.info("media listening on %s:%s", settings.host, settings.port),
        shutdown_timeout=15,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
