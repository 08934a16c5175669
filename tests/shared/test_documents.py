"""PDF documents: layout, text, page numbers, determinism and QR codes.

Text is read back with poppler's `pdftotext` when it is installed; the tests that need it skip,
saying so, where it is not (`apt-get install poppler-utils`).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from shared import documents
from shared.documents import QR_CAPTION, build_pdf, document_fonts, qr_flowable, qr_png

VERIFY_URL = "https://hayu.bandungkab.go.id/verifikasi/" + "eyJkb2MiOiJpemluIn0." + "x" * 86

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed"
)


def _document(**changes: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "title": "SURAT IZIN USAHA",
        "subtitle": "Nomor: 503/12/DPMPTSP/2026",
        "rows": [("Nama Pemilik", "Budi & <Putra> Ëndah"), ("KBLI", "47111")],
        "paragraphs": ["Izin ini berlaku selama pelaku usaha menjalankan kegiatannya."],
        "qr_data": VERIFY_URL,
        "footer": "Dokumen ini ditandatangani secara elektronik.",
        "letterhead": ["PEMERINTAH KABUPATEN BANDUNG", "DINAS PENANAMAN MODAL DAN PTSP"],
    }
    arguments.update(changes)
    return arguments


def _pdf_text(pdf: bytes, tmp_path: Path) -> list[str]:
    """The text of each page."""
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    pages = result.stdout.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


class TestBuildPdf:
    def test_output_is_a_complete_pdf(self) -> None:
        pdf = build_pdf(**_document())
        assert pdf.startswith(b"%PDF-")
        assert pdf.rstrip().endswith(b"%%EOF")

    def test_same_input_gives_the_same_bytes(self) -> None:
        assert build_pdf(**_document()) == build_pdf(**_document())

    def test_reprint_carries_no_build_time(self) -> None:
        # Two builds within one second match anyway; reportlab's invariant mode pins the dates.
        assert b"/CreationDate (D:20000101000000" in build_pdf(**_document())

    def test_different_input_gives_different_bytes(self) -> None:
        assert build_pdf(**_document()) != build_pdf(**_document(title="SURAT IZIN LAIN"))
        assert build_pdf(**_document()) != build_pdf(**_document(qr_data=VERIFY_URL + "y"))

    def test_minimal_arguments_are_enough(self) -> None:
        pdf = build_pdf(
            title="Laporan", subtitle=None, rows=[], paragraphs=[], qr_data=None, footer=""
        )
        assert pdf.startswith(b"%PDF-")

    @pytest.mark.parametrize("table", [[], [[]], [["No", "Uraian"], ["1"]]])
    def test_ragged_or_empty_table_is_refused(self, table: list[list[str]]) -> None:
        with pytest.raises(ValueError, match="table"):
            build_pdf(**_document(table=table))

    def test_document_metadata_names_the_title(self) -> None:
        pdf = build_pdf(**_document())
        assert b"SURAT IZIN USAHA" in pdf
        assert b"layanan-daerah" in pdf

    @needs_poppler
    def test_text_is_laid_out_with_markup_characters_intact(self, tmp_path: Path) -> None:
        (page,) = _pdf_text(build_pdf(**_document()), tmp_path)
        for expected in [
            "PEMERINTAH KABUPATEN BANDUNG",
            "SURAT IZIN USAHA",
            "Nomor: 503/12/DPMPTSP/2026",
            "Budi & <Putra> Ëndah",
            "Izin ini berlaku",
            "Dokumen ini ditandatangani secara elektronik.",
            "Halaman 1 dari 1",
        ]:
            assert expected in page
        assert " ".join(QR_CAPTION.split()[:3]) in " ".join(page.split())
        # The letterhead comes before the title, the title before the key/value rows.
        assert page.index("KABUPATEN") < page.index("SURAT IZIN") < page.index("Nama Pemilik")

    @needs_poppler
    def test_long_table_repeats_its_header_and_numbers_every_page(self, tmp_path: Path) -> None:
        table = [["No", "Uraian Kegiatan", "Nilai (Rp)"]] + [
            [str(i), f"Kegiatan nomor {i}", f"{i * 1000:,}".replace(",", ".")]
            for i in range(1, 121)
        ]
        pages = _pdf_text(build_pdf(**_document(table=table)), tmp_path)
        assert len(pages) >= 3
        for number, page in enumerate(pages, start=1):
            assert f"Halaman {number} dari {len(pages)}" in page
            assert "Uraian Kegiatan" in page
        text = "".join(pages)
        assert "Kegiatan nomor 1 " in text
        assert "Kegiatan nomor 120" in text
        # The QR caption closes the document, after the table.
        assert "Pindai" in pages[-1]
        assert "Pindai" not in "".join(pages[:-1])

    def test_without_dejavu_the_document_falls_back_to_helvetica(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(documents, "document_fonts", lambda: documents._FALLBACK_FONTS)
        pdf = build_pdf(**_document())
        assert b"/Helvetica" in pdf
        assert b"DejaVu" not in pdf

    def test_dejavu_is_embedded_when_installed(self) -> None:
        if document_fonts().regular != "DejaVuSans":
            pytest.skip("DejaVu Sans is not installed (apt-get install fonts-dejavu-core)")
        assert b"DejaVuSans" in build_pdf(**_document())


class TestFontDiscovery:
    def test_missing_font_and_missing_fc_match_do_not_fail(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.setattr(documents, "_DEJAVU_DIRS", (str(tmp_path),))
        monkeypatch.setenv("PATH", str(tmp_path))
        assert documents._find_dejavu() is None

    def test_fc_match_answer_for_another_font_is_ignored(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        fake = tmp_path / "fc-match"
        fake.write_text("#!/bin/sh\nprintf /usr/share/fonts/LiberationSans-Regular.ttf\n")
        fake.chmod(0o755)
        monkeypatch.setattr(documents, "_DEJAVU_DIRS", (str(tmp_path),))
        monkeypatch.setenv("PATH", str(tmp_path))
        assert documents._find_dejavu() is None


class TestQr:
    def test_png_is_a_square_png_image(self) -> None:
        png = qr_png(VERIFY_URL)
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        width, height = struct.unpack(">II", png[16:24])
        assert width == height > 0

    def test_png_depends_on_the_data(self) -> None:
        assert qr_png("a") != qr_png("b")
        assert qr_png("a") == qr_png("a")

    def test_flowable_has_the_requested_size(self) -> None:
        flowable = qr_flowable("data", 25)
        assert flowable.wrap(500, 500) == (25 * mm, 25 * mm)

    @pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm is not installed")
    def test_drawn_modules_match_the_qr_matrix(self, tmp_path: Path) -> None:
        image_module = pytest.importorskip("PIL.Image")
        data = "https://sabilulungan.example.go.id/v/ABC123"
        size = 40 * mm
        pdf_path = tmp_path / "qr.pdf"
        canvas = Canvas(str(pdf_path), pagesize=(size, size))
        flowable = qr_flowable(data, 40)
        flowable.wrap(size, size)
        flowable.drawOn(canvas, 0, 0)
        canvas.save()
        subprocess.run(
            ["pdftoppm", "-r", "300", "-png", "-singlefile", str(pdf_path), str(tmp_path / "qr")],
            check=True,
        )
        image = image_module.open(tmp_path / "qr.png").convert("L")
        matrix = documents._qr_matrix(data)
        count = len(matrix)
        width, height = image.size
        mismatches = sum(
            (
                image.getpixel((int((c + 0.5) * width / count), int((r + 0.5) * height / count)))
                < 128
            )
            != matrix[r][c]
            for r in range(count)
            for c in range(count)
        )
        assert mismatches == 0
