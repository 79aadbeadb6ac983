"""What is each visitor's own on a page served from the cache: their CSRF token and cookie, their CSP nonce.

A stored page holds random markers where these go; every request fills in
its own. The token and the cookie are Django's (django.middleware.csrf): the
secret in the cookie, the token that secret under a new random mask. What
differs is the cost. Django draws one random character at a time and formats
the cookie through http.cookies on every response: together more than half of
what a cached page costs beyond a bare view. Here the random characters come
from two reads of the system's random source mapped through byte tables, and
the cookie's attributes (expiry, path, flags) are formatted by Django once a
second and reused, so the Set-Cookie line is the one CsrfViewMiddleware would
have written (tests/seminar_site/test_pagecache.py compares them).
"""

import operator
import secrets
import time
from http.cookies import Morsel

from django.conf import settings
from django.http import HttpResponse
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.utils.cache import patch_vary_headers

_ALPHABET = CSRF_ALLOWED_CHARS.encode()
_SIZE = len(_ALPHABET)
# Random bytes from the largest multiple of the alphabet's size up are dropped,
# so that every character is equally likely.
_BIASED = bytes(range(256 - 256 % _SIZE, 256))
# A random byte, or a position, to its position in the alphabet; a position to its character.
_POSITION = bytes(byte % _SIZE for byte in range(256))
_CHARACTER = bytes(_ALPHABET[byte % _SIZE] for byte in range(256))
# A character to its position; two positions added to the character of their sum.
_POSITION_OF = bytes.maketrans(_ALPHABET, bytes(range(_SIZE)))
_SUM = bytes(_ALPHABET[n % _SIZE] for n in range(2 * _SIZE))


def _random_positions(count: int) -> bytes:
    """`count` uniformly random positions in the alphabet, from the system's random source."""
    found = b""
    while len(found) < count:
        found += secrets.token_bytes(count + 8).translate(None, _BIASED)
    return found[:count].translate(_POSITION)


def csrf_token(request) -> str:
    """What django.middleware.csrf.get_token returns; `give_csrf_cookie` then sends the cookie.

    The visitor's secret is the one CsrfViewMiddleware read from their cookie,
    or a new one; the token is that secret under a new random mask, as Django's
    check unmasks it.
    """
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        secret = _random_positions(CSRF_SECRET_LENGTH).translate(_CHARACTER).decode()
        request.META["CSRF_COOKIE"] = secret
    mask = _random_positions(CSRF_SECRET_LENGTH)
    cipher = bytes(map(_SUM.__getitem__, map(operator.add, secret.encode().translate(_POSITION_OF), mask)))
    return (mask.translate(_CHARACTER) + cipher).decode()


class _Cookie(Morsel):
    """A cookie whose Set-Cookie line is already written."""

    def __init__(self, name: str, value: str, line: str):
        super().__init__()
        self.set(name, value, value)
        self._line = line

    def OutputString(self, attrs=None):
        return self._line


_attributes: tuple[tuple, str] = ((), "")


def _cookie_attributes() -> str:
    """What Django's set_cookie writes after "name=value" for the CSRF cookie, as of this second."""
    global _attributes
    options = {
        "max_age": settings.CSRF_COOKIE_AGE,
        "domain": settings.CSRF_COOKIE_DOMAIN,
        "path": settings.CSRF_COOKIE_PATH,
        "secure": settings.CSRF_COOKIE_SECURE,
        "httponly": settings.CSRF_COOKIE_HTTPONLY,
        "samesite": settings.CSRF_COOKIE_SAMESITE,
    }
    key = (int(time.time()), settings.CSRF_COOKIE_NAME, *options.values())
    written_for, text = _attributes
    if written_for != key:
        name = settings.CSRF_COOKIE_NAME
        probe = HttpResponse()
        probe.set_cookie(name, "-", **options)
        text = probe.cookies[name].OutputString().removeprefix(f"{name}=-")
        _attributes = (key, text)
    return text


def give_csrf_cookie(request, response) -> None:
    """Send the visitor's CSRF cookie (again, renewing its expiry) as get_token has CsrfViewMiddleware do."""
    if settings.CSRF_USE_SESSIONS:
        # The secret lives in the session: Django's own way.
        request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
        return
    name, secret = settings.CSRF_COOKIE_NAME, request.META["CSRF_COOKIE"]
    response.cookies[name] = _Cookie(name, secret, f"{name}={secret}{_cookie_attributes()}")
    if "Vary" in response.headers:
        patch_vary_headers(response, ("Cookie",))
    else:
        response.headers["Vary"] = "Cookie"
    # Done: CsrfViewMiddleware would write the same cookie again.
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = False


def csp_nonce(request) -> str:
    """The request's CSP nonce (ContentSecurityPolicyMiddleware then names it in the header)."""
    return str(getattr(request, "_csp_nonce", ""))
