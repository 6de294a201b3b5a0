"""The reports as a PDF a health office files: A4 (reportlab platypus), the CJK font of
app.kpis.fonts, the centre's name and a title over a rule, the period and the generated time,
numbered sections of gridded tables, colours always shown with their word, the trend charts
(app.kpis.charts), and "page n of m" with a footer line on every page.

Called inside flask_babel.force_locale by services.generate: every text here is gettext'ed
in the report's language. Aggregate figures only; no resident appears in a report.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from xml.sax.saxutils import escape

from flask_babel import get_locale, gettext
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    HRFlowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from app.kpis import fonts, labels
from app.templating import localtime

MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN
RULE = colors.HexColor("#a61b1b")  # the red rule under an office document's heading
GRID = colors.HexColor("#7f7f7f")
HEAD = colors.HexColor("#e6eaf0")
TOTAL = colors.HexColor("#f2f2f2")
INK = colors.HexColor("#222222")
MUTED = colors.HexColor("#555555")
SWATCHES = {  # background, text
    "green": (colors.HexColor("#d4edda"), colors.HexColor("#155724")),
    "yellow": (colors.HexColor("#fff3cd"), colors.HexColor("#7a5b00")),
    "red": (colors.HexColor("#f8d7da"), colors.HexColor("#721c24")),
}
CHINESE_NUMERALS = "一二三四五六七八九十"


def chinese() -> bool:
    return get_locale().language == "zh"


# --- styles and building blocks ------------------------------------------------------------------


@dataclass
class Kit:
    """The font and paragraph styles of one document."""

    font: str
    styles: dict[str, ParagraphStyle]

    @classmethod
    def make(cls) -> Kit:
        font = fonts.register()

        def style(name, size, align=TA_LEFT, colour=INK, leading=None, **kw):
            return ParagraphStyle(
                name,
                fontName=font,
                fontSize=size,
                leading=leading or size * 1.35,
                alignment=align,
                textColor=colour,
                # Chinese breaks between any two characters; English only between words
                wordWrap="CJK" if chinese() else None,
                **kw,
            )

        styles = {
            "centre": style("centre", 13, TA_CENTER, leading=18),
            "title": style("title", 18, TA_CENTER, leading=26, spaceBefore=4),
            "meta": style("meta", 9.5, TA_CENTER, MUTED),
            "heading": style("heading", 12.5, leading=18, spaceBefore=10, spaceAfter=5),
            "body": style("body", 9.5),
            "note": style("note", 8, colour=MUTED, spaceBefore=3),
            "cell": style("cell", 8.5),
            "head": style("head", 8, TA_CENTER),
            "number": style("number", 8.5, TA_CENTER),
        }
        return cls(font, styles)

    def p(self, text: str, style: str = "cell", colour=None) -> Paragraph:
        if colour is not None:
            base = self.styles[style]
            return Paragraph(escape(text), ParagraphStyle(f"{base.name}-c", base, textColor=colour))
        return Paragraph(escape(text), self.styles[style])

    def heading(self, number: int, text: str) -> Paragraph:
        prefix = f"{CHINESE_NUMERALS[number - 1]}、" if chinese() else f"{number}. "
        return self.p(prefix + text, "heading")

    def grid(
        self,
        rows: list[list],
        widths: list[float],
        fills: list[tuple] = (),
        total_row: bool = False,
    ) -> Table:
        """A table with a shaded header row repeated on each page and a thin grid; `fills`
        are (column, row, colour) backgrounds; a last row of totals is shaded too."""
        table = Table(rows, colWidths=widths, repeatRows=1)
        commands = [
            ("GRID", (0, 0), (-1, -1), 0.4, GRID),
            ("BACKGROUND", (0, 0), (-1, 0), HEAD),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]
        if total_row:
            commands.append(("BACKGROUND", (0, -1), (-1, -1), TOTAL))
        commands += [("BACKGROUND", (col, row), (col, row), fill) for col, row, fill in fills]
        table.setStyle(TableStyle(commands))
        return table

    def colour_cell(self, item: dict, text: str | None = None):
        """A figure's colour as a cell: its word (达标 / 接近 / 未达标; alone, or why there
        is no colour) under `text`, on the colour's tint; the paragraph and the tint."""
        word = labels.colour_word(item)
        swatch = SWATCHES.get(item.get("colour"))
        if swatch is None:
            if text is not None:
                return Paragraph(escape(text), self.styles["number"]), None
            style = ParagraphStyle("no-colour", self.styles["number"], textColor=MUTED)
            return Paragraph(escape(word), style), None
        shown = escape(word) if text is None else f"{escape(text)}<br/>{escape(word)}"
        fill, ink = swatch
        return Paragraph(
            shown, ParagraphStyle("swatch", self.styles["number"], textColor=ink)
        ), fill


# --- pages: the masthead, the running head, page numbers -------------------------------------


def masthead(kit: Kit, meta: dict) -> list[Flowable]:
    period = meta["period"]
    return [
        kit.p(meta["header"], "centre"),
        kit.p(meta["title"], "title"),
        Spacer(1, 3),
        kit.p(
            gettext(
                "Period: %(start)s to %(end)s",
                start=period.start.isoformat(),
                end=period.end.isoformat(),
            ),
            "meta",
        ),
        kit.p(
            gettext("Generated: %(when)s (Shanghai time)", when=localtime(meta["generated_at"])),
            "meta",
        ),
        Spacer(1, 4),
        HRFlowable(width="100%", thickness=1.4, color=RULE, spaceBefore=2, spaceAfter=8),
    ]


def numbered_canvas(font: str, running_head: str, footer: str) -> type[Canvas]:
    """A canvas that holds its pages until the end, so each can say "page n of m"."""
    page_of = gettext("Page %(page)s of %(pages)s")

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):  # noqa: N802 (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for number, state in enumerate(self._pages, 1):
                self.__dict__.update(state)
                self._decorate(number, total)
                super().showPage()
            super().save()

        def _decorate(self, number: int, total: int) -> None:
            width, height = A4
            self.saveState()
            self.setFont(font, 7.5)
            self.setFillColor(MUTED)
            self.setStrokeColor(GRID)
            self.setLineWidth(0.5)
            if number > 1:
                self.drawString(MARGIN, height - 12 * mm, running_head)
                self.line(MARGIN, height - 13.5 * mm, width - MARGIN, height - 13.5 * mm)
            self.line(MARGIN, 14 * mm, width - MARGIN, 14 * mm)
            self.drawString(MARGIN, 10 * mm, footer)
            self.drawRightString(
                width - MARGIN, 10 * mm, page_of % {"page": number, "pages": total}
            )
            self.restoreState()

    return NumberedCanvas


def render(meta: dict, story: Callable[[Kit], list[Flowable]]) -> bytes:
    """The PDF of one report: `meta` has header, title, period and generated_at; `story`
    gives the sections."""
    kit = Kit.make()
    buffer = io.BytesIO()
    period = meta["period"]
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=18 * mm,
        bottomMargin=20 * mm,
        title=meta["title"],
        author=meta["header"],
        subject=f"{period.start.isoformat()} / {period.end.isoformat()}",
        creator="Kangyang",
    )
    running_head = f"{meta['header']} · {meta['title']}"
    footer = gettext("Kangyang platform · aggregate figures only, no personal data")
    doc.build(
        masthead(kit, meta) + story(kit),
        canvasmaker=numbered_canvas(kit.font, running_head, footer),
    )
    return buffer.getvalue()


def section(kit: Kit, number: int, title: str, *parts: Flowable, keep: bool = False) -> list:
    """A numbered heading with what follows it; never a heading alone at a page's foot."""
    heading = kit.heading(number, title)
    if keep:
        return [KeepTogether([heading, *parts])]
    return [CondPageBreak(40 * mm), heading, *parts]
