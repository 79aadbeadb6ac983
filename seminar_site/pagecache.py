"""Public pages kept rendered in the shared cache, and never stale.

What a hit costs: one round trip to the shared cache (Redis with CACHE_URL,
else the database cache) for a few short tokens, no query of the page's own
and no template; each worker also keeps the pages it served last in its own
memory, so the page itself crosses the network only when it changed. What
keeps it exact:

- **Tags.** A page is stored with the current token of every tag it depends on
  (`content` for what editors change, `talk:<slug>` for one talk's seats),
  read in the same round trip as the page itself. `changed(*tags)` gives those
  tags new random tokens once the transaction commits, which makes every page
  stored under the old ones a miss, on every worker and host sharing the
  cache, before the writer's response goes out. A page records the tokens it
  read *before* it read the database, so a page rendered from data older than
  a commit is always stored under a token older than that commit's bump.
- **Time.** A page also says until when it is right (a talk starts, so
  registration closes; a talk ends, so it leaves the list), and is a miss from
  then on.
- **Per-request parts.** The CSRF token (and a CSP nonce, should a template use
  one) are rendered as random markers and filled in for each request, so every
  visitor gets their own token and cookie, exactly as without the cache. The
  token is Django's (a secret in the cookie, the token that secret under a
  random mask), drawn from the system's random source in two reads rather
  than Django's 64 (one per character): on a hit that was a tenth of the time.
- **Who.** Only anonymous GET/HEAD requests without a session or a pending
  message are served from the cache or stored: staff (who see drafts and the
  admin link) and anyone with a message to show get the page rendered for them.
- **Language.** The key includes the active language.

A lost invalidation (the cache unreachable during a write) is bounded by
PAGE_CACHE_TIMEOUT. PAGE_CACHE=off renders every request.
"""

import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.utils import timezone, translation
from prometheus_client import Counter

from . import outage

logger = logging.getLogger(__name__)

_LOOKUPS = Counter(
    "seminar_page_cache_requests_total",
    "Public pages asked of the page cache, by page (talk, events:upcoming...) and result (hit or miss).",
    ["page", "result"],
)

# Anything public pages show of talks, series, speakers, venues and questions.
CONTENT = "content"

# Stored pages change shape between releases: a release reads only its own
# (during a rolling deploy both run). Tokens keep their keys, so both see every bump.
PAGE_FORMAT = 2


def talk_tag(slug: str) -> str:
    """One talk's seats and registration state, as its page shows them."""
    return f"talk:{slug}"


def changed(*tags: str, using: str | None = None) -> None:
    """Pages depending on any of `tags` must be rendered afresh once the current transaction commits.

    Call it in the transaction that makes the change (outside one it acts at
    once); a rollback drops it. Never raises: a cache that cannot be reached
    is logged, and pages may then lag by at most PAGE_CACHE_TIMEOUT.
    """
    if tags:
        transaction.on_commit(lambda: bump(tags), using=using, robust=True)


def bump(tags: Iterable[str]) -> None:
    """Give `tags` new tokens now (what `changed` does on commit)."""
    keys = [tag_key(tag) for tag in tags]
    try:
        cache.set_many(dict.fromkeys(keys, secrets.token_hex(8)), timeout=None)
    except Exception:
        logger.exception("Could not invalidate cached pages for %s", ", ".join(tags))
        # A store that refuses writes (out of memory) may still delete: a
        # missing token is a miss too, and no page is stored without one.
        try:
            cache.delete_many(keys)
        except Exception:
            logger.exception("Could not drop the tokens of %s either", ", ".join(tags))


def tag_key(tag: str) -> str:
    """Where the token of `tag` is kept in the cache."""
    return f"pages:tag:{tag}"


def page_key(key: str, language: str | None = None) -> str:
    """Where the page named `key` is kept, in `language` (the active one by default)."""
    return f"pages:{PAGE_FORMAT}:{key}:{language or translation.get_language()}"


@dataclass(frozen=True)
class _Entry:
    tokens: tuple[str, ...]
    valid_until: float | None  # a POSIX timestamp
    csrf_marker: bytes
    nonce_marker: bytes
    content: bytes  # encoded once, when rendered
    headers: tuple[tuple[str, str], ...]


class _Recent:
    """The pages this process served last (at most `size`): a copy is used only when its tokens are current."""

    def __init__(self, size: int):
        self.size = size
        self.entries: OrderedDict[str, _Entry] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> "_Entry | None":
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: "_Entry") -> None:
        with self.lock:
            self.entries[key] = entry
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


_recent = _Recent(size=256)


def cacheable(request) -> bool:
    """Is this a request whose page is the same for everyone (but for the CSRF token)?"""
    if not settings.PAGE_CACHE or request.method not in ("GET", "HEAD"):
        return False
    cookies = request.COOKIES
    # A session means someone logged in (staff see drafts and the admin link);
    # a messages cookie means a message waits to be shown on this page.
    return settings.SESSION_COOKIE_NAME not in cookies and "messages" not in cookies


def serve(
    request,
    *,
    key: str,
    tags: Iterable[str],
    render: Callable[[], HttpResponse],
    valid_until: Callable[[HttpResponse], object] | None = None,
) -> HttpResponse:
    """The response `render()` would give, from the shared cache when it is current.

    `key` names the page apart from the language (e.g. "talk:<slug>"); `tags`
    are what it shows; `render()` returns the view's unrendered
    TemplateResponse (a 404 it raises is not cached); `valid_until(response)`
    is the datetime from which the page is wrong whatever happens in the
    database, or None.
    """
    if not cacheable(request):
        return render()
    tag_keys = [tag_key(tag) for tag in tags]
    entry_key = page_key(key)
    recent = _recent.get(entry_key)
    try:
        # The shared copy travels only when this process has none.
        found = cache.get_many(tag_keys if recent else [*tag_keys, entry_key])
        tokens = _tokens(tag_keys, found)
        if _current(recent, tokens):
            _LOOKUPS.labels(_page_name(key), "hit").inc()
            return _respond(request, recent)
        # Changed since this process served it: another may have stored the new one.
        shared = found.get(entry_key) if recent is None else cache.get(entry_key)
    except Exception as error:
        _LOOKUPS.labels(_page_name(key), "miss").inc()
        if not outage.database_unavailable(error):  # the page's own queries will meet it too: logged there
            logger.exception("The page cache could not be read; rendering %s", key)
        return render()
    if _current(shared, tokens):
        _LOOKUPS.labels(_page_name(key), "hit").inc()
        _recent.put(entry_key, shared)
        return _respond(request, shared)
    _LOOKUPS.labels(_page_name(key), "miss").inc()
    return _render_and_store(request, entry_key, tokens, render, valid_until)


def _page_name(key: str) -> str:
    """The metrics' name of a page: its key without the last part ("talk:<slug>" → "talk")."""
    return key.rsplit(":", 1)[0]


def _current(entry, tokens: tuple[str, ...]) -> bool:
    return (
        isinstance(entry, _Entry)
        and entry.tokens == tokens
        and (entry.valid_until is None or timezone.now().timestamp() < entry.valid_until)
    )


def _tokens(tag_keys: list[str], found: dict) -> tuple[str, ...]:
    missing = [tag_key for tag_key in tag_keys if tag_key not in found]
    if missing:
        # First use, or evicted: whichever process adds a token first, all agree on it.
        for tag_key in missing:
            cache.add(tag_key, secrets.token_hex(8), timeout=None)
        found = found | cache.get_many(missing)
    return tuple(found.get(tag_key, "") for tag_key in tag_keys)


def _render_and_store(request, entry_key, tokens, render, valid_until) -> HttpResponse:
    csrf_marker, nonce_marker = f"csrf-{secrets.token_hex(16)}", f"nonce-{secrets.token_hex(16)}"
    response = render()
    if response.status_code != 200 or not hasattr(response, "render"):
        return response
    response.context_data = {**(response.context_data or {}), "csrf_token": csrf_marker, "csp_nonce": nonce_marker}
    response.render()
    until = valid_until(response) if valid_until else None
    entry = _Entry(
        tokens=tokens,
        valid_until=until.timestamp() if until else None,
        csrf_marker=csrf_marker.encode(),
        nonce_marker=nonce_marker.encode(),
        content=response.content,
        headers=tuple(response.headers.items()),
    )
    timeout = settings.PAGE_CACHE_TIMEOUT
    if until is not None:
        timeout = max(1, min(timeout, int(until.timestamp() - timezone.now().timestamp()) + 1))
    if all(tokens):
        _recent.put(entry_key, entry)
        try:
            cache.set(entry_key, entry, timeout=timeout)
        except Exception:
            logger.exception("The page cache could not store %s", entry_key)
    response.content = _personal(request, entry)
    return response


def _respond(request, entry: _Entry) -> HttpResponse:
    response = HttpResponse(_personal(request, entry))
    for name, value in entry.headers:
        response.headers[name] = value
    return response


def _personal(request, entry: _Entry) -> bytes:
    """The stored page with this request's own CSRF token (which also sets its cookie) and CSP nonce."""
    content = entry.content
    if entry.csrf_marker in content:
        content = content.replace(entry.csrf_marker, csrf_token(request).encode())
    if entry.nonce_marker in content:
        content = content.replace(entry.nonce_marker, str(getattr(request, "_csp_nonce", "")).encode())
    return content


# The largest multiple of the alphabet's size in a byte: bytes from it up are
# dropped, so that every character is equally likely.
_UNBIASED = 256 - 256 % len(CSRF_ALLOWED_CHARS)


def _random_indexes(count: int) -> list[int]:
    """`count` uniformly random positions in CSRF_ALLOWED_CHARS, from the system's random source."""
    indexes = []
    while len(indexes) < count:
        indexes += [byte % len(CSRF_ALLOWED_CHARS) for byte in secrets.token_bytes(count + 8) if byte < _UNBIASED]
    return indexes[:count]


def csrf_token(request) -> str:
    """What django.middleware.csrf.get_token returns, and with the same effect on the response.

    The visitor's secret is the one CsrfViewMiddleware read from their cookie,
    or a new one that it then sets as their cookie; the token is that secret
    under a new random mask, as Django's check unmasks it.
    """
    alphabet = CSRF_ALLOWED_CHARS
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        secret = "".join(alphabet[index] for index in _random_indexes(CSRF_SECRET_LENGTH))
        request.META["CSRF_COOKIE"] = secret
    # Sends the cookie (again, renewing its expiry), as get_token does.
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask = _random_indexes(CSRF_SECRET_LENGTH)
    cipher = (
        alphabet[(alphabet.index(char) + shift) % len(alphabet)] for char, shift in zip(secret, mask, strict=True)
    )
    return "".join(alphabet[shift] for shift in mask) + "".join(cipher)
