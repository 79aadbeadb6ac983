"""Printable posters as PDF, drawn with ReportLab: one per talk, and one page listing a term's talks.

Text is set in DejaVu Sans, embedded (subset) in each PDF so that every name
prints as typed, accents included; the font files come with matplotlib,
which the site already installs for its charts, so no system font is needed.
Chinese, Japanese and Korean, which DejaVu Sans lacks, are set in Adobe's
standard CJK fonts that every PDF reader supplies (ReportLab's CID fonts:
named in the PDF, not embedded), so "李飞飞" prints as typed, not as boxes.
The QR code (segno) is drawn as vector squares: sharp at any printer's resolution.
"""

import datetime
import io
import unicodedata
from functools import cache
from itertools import groupby
from pathlib import Path
from xml.sax.saxutils import escape

import matplotlib
import segno
from django.conf import settings
from django.utils import dateformat
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from events import when

PAPERS = {"letter": LETTER, "a4": A4}
ACCENT = colors.HexColor("#bf5700")
INK = colors.HexColor("#1b1f24")
MUTED = colors.HexColor("#4a5360")
# The abstract's excerpt on a talk's poster, in characters (the full text is one scan away).
EXCERPT = 900
FONT, BOLD = "PosterSans", "PosterSans-Bold"
# The Han characters of a text are Japanese when it has kana, Korean when it has hangul, else Chinese.
# Sans (gothic) faces where ReportLab has one; its only Chinese faces are serif (song).
CJK_FONTS = {"ja": "HeiseiKakuGo-W5", "ko": "HYGothic-Medium", "zh": "STSong-Light"}
# Unicode names of the characters those fonts are for (ideographs, kana, hangul, CJK punctuation, full-width forms).
_CJK_NAMES = ("CJK ", "HIRAGANA", "KATAKANA", "HANGUL", "IDEOGRAPHIC", "BOPOMOFO", "FULLWIDTH", "HALFWIDTH")


@cache
def _register_fonts() -> None:
    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(FONT, str(fonts / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(fonts / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)
    for name in CJK_FONTS.values():
        pdfmetrics.registerFont(UnicodeCIDFont(name))
        # No bold face: bold text in these scripts prints in the regular one.
        pdfmetrics.registerFontFamily(name, normal=name, bold=name, italic=name, boldItalic=name)


@cache
def _dejavu_has() -> frozenset[int]:
    _register_fonts()
    return frozenset(pdfmetrics.getFont(FONT).face.charToGlyph)


def _is_cjk(character: str) -> bool:
    return ord(character) not in _dejavu_has() and unicodedata.name(character, "").startswith(_CJK_NAMES)


def _kana_or_hangul_font(text: str) -> str | None:
    """The Japanese font if `text` has kana, the Korean one if it has hangul; None for neither."""
    scripts = {unicodedata.name(character, "").split(" ", 1)[0] for character in text if not character.isascii()}
    if scripts & {"HIRAGANA", "KATAKANA"}:
        return CJK_FONTS["ja"]
    if "HANGUL" in scripts:
        return CJK_FONTS["ko"]
    return None


def _text(value: str) -> str:
    """Plain text as Paragraph markup: escaped, line breaks kept, runs of CJK set in a font that has them."""
    value = value or ""
    runs = [("".join(run), cjk) for cjk, run in groupby(value, key=_is_cjk)] if not value.isascii() else []
    if not any(cjk for _run, cjk in runs):
        return escape(value).replace("\n", "<br/>")
    # A run's own kana or hangul decide its font; Han characters alone follow the rest of the text, else Chinese.
    text_font = _kana_or_hangul_font(value) or CJK_FONTS["zh"]
    return "".join(
        f'<font name="{_kana_or_hangul_font(run) or text_font}">{escape(run)}</font>'
        if cjk
        else escape(run).replace("\n", "<br/>")
        for run, cjk in runs
    )


def _style(size, *, bold=False, color=INK, leading=1.2, **options) -> ParagraphStyle:
    return ParagraphStyle(
        "poster", fontName=BOLD if bold else FONT, fontSize=size, leading=size * leading, textColor=color, **options
    )


def _draw_paragraph(pdf, text, style, x, top, width) -> float:
    """Draw `text` with its top at `top`; return the y below it."""
    paragraph = Paragraph(text, style)
    _width, height = paragraph.wrap(width, 10_000)
    paragraph.drawOn(pdf, x, top - height)
    return top - height


def _fitting(text, width, max_height, *, largest, smallest, bold=True) -> tuple[Paragraph, float]:
    """The largest size from `largest` down to `smallest` at which `text` fits the box."""
    size = largest
    while True:
        paragraph = Paragraph(text, _style(size, bold=bold, leading=1.12))
        _width, height = paragraph.wrap(width, 10_000)
        if height <= max_height or size <= smallest:
            return paragraph, height
        size -= 2


def draw_qr(pdf, data: str, x, y, size) -> None:
    """A QR code of `data`, its quiet zone included, as a `size`-point square with its lower left at (x, y)."""
    code = segno.make(data, error="m", micro=False)
    matrix = list(code.matrix_iter(scale=1, border=4))
    module = size / len(matrix)
    pdf.setFillColor(colors.white)
    pdf.rect(x, y, size, size, stroke=0, fill=1)
    pdf.setFillColor(colors.black)
    for row, line in enumerate(matrix):
        for column, dark in enumerate(line):
            if dark:
                # A hair of overlap, so that no viewer draws seams between modules.
                pdf.rect(
                    x + column * module, y + size - (row + 1) * module, module + 0.05, module + 0.05, stroke=0, fill=1
                )


def talk_url(event) -> str:
    return settings.SITE_URL + event.get_absolute_url()


def _speaker_lines(speaker, *, details=True) -> str:
    details = details and ", ".join(part for part in (speaker.position, speaker.affiliation) if part)
    line = f"<b>{_text(speaker.name)}</b>"
    return line + (f"<br/><font size='-4' color='#4a5360'>{_text(details)}</font>" if details else "")


def _photo(speaker):
    if not speaker.photo_id:
        return None
    return ImageReader(io.BytesIO(bytes(speaker.photo.data)))


# How the speakers are laid out, from the largest: (photo side, name size, columns, photos and details). A poster
# takes the first whose speakers leave room for the time and place above the QR code (a panel of five needs the
# smaller ones); the last, names alone, when none does.
SPEAKER_LAYOUTS = [
    (1.3 * inch, 20, 1, True),
    (1.3 * inch, 20, 2, True),
    (1.0 * inch, 16, 2, True),
    (0.75 * inch, 13, 2, True),
    (0.6 * inch, 11, 3, True),
    (0, 11, 3, False),
]
SPEAKER_GAP = 0.2 * inch


def _speaker_cells(speakers, photos, width, photo_size, size, details) -> list[tuple]:
    """(photo, paragraph, text offset, height) of each speaker in a column `width` wide."""
    cells = []
    for speaker, photo in zip(speakers, photos, strict=True):
        photo = photo if details else None
        offset = photo_size + 0.25 * inch if photo else 0
        paragraph = Paragraph(_speaker_lines(speaker, details=details), _style(size))
        _width, height = paragraph.wrap(width - offset, 10_000)
        cells.append((photo, paragraph, offset, max(height, photo_size if photo else 0)))
    return cells


def _draw_speakers(pdf, speakers, x, top, width, room) -> float:
    """Draw `speakers` from `top` in the first layout whose height fits `room` (else the last); return the y below
    them."""
    photos = [_photo(speaker) for speaker in speakers]
    for photo_size, size, columns, details in SPEAKER_LAYOUTS:
        column_width = (width - (columns - 1) * SPEAKER_GAP) / columns
        cells = _speaker_cells(speakers, photos, column_width, photo_size, size, details)
        lines = [cells[index : index + columns] for index in range(0, len(cells), columns)]
        heights = [max(cell[3] for cell in line) for line in lines]
        if sum(heights) + SPEAKER_GAP * len(lines) <= room:
            break
    for line, height in zip(lines, heights, strict=True):
        for column, (photo, paragraph, offset, _height) in enumerate(line):
            left = x + column * (column_width + SPEAKER_GAP)
            paragraph.drawOn(pdf, left + offset, top - paragraph.height)
            if photo:
                pdf.drawImage(
                    photo, left, top - photo_size, photo_size, photo_size, preserveAspectRatio=True, anchor="n"
                )
        top -= height + SPEAKER_GAP
    return top


def _place(event) -> str:
    if not event.has_in_person:
        return _("Online")
    place = str(event.venue)
    return _("%(room)s, and online") % {"room": place} if event.has_online else place


def talk_poster(event, *, paper: str = "letter") -> bytes:
    """The poster of one talk: series, title, speakers with photos, time with its zone, room, abstract, QR code.

    Raises KeyError for a paper size other than "letter" or "a4".
    """
    _register_fonts()
    width, height = PAPERS[paper]
    margin = 0.6 * inch
    inner = width - 2 * margin
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=(width, height), pageCompression=1)
    pdf.setTitle(f"{event.series.name}: {event.title}")
    pdf.setAuthor(event.series.name)
    pdf.setCreator(settings.SITE_NAME)

    band = 1.15 * inch
    pdf.setFillColor(ACCENT)
    pdf.rect(0, height - band, width, band, stroke=0, fill=1)
    _draw_paragraph(
        pdf, _text(event.series.name), _style(24, bold=True, color=colors.white), margin, height - 0.42 * inch, inner
    )
    if event.status != event.Status.PUBLISHED:
        label = _("CANCELLED") if event.is_cancelled else _("DRAFT: not published yet")
        _draw_paragraph(
            pdf, _text(label), _style(14, bold=True, color=colors.white), margin, height - 0.85 * inch, inner
        )

    top = height - band - 0.45 * inch
    title, title_height = _fitting(_text(event.title), inner, 2.6 * inch, largest=40, smallest=20)
    title.drawOn(pdf, margin, top - title_height)
    top -= title_height + 0.3 * inch

    qr_size = 2.1 * inch
    footer = margin + qr_size
    # The time and place (with the gap above each) are never pushed into the footer by the speakers.
    details = [(_text(when.talk_when(event)), _style(17, bold=True), 0.1 * inch)]
    details.append((_text(_place(event)), _style(16, color=MUTED), 4))
    if event.has_in_person and event.venue.address:
        details.append((_text(event.venue.address), _style(12, color=MUTED), 2))
    details_height = sum(Paragraph(text, style).wrap(inner, 10_000)[1] + gap for text, style, gap in details)
    speakers = list(event.speakers.all())
    if speakers:
        top = _draw_speakers(pdf, speakers, margin, top, inner, top - details_height - (footer + 0.45 * inch))
    for text, style, gap in details:
        top = _draw_paragraph(pdf, text, style, margin, top - gap, inner)
    abstract = Truncator(" ".join(event.abstract.split())).chars(EXCERPT)
    if abstract:
        paragraph = Paragraph(_text(abstract), _style(12, leading=1.35))
        available = top - 0.3 * inch - (footer + 0.3 * inch)
        _width, needed = paragraph.wrap(inner, 10_000)
        if needed > available:
            # Fewer characters until it fits above the footer.
            for length in range(EXCERPT, 0, -100):
                paragraph = Paragraph(_text(Truncator(abstract).chars(length)), _style(12, leading=1.35))
                _width, needed = paragraph.wrap(inner, 10_000)
                if needed <= available:
                    break
        if needed <= available:
            paragraph.drawOn(pdf, margin, top - 0.3 * inch - needed)

    draw_qr(pdf, talk_url(event), width - margin - qr_size, margin, qr_size)
    pdf.setStrokeColor(ACCENT)
    pdf.setLineWidth(2)
    pdf.line(margin, footer + 0.15 * inch, width - margin, footer + 0.15 * inch)
    caption = (
        f"<b>{_text(_('Details and registration'))}</b><br/>"
        f"<font size='11' color='#4a5360'>{_text(talk_url(event))}</font><br/>"
        f"<font size='11' color='#4a5360'>{_text(_('Scan the code with a phone camera.'))}</font>"
    )
    _draw_paragraph(pdf, caption, _style(16, leading=1.4), margin, footer - 0.1 * inch, inner - qr_size - 0.3 * inch)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def term_poster(series, events, *, start: datetime.date, end: datetime.date, paper: str = "letter") -> bytes:
    """One page (more if it must) listing `events` of `series` from `start` to `end`, with a QR code of the series.

    Raises KeyError for a paper size other than "letter" or "a4".
    """
    _register_fonts()
    width, height = PAPERS[paper]
    margin = 0.6 * inch
    out = io.BytesIO()
    series_url = settings.SITE_URL + series.get_absolute_url()
    qr_size = 1.2 * inch

    def decorate(pdf, document):
        pdf.saveState()
        pdf.setFillColor(ACCENT)
        pdf.rect(0, height - 1.0 * inch, width, 1.0 * inch, stroke=0, fill=1)
        _draw_paragraph(
            pdf, _text(series.name), _style(24, bold=True, color=colors.white), margin, height - 0.35 * inch, width
        )
        draw_qr(pdf, series_url, width - margin - qr_size, margin, qr_size)
        caption = (
            f"<b>{_text(_('All talks and registration'))}</b><br/><font color='#4a5360'>{_text(series_url)}</font>"
        )
        _draw_paragraph(
            pdf, caption, _style(12, leading=1.4), margin, margin + qr_size * 0.7, width - 3 * margin - qr_size
        )
        pdf.restoreState()

    document = SimpleDocTemplate(
        out,
        pagesize=(width, height),
        leftMargin=margin,
        rightMargin=margin,
        topMargin=1.35 * inch,
        bottomMargin=margin + qr_size + 0.3 * inch,
        title=f"{series.name}: {_('talks')}",
        author=series.name,
        creator=settings.SITE_NAME,
    )
    # Tue 15 Dec; with the year when the dates run into another one (December to January).
    date_format = _("D j M") if start.year == end.year else pgettext("short date of a talk", "D j M Y")
    period = _("Talks from %(start)s to %(end)s") % {
        "start": dateformat.format(start, _("F j, Y")),
        "end": dateformat.format(end, _("F j, Y")),
    }
    heading = [Paragraph(_text(period), _style(18, bold=True)), Spacer(1, 0.2 * inch)]
    cell, cell_bold, small = _style(10.5), _style(10.5, bold=True), _style(9.5, color=MUTED)
    rows = [[Paragraph(f"<b>{_text(label)}</b>", cell) for label in (_("Date"), _("Time"), _("Talk"), _("Room"))]]
    for event in events:
        speakers = ", ".join(speaker.name for speaker in event.speakers.all())
        talk = f"<b>{_text(event.title)}</b>" + (
            f"<br/><font color='#4a5360'>{_text(speakers)}</font>" if speakers else ""
        )
        if event.is_cancelled:
            talk = f"<strike>{talk}</strike> ({_text(_('cancelled'))})"
        rows.append(
            [
                Paragraph(_text(dateformat.format(event.local_start, date_format)), cell_bold),
                Paragraph(_text(when.talk_when(event, style=when.TIME)), small),
                Paragraph(talk, cell),
                Paragraph(_text(event.short_place), small),
            ]
        )
    if len(rows) == 1:
        rows.append([Paragraph(_text(_("No talks in these dates yet.")), cell), "", "", ""])
    inner = width - 2 * margin
    table = Table(rows, colWidths=[0.95 * inch, 1.45 * inch, inner - 3.6 * inch, 1.2 * inch], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 1.5, ACCENT),
                ("LINEBELOW", (0, 1), (-1, -1), 0.4, colors.HexColor("#c8ccd2")),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    document.build([*heading, table], onFirstPage=decorate, onLaterPages=decorate)
    return out.getvalue()
