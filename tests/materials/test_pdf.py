"""Uploads are PDFs recognised by their content, free of anything that runs or carries another file."""

import pytest
from django.core.exceptions import ValidationError

from materials.pdf import check_pdf
from tests import pdfs


def refusal(content: bytes, name: str = "slides.pdf") -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        check_pdf(pdfs.upload(content, name=name))
    return caught.value


def test_a_real_slide_deck_is_accepted_with_its_facts():
    content = pdfs.slides(pages=3)

    checked = check_pdf(pdfs.upload(content))

    assert checked.pages == 3
    assert checked.size == len(content)
    assert len(checked.sha256) == 64


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (pdfs.PNG, "slides.pdf"),
        (pdfs.HTML_PAGE, "slides.pdf"),
        (b"Just some notes.\n", "notes.pdf"),
        (b"MZ\x90\x00\x03\x00\x00\x00", "slides.pdf"),
    ],
)
def test_a_file_that_is_not_a_pdf_is_refused_whatever_its_name(content, name):
    error = refusal(content, name)
    assert error.code == "not_pdf"
    assert error.messages == ["This is not a PDF file. Upload slides or a paper as a PDF."]


def test_a_file_that_only_starts_like_a_pdf_is_refused_as_damaged():
    assert refusal(pdfs.damaged()).code == "damaged"


def test_an_empty_file_is_refused():
    error = refusal(b"")
    assert error.code == "empty"
    assert "empty" in error.messages[0]


def test_a_file_over_the_limit_is_refused_before_it_is_read(settings):
    settings.MATERIALS_MAX_BYTES = 1000
    content = pdfs.slides()

    error = refusal(content)

    assert error.code == "too_big"
    message = error.messages[0].replace("\xa0", " ")
    assert message == f"This file is {len(content) / 1024:.1f} KB; a file may be at most 1000 bytes."


@pytest.mark.parametrize(
    ("make", "code", "what"),
    [
        (pdfs.with_javascript, "active_content", "JavaScript"),
        (pdfs.with_disguised_javascript, "active_content", "JavaScript"),
        (pdfs.with_launch_action, "active_content", "an action that starts a program"),
        (pdfs.with_script_link, "active_content", "a link that runs a script"),
        (pdfs.with_attached_html, "html", "web page code"),
        (pdfs.with_html_after_the_end, "html", "web page code"),
    ],
)
def test_a_pdf_with_script_html_or_actions_inside_is_refused(make, code, what):
    error = refusal(make())
    assert error.code == code
    assert what in error.messages[0]


def test_a_pdf_carrying_another_file_is_refused_even_without_html():
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    writer.add_attachment("tool.exe", b"MZ\x90\x00 not html at all")
    content = pdfs._written(writer)

    error = refusal(content)

    assert error.code == "active_content"
    assert "embedded files" in error.messages[0]


def test_an_encrypted_pdf_is_refused_since_it_cannot_be_checked():
    assert refusal(pdfs.encrypted()).code == "encrypted"


def test_html_split_across_two_chunks_is_still_found(monkeypatch):
    from materials import pdf

    content = pdfs.slides()
    monkeypatch.setattr(pdf, "_CHUNK", 64)
    # The marker starts a few bytes before a chunk's end.
    cut = (len(content) // 64) * 64 - 3
    polyglot = content[:cut] + b"<script>alert(1)</script>" + content[cut:]

    assert refusal(polyglot).code == "html"
