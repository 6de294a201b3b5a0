"""The CJK font that PDF reports and chart images draw Chinese with (reportlab, TrueType).

Reportlab embeds TrueType outlines only, so the font is WenQuanYi Micro Hei (Debian's
fonts-wqy-microhei, which `make install` puts on a machine that lacks it) or another
TrueType/TTC file named by REPORT_FONT_PATH; Noto CJK's OpenType (CFF) files do not work.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import current_app

FONT_NAME = "KangyangCJK"
CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)


class FontMissing(RuntimeError):
    pass


def font_path() -> Path:
    configured = current_app.config.get("REPORT_FONT_PATH") or os.environ.get("REPORT_FONT_PATH")
    paths = [configured] if configured else list(CANDIDATES)
    for path in paths:
        if path and Path(path).is_file():
            return Path(path)
    raise FontMissing(
        "no CJK TrueType font for reports: install fonts-wqy-microhei "
        "or set REPORT_FONT_PATH to a .ttf/.ttc file"
    )


def register() -> str:
    """Register the font with reportlab once per process; returns its name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        path = font_path()
        index = {"subfontIndex": 0} if path.suffix.lower() == ".ttc" else {}
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), **index))
    return FONT_NAME
