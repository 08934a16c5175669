"""PDF documents with reportlab: certificates, receipts and reports carrying a verification QR code.

`build_pdf` lays out an A4 document the way regency offices print them: an optional letterhead (kop
surat) with a double rule, a centred title, a key/value block ("Nama : ..."), an optional data table
whose header repeats on every page, body paragraphs, the QR code in the bottom-right corner of the
content with its caption, and a footer with "Halaman X dari Y" on every page.

Text is set in DejaVu Sans when the font is installed (it covers every Latin character an Indonesian
name may carry); otherwise Helvetica, so a bare server still produces documents. The canvas is built
with `invariant=1`, so the same input gives the same bytes: a reprint is identical to the original.

Building a PDF is CPU-bound and synchronous (tens of milliseconds a page): call it from async code
through `starlette.concurrency.run_in_threadpool` so it does not stall the event loop.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    HRFlowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

__all__ = [
    "QR_CAPTION",
    "DocumentFonts",
    "QrFlowable",
    "build_pdf",
    "document_fonts",
    "qr_flowable",
    "qr_png",
]

logger = logging.getLogger("shared.documents")

QR_CAPTION = "Pindai untuk memverifikasi keaslian dokumen"
QR_SIZE_MM = 32.0
PAGE_MARGIN = 20 * mm
FOOTER_FONT_SIZE = 7.5
# Room below the frame for up to three footer lines and the page number.
BOTTOM_MARGIN = 28 * mm

# Debian/Ubuntu, Fedora/RHEL/Alpine, Arch: where fonts-dejavu-core and its kin put the files.
_DEJAVU_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts",
)


@dataclass(frozen=True, slots=True)
class DocumentFonts:
    """Names of the registered regular and bold fonts."""

    regular: str
    bold: str


_FALLBACK_FONTS = DocumentFonts(regular="Helvetica", bold="Helvetica-Bold")


def _fc_match(pattern: str) -> str | None:
    try:
        result = subprocess.run(
            ["fc-match", "--format=%{file}", pattern],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    path = result.stdout.strip()
    # fc-match always answers with *some* font; only a DejaVu Sans file is what was asked for.
    if result.returncode == 0 and os.path.basename(path).startswith("DejaVuSans"):
        return path
    return None


def _find_dejavu() -> tuple[str, str | None] | None:
    for directory in _DEJAVU_DIRS:
        regular = os.path.join(directory, "DejaVuSans.ttf")
        if os.path.isfile(regular):
            bold = os.path.join(directory, "DejaVuSans-Bold.ttf")
            return regular, bold if os.path.isfile(bold) else None
    regular_match = _fc_match("DejaVu Sans:style=Book")
    if regular_match is None:
        return None
    bold_match = _fc_match("DejaVu Sans:style=Bold")
    return regular_match, bold_match if bold_match and "Bold" in bold_match else None


@functools.cache
def document_fonts() -> DocumentFonts:
    """Register DejaVu Sans with reportlab once per process; Helvetica if it is not installed."""
    found = _find_dejavu()
    if found is None:
        logger.info("DejaVu Sans not found; documents use Helvetica")
        return _FALLBACK_FONTS
    regular_path, bold_path = found
    try:
        pdfmetrics.registerFont(TTFont("DejaVuSans", regular_path))
        bold = "DejaVuSans"
        if bold_path is not None:
            pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", bold_path))
            bold = "DejaVuSans-Bold"
        pdfmetrics.registerFontFamily(
            "DejaVuSans", normal="DejaVuSans", bold=bold, italic="DejaVuSans", boldItalic=bold
        )
    except Exception:  # a damaged font file must not stop a certificate from being issued
        logger.warning("could not register DejaVu Sans from %s", regular_path, exc_info=True)
        return _FALLBACK_FONTS
    return DocumentFonts(regular="DejaVuSans", bold=bold)


# --------------------------------------------------------------------------------------------------
# QR codes
# --------------------------------------------------------------------------------------------------


def _qr_matrix(data: str) -> list[list[bool]]:
    # Level M survives a smudge or a fold while keeping a signed token (~200 characters) at a
    # module size a phone camera reads from paper.
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    code.add_data(data)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    return matrix


def qr_png(data: str, *, box_size: int = 10) -> bytes:
    """The QR code of `data` as a PNG image (for web pages and e-mail)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(data)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return buffer.getvalue()


class QrFlowable(Flowable):  # type: ignore[misc]  # reportlab ships no type hints
    """A QR code drawn as vector squares, sharp at any print size, its quiet zone included."""

    def __init__(self, data: str, size: float) -> None:
        super().__init__()
        self.data = data
        self.size = size
        self.width = size
        self.height = size
        self._matrix = _qr_matrix(data)

    def wrap(self, *_available: float) -> tuple[float, float]:
        # A QR code has one size: it neither stretches nor shrinks to the space offered.
        return self.size, self.size

    def draw(self) -> None:
        count = len(self._matrix)
        module = self.size / count
        path = self.canv.beginPath()
        for row_index, row in enumerate(self._matrix):
            y = self.size - (row_index + 1) * module
            column = 0
            while column < count:
                if not row[column]:
                    column += 1
                    continue
                start = column
                while column < count and row[column]:
                    column += 1
                path.rect(start * module, y, (column - start) * module, module)
        self.canv.setFillColor(colors.black)
        # One filled path rather than one rectangle per run: viewers then show no hairline seams
        # between neighbouring modules.
        self.canv.drawPath(path, stroke=0, fill=1)


def qr_flowable(data: str, size_mm: float = QR_SIZE_MM) -> QrFlowable:
    """A reportlab flowable showing the QR code of `data`, `size_mm` millimetres square."""
    return QrFlowable(data, size_mm * mm)


# --------------------------------------------------------------------------------------------------
# Page furniture
# --------------------------------------------------------------------------------------------------


def _numbered_canvas_factory(footer: str, fonts: DocumentFonts) -> Callable[..., Canvas]:
    """A canvas that knows the page count when it writes "Halaman X dari Y" on each page."""

    class _NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab ships no type hints
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._page_states: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            # Hold each finished page back until the total is known.
            self._page_states.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._page_states)
            for state in self._page_states:
                self.__dict__.update(state)
                self._draw_footer(total)
                super().showPage()
            super().save()

        def _draw_footer(self, total: int) -> None:
            width, _ = self._pagesize
            number = f"Halaman {self._pageNumber} dari {total}"
            self.saveState()
            self.setStrokeColor(colors.grey)
            self.setLineWidth(0.5)
            top = BOTTOM_MARGIN - 6 * mm
            self.line(PAGE_MARGIN, top, width - PAGE_MARGIN, top)
            self.setFillColor(colors.dimgrey)
            self.setFont(fonts.regular, FOOTER_FONT_SIZE)
            number_width = pdfmetrics.stringWidth(number, fonts.regular, FOOTER_FONT_SIZE)
            self.drawRightString(width - PAGE_MARGIN, top - 3.5 * mm, number)
            text_width = width - 2 * PAGE_MARGIN - number_width - 6 * mm
            lines = simpleSplit(footer, fonts.regular, FOOTER_FONT_SIZE, text_width)[:3]
            for index, line in enumerate(lines):
                self.drawString(PAGE_MARGIN, top - 3.5 * mm - index * 3.3 * mm, line)
            self.restoreState()

    def make(*args: Any, **kwargs: Any) -> Canvas:
        return _NumberedCanvas(*args, **kwargs)

    return make


@dataclass(frozen=True, slots=True)
class _Styles:
    letterhead_main: ParagraphStyle
    letterhead: ParagraphStyle
    title: ParagraphStyle
    subtitle: ParagraphStyle
    body: ParagraphStyle
    cell: ParagraphStyle
    header_cell: ParagraphStyle
    caption: ParagraphStyle


def _styles(fonts: DocumentFonts) -> _Styles:
    body = ParagraphStyle("body", fontName=fonts.regular, fontSize=10, leading=14)
    return _Styles(
        letterhead_main=ParagraphStyle(
            "letterhead-main", fontName=fonts.bold, fontSize=13, leading=16, alignment=TA_CENTER
        ),
        letterhead=ParagraphStyle(
            "letterhead", fontName=fonts.regular, fontSize=9, leading=12, alignment=TA_CENTER
        ),
        title=ParagraphStyle(
            "title",
            fontName=fonts.bold,
            fontSize=14,
            leading=18,
            alignment=TA_CENTER,
            spaceBefore=4 * mm,
        ),
        subtitle=ParagraphStyle(
            "subtitle", fontName=fonts.regular, fontSize=10.5, leading=14, alignment=TA_CENTER
        ),
        body=ParagraphStyle("paragraph", parent=body, alignment=TA_JUSTIFY, spaceAfter=2.5 * mm),
        cell=ParagraphStyle("cell", fontName=fonts.regular, fontSize=9, leading=11.5),
        header_cell=ParagraphStyle("header-cell", fontName=fonts.bold, fontSize=9, leading=11.5),
        caption=ParagraphStyle(
            "caption", fontName=fonts.regular, fontSize=7, leading=8.5, alignment=TA_CENTER
        ),
    )


def _text(value: str) -> str:
    """Paragraph markup for plain text: citizens' input may hold `&` or `<`, and line breaks."""
    return escape(value).replace("\n", "<br/>")


def _column_widths(table: list[list[str]], font: str, available: float) -> list[float]:
    # Paragraph cells need fixed widths, so share the width in proportion to each column's
    # widest text, within bounds that keep a "No" column narrow and a long column from
    # squeezing the others.
    count = len(table[0])
    natural = [
        max(pdfmetrics.stringWidth(str(row[i]), font, 9) for row in table) + 4 * mm
        for i in range(count)
    ]
    low, high = 12 * mm, max(12 * mm, available * 0.5)
    bounded = [min(max(w, low), high) for w in natural]
    scale = available / sum(bounded)
    return [w * scale for w in bounded]


# --------------------------------------------------------------------------------------------------
# Document
# --------------------------------------------------------------------------------------------------


def build_pdf(
    *,
    title: str,
    subtitle: str | None,
    rows: list[tuple[str, str]],
    paragraphs: list[str],
    qr_data: str | None,
    footer: str,
    table: list[list[str]] | None = None,
    letterhead: Sequence[str] = (),
    author: str | None = None,
) -> bytes:
    """An A4 PDF; equal arguments give identical bytes.

    `letterhead` is the kop surat: its first line is the authority in capitals ("PEMERINTAH
    KABUPATEN BANDUNG"), further lines the office and its address. `rows` are the key/value pairs
    ("Nomor Izin", "..."). `table`, if given, is a header row followed by data rows of the same
    length; its header repeats at the top of each page it spans. `qr_data` (normally the
    verification URL with a signed token) is printed in the bottom-right corner of the content,
    with the caption "Pindai untuk memverifikasi keaslian dokumen".
    """
    if table is not None:
        if not table:
            raise ValueError("table must have at least a header row")
        width = len(table[0])
        if width == 0 or any(len(row) != width for row in table):
            raise ValueError("every table row must have as many cells as the header")

    fonts = document_fonts()
    styles = _styles(fonts)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=PAGE_MARGIN,
        rightMargin=PAGE_MARGIN,
        topMargin=PAGE_MARGIN,
        bottomMargin=BOTTOM_MARGIN,
        title=title,
        subject=subtitle or "",
        author=author or (letterhead[0] if letterhead else ""),
        creator="layanan-daerah",
        lang="id-ID",
        invariant=1,
    )
    available = doc.width
    story: list[Flowable] = []

    if letterhead:
        story.append(Paragraph(_text(letterhead[0]), styles.letterhead_main))
        story.extend(Paragraph(_text(line), styles.letterhead) for line in letterhead[1:])
        # The double rule under a kop surat: thick, then thin.
        story.append(
            HRFlowable(width="100%", thickness=1.6, color=colors.black, spaceBefore=2 * mm)
        )
        story.append(HRFlowable(width="100%", thickness=0.5, color=colors.black, spaceBefore=0.6))

    story.append(Paragraph(_text(title), styles.title))
    if subtitle:
        story.append(Paragraph(_text(subtitle), styles.subtitle))
    story.append(Spacer(1, 6 * mm))

    if rows:
        key_width = min(55 * mm, available * 0.4)
        story.append(
            Table(
                [
                    [
                        Paragraph(_text(key), styles.cell),
                        Paragraph(":", styles.cell),
                        Paragraph(_text(value), styles.cell),
                    ]
                    for key, value in rows
                ],
                colWidths=[key_width, 4 * mm, available - key_width - 4 * mm],
                style=TableStyle(
                    [
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                        ("LEFTPADDING", (0, 0), (-1, -1), 0),
                        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                    ]
                ),
                hAlign="LEFT",
            )
        )
        story.append(Spacer(1, 5 * mm))

    if table is not None:
        header, *body_rows = table
        story.append(
            Table(
                [[Paragraph(_text(cell), styles.header_cell) for cell in header]]
                + [[Paragraph(_text(cell), styles.cell) for cell in row] for row in body_rows],
                colWidths=_column_widths(table, fonts.regular, available),
                repeatRows=1,
                style=TableStyle(
                    [
                        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ]
                ),
            )
        )
        story.append(Spacer(1, 5 * mm))

    story.extend(Paragraph(_text(text), styles.body) for text in paragraphs)

    if qr_data is not None:
        size = QR_SIZE_MM * mm
        corner = Table(
            [["", [qr_flowable(qr_data), Paragraph(QR_CAPTION, styles.caption)]]],
            colWidths=[available - size - 8 * mm, size + 8 * mm],
            style=TableStyle(
                [("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("ALIGN", (1, 0), (1, 0), "CENTER")]
            ),
        )
        story.append(KeepTogether([Spacer(1, 4 * mm), corner]))

    doc.build(story, canvasmaker=_numbered_canvas_factory(footer, fonts))
    return buffer.getvalue()
