import io
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

PDFTOPPM = shutil.which("pdftoppm")


def read_pdf(content: bytes) -> PdfReader:
    assert content.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(content))


def pdf_text(content: bytes) -> str:
    """All the text of the PDF as a reader extracts it, whitespace collapsed."""
    return " ".join(" ".join(page.extract_text() or "" for page in read_pdf(content).pages).split())


def drawn_in(content: bytes) -> list[tuple[str, str]]:
    """Each piece of text a reader extracts, with the font it is drawn in (its /BaseFont, subset tag removed)."""
    pieces = []

    def visit(text, cm, tm, font, size):
        if text.strip() and font is not None:
            pieces.append((text.strip(), str(font["/BaseFont"]).lstrip("/").split("+")[-1]))

    for page in read_pdf(content).pages:
        page.extract_text(visitor_text=visit)
    return pieces


def heights(content: bytes) -> list[tuple[str, float]]:
    """Each piece of text of the first page with the height of its baseline above the page's foot, in points."""
    pieces = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            pieces.append((text.strip(), tm[4] * cm[1] + tm[5] * cm[3] + cm[5]))

    read_pdf(content).pages[0].extract_text(visitor_text=visit)
    return pieces


def render(content: bytes, tmp_path: Path, *, dpi: int = 110) -> Image.Image:
    """The first page as poppler's pdftoppm renders it (poppler-utils; .ci/run installs it)."""
    if PDFTOPPM is None:
        pytest.fail("pdftoppm is missing (apt-get install poppler-utils)")
    source = tmp_path / "poster.pdf"
    source.write_bytes(content)
    subprocess.run(  # noqa: S603 - a fixed program with our own file names
        [PDFTOPPM, "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", str(source), str(tmp_path / "page")],
        check=True,
        timeout=60,
    )
    return Image.open(tmp_path / "page.png")
