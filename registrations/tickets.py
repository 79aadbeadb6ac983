"""A registrant's ticket: the signed check-in address as a QR code.

The code holds only the check-in URL (`Registration.checkin_url`), whose token
can do one thing: let signed-in door staff check this person in. It is drawn
with segno as a PNG, the one image format Gmail and Outlook show inline (by
Content-ID; neither shows SVG or data: images).
"""

import io

import segno

from outbox.compose import InlineImage


def qr_png(url: str, *, scale: int = 6) -> bytes:
    """`url` as a QR code PNG, quiet zone included, error correction M (survives a creased printout)."""
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def checkin_qr_image(registration) -> InlineImage:
    """The ticket's QR code as an inline image of an email: `<img src="{{ image.src }}">`."""
    return InlineImage(qr_png(registration.checkin_url))
