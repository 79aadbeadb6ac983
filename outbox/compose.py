"""Building a message: addresses that mean what they say, and a MIME layout every client reads.

`compose()` is what each app's builder calls. A message with a calendar invite
is laid out the way calendar services send their own invites, because
Outlook looks for iMIP data only in the first child of multipart/mixed
(RFC 6047 §2.4 and Microsoft's notes on it):

    multipart/mixed
      multipart/alternative
        text/plain
        text/html                 (multipart/related [text/html, images] with inline images)
        text/calendar; charset=UTF-8; method=REQUEST|CANCEL   (no Content-Disposition)
      application/ics; name="invite.ics"   (the same bytes, for clients that only import files)

The calendar parts are base64-encoded, so their bytes, CRLF line endings
included (RFC 5545 §3.1), arrive exactly as built on every path: SMTP, the
raw MIME that Amazon SES sends, an .eml file. HTTP providers build the MIME
themselves from anymail's payload; those that cannot carry a non-HTML
alternative part get the invite as a `text/calendar; method=...` attachment
instead (see `fit_to_mailer` and the provider table in README.md).
"""

import base64
import email.policy
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address, AddressHeader, HeaderRegistry
from email.message import MIMEPart
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

CALENDAR_METHODS = ("REQUEST", "CANCEL", "PUBLISH", "REPLY")

# Anymail backends that pass a text/calendar alternative through to the
# recipient: Amazon SES sends our own MIME (raw), SendGrid accepts arbitrary
# alternative content types, the test backend records text/* alternatives.
# Every other anymail backend refuses such a part, so the invite becomes an
# attachment there. Non-anymail backends (SMTP, files) send our own MIME.
# Anymail backends that refuse inline (Content-ID) images. There a message goes
# out without them: what they show must also be written in the text (the check-in
# code's link is).
NO_INLINE_IMAGE_ANYMAIL_BACKENDS = {"anymail.backends.brevo"}

CALENDAR_ALTERNATIVE_ANYMAIL_BACKENDS = {
    "anymail.backends.amazon_ses",
    "anymail.backends.sendgrid",
    "anymail.backends.test",
}


def single_line(text: str) -> str:
    """Whitespace folded to single spaces: a header or parameter never breaks a line."""
    return " ".join((text or "").split())


def mailbox(name: str, address: str) -> str:
    """One address as a header value that parses back to exactly that address.

    The name is quoted (or encoded) as RFC 5322 requires, so commas,
    semicolons, quotes, brackets or an @ in it never turn into more
    addresses, line breaks are folded away, and a name that mimics an
    encoded word ("=?utf-8?q?...?=") cannot be decoded into another text. The domain may be
    internationalised (IDN); it is punycoded when the message is serialized.
    However long the name, OutboxMessage writes it as one phrase (fold_addresses).
    """
    username, at, domain = (address or "").strip().rpartition("@")
    if not at or not username or not domain:
        raise ValueError(f"Not an email address: {address!r}")
    # A name that looks like an RFC 2047 encoded word would be decoded by
    # mail clients into something else (another address, say): break it up.
    display_name = single_line(name).replace("=?", "= ?")
    return str(Address(display_name=display_name, username=username, domain=domain))


# A display name written as it is: words of RFC 5322 atext, one space apart.
_ATOMS = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(?: [A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*")
# RFC 2047: an encoded word is at most 75 characters; "=?utf-8?b??=" takes 12, and
# 45 bytes make 60 characters of base64.
_ENCODED_WORD_BYTES = 45


def _display_name_words(name: str, *, utf8: bool) -> list[str]:
    """`name` as one RFC 5322 phrase, cut where a line may fold without changing it.

    Atoms as they are; else one quoted-string, folded only at its own spaces
    (unfolding gives them back); else (non-ASCII without SMTPUTF8, control
    characters) RFC 2047 encoded words, each whole.
    """
    if _ATOMS.fullmatch(name) and "=?" not in name:
        return name.split(" ")
    if all(" " <= char <= "~" for char in name) or (utf8 and name.isprintable()):
        quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        # At a space followed by text: a folded line never holds only white space.
        return re.split(r" (?=[^ ])", quoted)
    words, chunk = [], ""
    for char in name:
        if len((chunk + char).encode()) > _ENCODED_WORD_BYTES:
            words.append(chunk)
            chunk = ""
        chunk += char
    words.append(chunk)
    # Spaces inside the encoded words: decoders drop the white space between two of them.
    return [f"=?utf-8?b?{base64.b64encode(word.encode()).decode()}?=" for word in words]


def fold_addresses(header, *, policy) -> str | None:
    """The address header `header` (its name and addresses) as lines no longer than `policy` allows, if possible.

    Python's own folder, where CPython's fix for gh-80222 is missing (3.13.0
    here), drops the quotes of a display name too long for one line, and it
    writes an encoded word it was given decoded: either turns one name into
    other addresses ('To: <img src="..."> <mallory@...>'). Here a display
    name stays one phrase (see _display_name_words) and lines fold only
    between its words. None for what this does not write (groups, a mailbox
    Python must encode first): Python's folder then does.
    """
    words = []
    for group in header.groups:
        if group.display_name is not None:
            return None
        for address in group.addresses:
            addr_spec = address.addr_spec
            if not (policy.utf8 or addr_spec.isascii()):
                return None
            if address.display_name:
                words += [*_display_name_words(address.display_name, utf8=policy.utf8), f"<{addr_spec}>"]
            else:
                words.append(addr_spec)
            words[-1] += ","
    if not words:
        return None
    words[-1] = words[-1].removesuffix(",")
    maxlen = policy.max_line_length or sys.maxsize
    lines = [f"{header.name}:"]
    for word in words:
        # Even before the first word (after "Reply-To:"): folding white space may stand there.
        if lines[-1] and len(lines[-1]) + 1 + len(word) > maxlen:
            lines.append("")
        lines[-1] += " " + word
    return policy.linesep.join(lines) + policy.linesep


class _FoldedAddresses:
    """An address header (From, To, Reply-To...) that fold_addresses writes."""

    def fold(self, *, policy):
        return fold_addresses(self, policy=policy) or super().fold(policy=policy)


_HEADERS = HeaderRegistry()
for _name, _header in list(_HEADERS.registry.items()):
    if issubclass(_header, AddressHeader):
        _HEADERS.map_to_type(_name, type(_header.__name__, (_FoldedAddresses, _header), {}))


def message_id(idstring: str) -> str:
    return make_msgid(idstring=idstring, domain=urlsplit(settings.SITE_URL).hostname or "localhost")


@dataclass(frozen=True)
class InlineImage:
    """An image shown inside the HTML body: `<img src="{{ image.src }}">`."""

    content: bytes
    subtype: str = "png"
    filename: str = ""
    cid: str = field(default_factory=lambda: make_msgid(idstring="img", domain="inline")[1:-1])

    @property
    def src(self) -> str:
        return f"cid:{self.cid}"

    @property
    def begin(self) -> str:
        """Marks where HTML about this image starts (`{{ image.begin }}`): dropped with the image."""
        return f"<!--inline {self.cid}-->"

    @property
    def end(self) -> str:
        return f"<!--/inline {self.cid}-->"

    def strip_from(self, html: str) -> str:
        """`html` without this image: the marked block around it if any, else each <img> showing it.

        For a provider that refuses inline images: a `cid:` reference left
        behind would show as a broken image.
        """
        html = re.sub(re.escape(self.begin) + ".*?" + re.escape(self.end), "", html, flags=re.DOTALL)
        return re.sub(r"<img\b[^>]*?cid:" + re.escape(self.cid) + r"[^>]*>", "", html, flags=re.IGNORECASE)

    def part(self) -> MIMEPart:
        part = MIMEPart(policy=email.policy.default)
        extra = {"filename": self.filename} if self.filename else {}
        part.set_content(
            self.content, maintype="image", subtype=self.subtype, disposition="inline", cid=f"<{self.cid}>", **extra
        )
        return part


@dataclass(frozen=True)
class CalendarInvite:
    """iCalendar bytes (CRLF line endings) and the iTIP method they carry."""

    ics: bytes
    method: str
    filename: str = "invite.ics"

    def __post_init__(self):
        if self.method not in CALENDAR_METHODS:
            raise ValueError(f"Unknown iTIP method {self.method!r}.")

    def alternative_part(self) -> MIMEPart:
        part = MIMEPart(policy=email.policy.default)
        part.set_content(
            self.ics,
            maintype="text",
            subtype="calendar",
            cte="base64",
            params={"charset": "UTF-8", "method": self.method},
        )
        return part

    def file_part(self) -> MIMEPart:
        part = MIMEPart(policy=email.policy.default)
        part.set_content(
            self.ics, maintype="application", subtype="ics", disposition="attachment", filename=self.filename
        )
        part.set_param("name", self.filename)
        return part

    def calendar_attachment_part(self) -> MIMEPart:
        """The invite as a `text/calendar; method=...` attachment, for providers without the alternative."""
        part = MIMEPart(policy=email.policy.default)
        part.set_content(
            self.ics,
            maintype="text",
            subtype="calendar",
            cte="base64",
            disposition="attachment",
            filename=self.filename,
        )
        # Lower case: anymail keeps a text part's full Content-Type (and so
        # `method`) only when it finds the charset in it as it spells it.
        part.set_param("charset", "utf-8")
        part.set_param("method", self.method)
        return part


class OutboxMessage(EmailMultiAlternatives):
    """A Django email that knows its HTML, inline images and calendar invite by name.

    `message()` (SMTP, raw-MIME providers, files) builds the layout described
    at the top of this module. For HTTP providers anymail reads `body`,
    `alternatives` and `attachments`, which hold the same parts.
    """

    def __init__(self, *, html: str = "", images: Sequence[InlineImage] = (), invite=None, **kwargs):
        super().__init__(**kwargs)
        self.html = html
        self.images = list(images)
        self.invite: CalendarInvite | None = invite
        self.invite_as_alternative = True
        self._extra_attachments = list(self.attachments)
        self._refresh_parts()

    def message(self, *, policy=email.policy.default):
        # Its address headers are written by fold_addresses, whatever the backend's policy.
        return super().message(policy=policy.clone(header_factory=_HEADERS))

    def _refresh_parts(self):
        self.alternatives = []
        if self.html:
            self.attach_alternative(self.html, "text/html")
        attachments = [image.part() for image in self.images]
        if self.invite is not None:
            if self.invite_as_alternative:
                # A str keeps its CRLF line endings through anymail's payload.
                self.attach_alternative(self.invite.ics.decode(), f"text/calendar; method={self.invite.method}")
                attachments.append(self.invite.file_part())
            else:
                attachments.append(self.invite.calendar_attachment_part())
        self.attachments = attachments + self._extra_attachments

    def fit_to_mailer(self, mailer) -> None:
        """Carry the invite as an attachment where `mailer` cannot send a calendar alternative part."""
        from anymail.backends.base import AnymailBaseBackend

        keeps = not isinstance(mailer, AnymailBaseBackend) or (
            type(mailer).__module__ in CALENDAR_ALTERNATIVE_ANYMAIL_BACKENDS
        )
        drops_images = bool(self.images) and type(mailer).__module__ in NO_INLINE_IMAGE_ANYMAIL_BACKENDS
        if drops_images:
            for image in self.images:
                self.html = image.strip_from(self.html)
            self.images = []
        if keeps != self.invite_as_alternative or drops_images:
            self.invite_as_alternative = keeps
            self._refresh_parts()

    def _add_bodies(self, msg):
        msg.set_content(self.body or "", subtype="plain", charset="utf-8")
        if self.html:
            msg.add_alternative(self.html, subtype="html", charset="utf-8")
            if self.images:
                html_part = msg.get_payload()[-1]
                for image in self.images:
                    extra = {"filename": image.filename} if image.filename else {}
                    html_part.add_related(
                        image.content, maintype="image", subtype=image.subtype, cid=f"<{image.cid}>", **extra
                    )
        if self.invite is not None:
            if msg.get_content_type() != "multipart/alternative":
                msg.make_alternative()
            msg.attach(self.invite.alternative_part())
        return msg

    def _add_attachments(self, msg):
        if self.invite is not None:
            # The message() layout always carries the calendar as an alternative.
            attachments = [self.invite.file_part(), *self._extra_attachments]
        else:
            attachments = list(self._extra_attachments)
        if attachments:
            msg.make_mixed()
            for attachment in attachments:
                if isinstance(attachment, MIMEPart):
                    msg.attach(attachment)
                else:
                    self._add_attachment(msg, *attachment)


def compose(
    *,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str = "",
    reply_to: Sequence[str] = (),
    from_email: str | None = None,
    headers: dict | None = None,
    images: Sequence[InlineImage] = (),
    invite: CalendarInvite | None = None,
    attachments: Sequence = (),
) -> OutboxMessage:
    """A message ready for the outbox. `to` and `reply_to` hold `mailbox()` values."""
    return OutboxMessage(
        subject=single_line(subject),
        body=text,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        to=list(to),
        reply_to=list(reply_to),
        headers={"Auto-Submitted": "auto-generated", **(headers or {})},
        html=html,
        images=images,
        invite=invite,
        attachments=list(attachments),
    )
