"""An uploaded file checked to be a PDF we may publish: recognised by its content, never by its name.

A file is accepted when it is not empty, not larger than MATERIALS_MAX_BYTES,
starts as a PDF must (`%PDF-1.x` or `%PDF-2.x`), parses as one (pypdf reads
its cross-reference table and every object reachable from its trailer, in
compressed object streams too), is not encrypted, and holds nothing that
runs or carries another file: no JavaScript, no launch or submit actions, no
embedded or attached files, no XFA forms, no multimedia, no `javascript:`
links, and no HTML markup anywhere in its bytes (a PDF that is also a web page
would run as one if a browser ever sniffed it). Files are served as
downloads, sandboxed, in any case (views.py); this keeps what they hold as
harmless as that says.
"""

import hashlib
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MEDIA_TYPE = "application/pdf"
_HEADER = re.compile(rb"^%PDF-[12]\.\d")
# Markup that makes a browser treat bytes as a page, in any letter case. Only markers long enough
# that compressed data (random bytes) holds one by chance in well under one 50 MB file in 10,000.
_HTML = re.compile(rb"<(?:script|iframe|object|embed|!doctype)|<(?:html|body)[\s>]|javascript:", re.IGNORECASE)
_CHUNK = 1024 * 1024
# A PDF needs no more objects than this (a 300-page deck has a few thousand).
MAX_OBJECTS = 200_000

# Dictionary keys and action types that run code, start programs, send data or carry files.
_ACTIVE_KEYS = {
    "/JS": gettext_lazy("JavaScript"),
    "/JavaScript": gettext_lazy("JavaScript"),
    "/EmbeddedFiles": gettext_lazy("embedded files"),
    "/EF": gettext_lazy("embedded files"),
    "/XFA": gettext_lazy("an XFA form"),
    "/RichMedia": gettext_lazy("multimedia content"),
    "/RichMediaContent": gettext_lazy("multimedia content"),
}
_ACTIVE_ACTIONS = {
    "/JavaScript": gettext_lazy("JavaScript"),
    "/Launch": gettext_lazy("an action that starts a program"),
    "/SubmitForm": gettext_lazy("a form that sends data"),
    "/ImportData": gettext_lazy("a form that loads data"),
    "/GoToE": gettext_lazy("embedded files"),
    "/RichMediaExecute": gettext_lazy("multimedia content"),
    "/Rendition": gettext_lazy("multimedia content"),
}
_ACTIVE_TYPES = {
    "/EmbeddedFile": gettext_lazy("embedded files"),
    "/FileAttachment": gettext_lazy("embedded files"),
    "/RichMedia": gettext_lazy("multimedia content"),
    "/Screen": gettext_lazy("multimedia content"),
}
_UNSAFE_LINK = re.compile(r"^\s*(?:javascript|data|file|vbscript):", re.IGNORECASE)


@dataclass(frozen=True)
class CheckedPdf:
    size: int
    sha256: str
    pages: int


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def check_pdf(upload) -> CheckedPdf:
    """Check the uploaded file `upload` (a Django File: `.size`, `.chunks()`, `.seek()`); return its facts.

    Raises ValidationError with a message for the person who uploaded it:
    "empty", "too_big", "not_pdf", "damaged", "encrypted", "active_content" or "html".
    """
    size = upload.size or 0
    if size == 0:
        raise _refuse(_("This file is empty. Choose the PDF again."), "empty")
    max_bytes = settings.MATERIALS_MAX_BYTES
    if size > max_bytes:
        raise _refuse(
            _("This file is %(size)s; a file may be at most %(max)s.")
            % {"size": filesizeformat(size), "max": filesizeformat(max_bytes)},
            "too_big",
        )
    upload.seek(0)
    if not _HEADER.match(upload.read(16)):
        raise _refuse(_("This is not a PDF file. Upload slides or a paper as a PDF."), "not_pdf")
    digest = _scan_bytes(upload)
    pages = _check_structure(upload)
    upload.seek(0)
    return CheckedPdf(size=size, sha256=digest, pages=pages)


def _scan_bytes(upload) -> str:
    """The SHA-256 of the file; refuses HTML markup anywhere in it (chunks overlap, so nothing hides at a seam)."""
    upload.seek(0)
    digest = hashlib.sha256()
    tail = b""
    for chunk in upload.chunks(_CHUNK):
        digest.update(chunk)
        if _HTML.search(tail + chunk):
            raise _refuse(_("This PDF contains web page code (HTML or a script), which we do not publish."), "html")
        tail = chunk[-32:]
    return digest.hexdigest()


def _check_structure(upload) -> int:
    from pypdf import PdfReader

    damaged = _refuse(
        _("This PDF cannot be read: it may be damaged. Export it again and upload the new file."), "damaged"
    )
    upload.seek(0)
    try:
        reader = PdfReader(upload, strict=False)
        if reader.is_encrypted:
            # What an encrypted file holds cannot be checked (nor, often, printed or copied by readers).
            raise _refuse(
                _("This PDF is encrypted or protected by a password. Save it again without protection."),
                "encrypted",
            )
        found = _active_content(reader.trailer)
        pages = len(reader.pages)
    except ValidationError:
        raise
    except Exception:
        # pypdf raises many kinds of errors on a malformed file (and RecursionError on a crafted one).
        raise damaged from None
    if found:
        raise _refuse(
            _(
                "This PDF contains %(what)s, which we do not publish. "
                "Save it again without it, e.g. by printing it to a PDF."
            )
            % {"what": found},
            "active_content",
        )
    if pages == 0:
        raise damaged
    return pages


def _active_content(root) -> str:
    """What active content the object graph under `root` holds ("" for none), visiting each object once."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    seen: set[tuple[int, int]] = set()
    stack = [root]
    visited = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            reference = (item.idnum, item.generation)
            if reference in seen:
                continue
            seen.add(reference)
            item = item.get_object()
        visited += 1
        if visited > MAX_OBJECTS:
            raise ValueError("too many objects")
        if isinstance(item, DictionaryObject):
            for key in item:
                if key in _ACTIVE_KEYS:
                    return str(_ACTIVE_KEYS[key])
            for key in ("/Type", "/Subtype"):
                kind = item.get(key)
                if isinstance(kind, NameObject) and kind in _ACTIVE_TYPES:
                    return str(_ACTIVE_TYPES[kind])
            action = item.get("/S")
            if isinstance(action, NameObject) and action in _ACTIVE_ACTIONS:
                return str(_ACTIVE_ACTIONS[action])
            link = item.get("/URI")
            if link is not None and _UNSAFE_LINK.match(_text(link.get_object())):
                return str(gettext_lazy("a link that runs a script"))
            stack.extend(value for key, value in item.items() if key != "/Parent")
        elif isinstance(item, ArrayObject):
            stack.extend(item)
    return ""


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)
