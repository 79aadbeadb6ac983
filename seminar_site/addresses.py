"""Email addresses at international domains: one spelling stored, the one people type shown.

A browser sends an <input type="email"> with its domain in ASCII (IDNA), so
"zoe@例え.jp" arrives as "zoe@xn--r8jz45g.jp", the spelling every mail server
understands. The services store every address that way, whatever sent it
(the admin, a walk-in at the door, a script), so that one mailbox is one
address to the checks for a second sign-up or a second follow. Pages show
the domain as people type it: nobody recognises their own address in
"xn--r8jz45g.jp".
"""

from contextlib import suppress


def ascii_address(address: str) -> str:
    """`address` with its domain in ASCII (IDNA); the local part as it is.

    Unchanged when already ASCII, and when the domain cannot be encoded (a
    label too long, say): validating an address is the caller's job.
    """
    if address.isascii():
        return address
    local, at, domain = address.rpartition("@")
    with suppress(UnicodeError):
        return f"{local}{at}{domain.encode('idna').decode('ascii')}"
    return address


def readable_address(address: str) -> str:
    """`address` with an ASCII (IDNA) domain in the letters it stands for; unchanged if it is not one."""
    local, at, domain = address.rpartition("@")
    if not at or "xn--" not in domain.lower() or not domain.isascii():
        return address
    with suppress(UnicodeError):
        # In lower case: the ASCII spelling's capitals say nothing of how the letters are written.
        return f"{local}@{domain.encode('ascii').decode('idna').lower()}"
    return address
