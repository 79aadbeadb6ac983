"""Public pages kept rendered, and never stale.

What a hit costs: nothing but the visitor's own CSRF token. No query, no
template, and no round trip to the shared cache: each worker keeps the pages
it served last and the tokens they were stored under in its own memory, and
is told when a token changes (channels.py). What keeps it exact:

- **Tags.** A page is stored with the current token of every tag it depends on
  (`content` for what editors change, `talk:<slug>` for one talk's seats).
  `changed(*tags)` gives those tags new random tokens in the shared cache once
  the transaction commits, and tells every worker on every host to forget the
  old ones, before the writer's response goes out. A page records the tokens
  it had *before* it read the database, so a page rendered from data older than
  a commit is always stored under a token older than that commit's change.
- **The channel.** A worker answers from memory only while its channel (Redis
  pub/sub, PostgreSQL LISTEN/NOTIFY, or a stamp file on one host) has proven
  within the last PAGE_CACHE_LAG seconds that it delivers; otherwise it asks
  the shared cache, one round trip, as every request did before. So a change
  shows to everyone within PAGE_CACHE_LAG (0.25 s by default), channel cut or
  not; on one host (the stamp file) at once.
- **The writer.** Whoever made a change gets a short-lived cookie (the fence)
  with their response: until every worker must have heard of the change, their
  pages come with tokens read from the shared cache. Their next page shows it.
- **Time.** A page also says until when it is right (a talk starts, so
  registration closes; a talk ends, so it leaves the list), and is a miss from
  then on; and no copy, shared or in a worker's memory, outlives
  PAGE_CACHE_TIMEOUT, which bounds an invalidation lost while the cache was down.
- **Live parts.** What changes far more often than the rest of a page (a
  talk's seats, with every sign-up) can be kept out of the stored page: a
  template tag hands its HTML to `live_part`, which, while the page is being
  rendered to be stored, puts a marker in its place and keeps how to read it
  again. Such a page is stored under its other tags only, and its `live` tag
  (`serve(live=...)`) changes only the parts: when that tag's token moves, the
  worker reads the parts again (a small query or two, no page render) and keeps
  them until the next change. A part also says which page it fits (its
  shape: a full talk shows the waiting-list button): if its shape is no
  longer the page's, the page is rendered afresh.
- **Early.** A page this worker can answer from memory is answered by
  PageCacheMiddleware (middleware.py), found by the path and query `serve`
  last met it at, before the URL resolver and the view run (`serve_from_memory`).
- **Per-request parts.** The CSRF token (and a CSP nonce, should a template use
  one) are rendered as random markers and filled in for each request, so every
  visitor gets their own token and cookie, exactly as without the cache, only
  cheaper (visitor.py).
- **Who.** Only anonymous GET/HEAD requests without a session or a pending
  message are served from the cache or stored: staff (who see drafts and the
  admin link) and anyone with a message to show get the page rendered for them.
- **Language.** The key includes the active language.
- **Release.** And the release that rendered it (release.py): after a deploy,
  no page of the previous code, templates or static files is served.

PAGE_CACHE=off renders every request.
"""

import contextvars
import logging
import os
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache as memoized
from functools import cached_property, partial

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone, translation
from prometheus_client import Counter

from .. import outage
from . import channels, visitor
from .release import release
from .visitor import csrf_token

logger = logging.getLogger(__name__)

_LOOKUPS = Counter(
    "seminar_page_cache_requests_total",
    "Public pages asked of the page cache, by page (talk, events:upcoming...) and result: hit, refresh (only "
    "the live parts read again, e.g. a talk's seats after a sign-up) or miss.",
    ["page", "result"],
)

# Anything public pages show of talks, series, speakers, venues and questions.
CONTENT = "content"


# The writer's cookie: until when (POSIX time) their pages take tokens from the shared cache.
FENCE_COOKIE = "pages_changed"
# Added to PAGE_CACHE_LAG for the clocks of different hosts, which the fence's time crosses.
FENCE_MARGIN = 1.0


def talk_tag(slug: str) -> str:
    """One talk's seats and registration state, as its page shows them."""
    return f"talk:{slug}"


def changed(*tags: str, using: str | None = None) -> None:
    """Pages depending on any of `tags` must be rendered afresh once the current transaction commits.

    Call it in the transaction that makes the change (outside one it acts at
    once); a rollback drops it. Where the shared cache is this database (the
    database cache), the new tokens are written in that transaction, and on
    PostgreSQL its NOTIFY too: they commit with the change, in one commit, and
    only the stamp file (one host) is written after it. Otherwise (Redis) they
    are written once it commits, which never raises: a cache that cannot be
    reached is logged, and pages may then lag by at most PAGE_CACHE_TIMEOUT.
    On PostgreSQL a write that fails in the transaction fails the transaction,
    as any of its statements would.
    """
    if not tags:
        return
    channel = state().channel
    if transaction.get_connection(using).in_atomic_block:
        keys = [tag_key(tag) for tag in tags]
        try:
            written = channel.write_in_transaction(cache, dict.fromkeys(keys, secrets.token_hex(8)), using=using)
        except Exception:
            # Tried again once the transaction commits (where a failure is logged and the pages lag).
            logger.warning("Could not write the new tokens of %s in the transaction", ", ".join(tags), exc_info=True)
            written = False
        if written:
            transaction.on_commit(partial(_committed, channel, keys), using=using, robust=True)
            return
    transaction.on_commit(lambda: bump(tags), using=using, robust=True)


def _committed(channel, keys: list[str]) -> None:
    # The tokens are in the shared cache now: whoever must be told after the commit is told.
    _remember_made_here()
    channel.told(keys)


def _remember_made_here() -> None:
    made = _made_here.get()
    if made is not None:
        made.append(time.time())


def bump(tags: Iterable[str]) -> None:
    """Give `tags` new tokens now and tell every worker (what `changed` does on commit)."""
    tags = list(tags)
    keys = [tag_key(tag) for tag in tags]
    _remember_made_here()
    channel = state().channel
    try:
        channel.write(cache, dict.fromkeys(keys, secrets.token_hex(8)))
    except Exception:
        logger.exception("Could not invalidate cached pages for %s", ", ".join(tags))
        # A store that refuses writes (out of memory) may still delete: a
        # missing token is a miss too, and no page is stored without one.
        try:
            cache.delete_many(keys)
            channel.tell(cache, keys)
        except Exception:
            logger.exception("Could not drop the tokens of %s either", ", ".join(tags))


def tag_key(tag: str) -> str:
    """Where the token of `tag` is kept in the cache."""
    return f"pages:tag:{tag}"


def page_key(key: str, language: str | None = None) -> str:
    """Where the page named `key` is kept, in `language` (the active one by default)."""
    # A release reads only its own pages (release.py; during a rolling deploy both run). Tokens keep
    # their keys, so both see every change.
    return f"pages:{release()}:{key}:{language or translation.get_language()}"


@dataclass(frozen=True)
class _Part:
    """A live part of a stored page: where it goes, which page it fits, how to read it again, and as rendered."""

    marker: bytes
    shape: object
    read: Callable[[], tuple[object, str]]  # picklable: the entry may travel through the shared cache
    html: bytes


@dataclass(frozen=True)
class _Entry:
    tokens: tuple[str, ...]
    valid_until: float | None  # a POSIX timestamp
    csrf_marker: bytes
    nonce_marker: bytes
    content: bytes  # encoded once, when rendered
    headers: tuple[tuple[str, str], ...]
    live_token: str = ""  # the live tag's token when the parts were rendered ("" without a live tag)
    parts: tuple[_Part, ...] = ()

    def __getstate__(self):
        # The layout is each process's own: a copy in the shared cache carries the content once.
        state = self.__dict__.copy()
        state.pop("layout", None)
        return state

    @cached_property
    def layout(self) -> tuple[list[bytes], frozenset[bytes]]:
        """The content cut at its markers (every odd piece is one), and the markers it holds.

        Cut once per process, so a hit joins the pieces with what goes in between in one pass
        instead of searching the whole page for each marker.
        """
        markers = [part.marker for part in self.parts] + [self.csrf_marker, self.nonce_marker]
        pieces = re.split(b"(" + b"|".join(map(re.escape, markers)) + b")", self.content)
        return pieces, frozenset(pieces[1::2])


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

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


_recent = _Recent(size=256)
# The live parts read again since a page was stored: its key -> (live token, the entry, their HTML).
_recent_parts = _Recent(size=256)


@dataclass(frozen=True)
class _Route:
    """What `serve` was called with for one path and query: enough to find its page without the view."""

    key: str
    tag_keys: tuple[str, ...]
    live: bool
    match: object  # the ResolverMatch of the request that stored or found the page (the metrics' view name)


# The paths this process served a cached page for: "path?query" -> _Route (PageCacheMiddleware).
_routes = _Recent(size=1024)

# While a page is rendered to be stored: the live parts its template tags hand over.
_rendering: contextvars.ContextVar[list | None] = contextvars.ContextVar("pagecache_rendering", default=None)


def live_part(*, html: str, shape, read: Callable[[], tuple[object, str]]) -> str:
    """`html`, or in its place a marker while a page is being rendered to be stored (see "Live parts").

    `read()` gives (shape, html) as they are now, with a query or two and no
    page; `shape` is what the rest of the page assumes of it (it must compare
    equal to what `read()` returns for the page to be kept). `read` travels
    with the stored page: a module-level function, or a partial of one. A
    part is the same for every visitor: no CSRF token, no nonce.
    """
    parts = _rendering.get()
    if parts is None:
        return html
    marker = f"live-{secrets.token_hex(16)}"
    parts.append(_Part(marker=marker.encode(), shape=shape, read=read, html=html.encode()))
    return marker


class _State:
    """What one process knows: the tokens it was told of, and the channel that tells it."""

    def __init__(self):
        self.pid = os.getpid()
        self.memory = channels.Memory()
        try:
            self.channel = channels.choose(self.memory)
        except ValueError:
            # The system check says so too; meanwhile every page asks the shared cache.
            logger.exception("PAGE_CACHE_CHANNEL=%r is not a channel", channels.shown(settings.PAGE_CACHE_CHANNEL))
            self.channel = channels.Channel(self.memory)

    def tokens(self, keys) -> tuple[str, ...] | None:
        """The current tokens of `keys` from memory, or None when the shared cache must be asked."""
        if not self.channel.trusted():
            return None
        return self.memory.tokens(keys)


_state: _State | None = None
_state_lock = threading.Lock()


def state() -> _State:
    """This process's state, made on first use (and anew in a child after a fork: threads do not follow)."""
    global _state
    current = _state
    if current is None or current.pid != os.getpid():
        with _state_lock:
            current = _state
            if current is None or current.pid != os.getpid():
                current = _state = _State()
    return current


def reset() -> None:
    """Forget everything this process knows and stop listening (tests, and settings that change)."""
    global _state
    with _state_lock:
        if _state is not None and _state.pid == os.getpid():
            _state.channel.stop()
        _state = None
    _recent.clear()
    _recent_parts.clear()
    _routes.clear()


# Set by FenceMiddleware (middleware.py) for each request: the times of the changes it made.
_made_here: contextvars.ContextVar[list | None] = contextvars.ContextVar("pagecache_made_here", default=None)


def _fenced(request) -> bool:
    value = request.COOKIES.get(FENCE_COOKIE)
    if not value:
        return False
    try:
        return float(value) > time.time()
    except ValueError:
        return False


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
    live: str | None = None,
) -> HttpResponse:
    """The response `render()` would give, from this worker's memory or the shared cache when it is current.

    `key` names the page apart from the language (e.g. "talk:<slug>"); `tags`
    are what it shows; `render()` returns the view's unrendered
    TemplateResponse (a 404 it raises is not cached); `valid_until(response)`
    is the datetime from which the page is wrong whatever happens in the
    database, or None; `live` is the tag whose changes touch only the page's
    live parts (`live_part`), e.g. a talk's seats.
    """
    if not cacheable(request):
        return render()
    known = state()
    known.channel.start()
    tag_keys = tuple(tag_key(tag) for tag in (*tags, live) if tag)
    route = _Route(key=key, tag_keys=tag_keys, live=bool(live), match=request.resolver_match)
    entry_key = page_key(key)
    recent = _recent.get(entry_key)
    tokens = None if _fenced(request) else known.tokens(tag_keys)
    try:
        if tokens is not None:
            # Told of every change: no need to ask anyone.
            found = _fresh(entry_key, recent, tokens, route.live)
            if found is not None:
                return _hit(request, route, *found)
            shared = cache.get(entry_key)
        else:
            mark = known.memory.mark()
            # The shared copy travels only when this process has none.
            asked = cache.get_many(tag_keys if recent else [*tag_keys, entry_key])
            tokens = _tokens(tag_keys, asked)
            known.memory.learn(dict(zip(tag_keys, tokens, strict=True)), mark)
            found = _fresh(entry_key, recent, tokens, route.live)
            if found is not None:
                return _hit(request, route, *found)
            # Changed since this process served it: another may have stored the new one.
            shared = asked.get(entry_key) if recent is None else cache.get(entry_key)
        found = _fresh(entry_key, shared, tokens, route.live)
    except Exception as error:
        _lookups(_page_name(key), "miss").inc()
        if not outage.database_unavailable(error):  # the page's own queries will meet it too: logged there
            logger.exception("The page cache could not be read; rendering %s", key)
        return render()
    if found is not None:
        _recent.put(entry_key, shared)
        return _hit(request, route, *found)
    _lookups(_page_name(key), "miss").inc()
    response = _render_and_store(request, entry_key, tokens, render, valid_until, live=route.live)
    if _recent.get(entry_key) is not None:
        _routes.put(_route_key(request), route)
    return response


def serve_from_memory(request) -> HttpResponse | None:
    """The page `serve` would give from this worker's memory, found by the request's path alone; else None.

    For PageCacheMiddleware, before the rest of the middleware, the URL
    resolver and the view run: only a page `serve` stored or found for this
    path and query, only when the worker was told of every change (the same
    test as `serve`'s first step) and only for a visitor without a fence.
    Anything else (a miss, a page that changed, a query string never seen)
    is None, and the request goes on to its view, which asks `serve`.
    """
    if not cacheable(request) or _fenced(request):
        return None
    route = _routes.get(_route_key(request))
    if route is None:
        return None
    tokens = state().tokens(route.tag_keys)
    if tokens is None:
        return None
    entry_key = page_key(route.key)
    try:
        found = _fresh(entry_key, _recent.get(entry_key), tokens, route.live)
    except Exception:
        return None  # a live part could not be read: the view meets it again in `serve`, which logs it
    if found is None:
        return None
    entry, htmls, result = found
    # The view it stands for, as the metrics and the logs name it.
    request.resolver_match = route.match
    _lookups(_page_name(route.key), result).inc()
    return _respond(request, entry, htmls)


def _route_key(request) -> str:
    return f"{request.path_info}?{request.META.get('QUERY_STRING', '')}"


def _fresh(entry_key: str, entry, tokens: tuple[str, ...], live: bool):
    """(entry, its live parts' HTML, how) when `entry` is current for `tokens`, else None.

    The parts are read again when only the live tag's token moved ("refresh"),
    unless this process did so already for that token.
    """
    page_tokens, live_token = _split(tokens, live=live)
    if not _current(entry, page_tokens):
        return None
    if entry.live_token == live_token:
        return entry, [part.html for part in entry.parts], "hit"
    if not entry.parts:
        return None
    known = _recent_parts.get(entry_key)
    if known is not None and known[0] == live_token and known[1] is entry:
        return entry, known[2], "hit"
    htmls = []
    for part in entry.parts:
        shape, html = part.read()
        if shape != part.shape:
            return None  # the rest of the page no longer fits: render it all
        htmls.append(html.encode())
    # Read after the token was: at least as new as the change it names.
    _recent_parts.put(entry_key, (live_token, entry, htmls))
    return entry, htmls, "refresh"


def _split(tokens: tuple[str, ...], *, live: bool) -> tuple[tuple[str, ...], str]:
    """(the page's tokens, the live tag's token or ""): `serve` asks for the live tag's token last."""
    return (tokens[:-1], tokens[-1]) if live else (tokens, "")


def _hit(request, route: _Route, entry: _Entry, htmls: list[bytes], result: str) -> HttpResponse:
    # From now on this path's next request can be answered before its view (serve_from_memory).
    _routes.put(_route_key(request), route)
    _lookups(_page_name(route.key), result).inc()
    return _respond(request, entry, htmls)


@memoized
def _lookups(page: str, result: str):
    # One counter per page and result, found once: a few names (talk, events:upcoming...) times three results.
    return _LOOKUPS.labels(page, result)


def _page_name(key: str) -> str:
    """The metrics' name of a page: its key without the last part ("talk:<slug>" → "talk")."""
    return key.rsplit(":", 1)[0]


def _current(entry, tokens: tuple[str, ...]) -> bool:
    return (
        isinstance(entry, _Entry)
        and entry.tokens == tokens
        and (entry.valid_until is None or timezone.now().timestamp() < entry.valid_until)
    )


def _tokens(tag_keys: tuple[str, ...], found: dict) -> tuple[str, ...]:
    missing = [tag_key for tag_key in tag_keys if tag_key not in found]
    if missing:
        # First use, or evicted: whichever process adds a token first, all that ask agree on it.
        # (Workers that remember an evicted token keep it: they are told of every change all the same.)
        for tag_key in missing:
            cache.add(tag_key, secrets.token_hex(8), timeout=None)
        found = found | cache.get_many(missing)
    return tuple(found.get(tag_key, "") for tag_key in tag_keys)


def _render_and_store(request, entry_key, tokens, render, valid_until, *, live: bool) -> HttpResponse:
    csrf_marker, nonce_marker = f"csrf-{secrets.token_hex(16)}", f"nonce-{secrets.token_hex(16)}"
    response = render()
    if response.status_code != 200 or not hasattr(response, "render"):
        return response
    response.context_data = {**(response.context_data or {}), "csrf_token": csrf_marker, "csp_nonce": nonce_marker}
    parts = []
    rendering = _rendering.set(parts)
    try:
        response.render()
    finally:
        _rendering.reset(rendering)
    until = valid_until(response) if valid_until else None
    now = timezone.now().timestamp()
    timeout = settings.PAGE_CACHE_TIMEOUT
    if until is not None:
        timeout = max(1, min(timeout, int(until.timestamp() - now) + 1))
    # A copy in a worker's memory lives no longer than the shared one.
    expires = now + settings.PAGE_CACHE_TIMEOUT
    page_tokens, live_token = _split(tokens, live=live)
    entry = _Entry(
        tokens=page_tokens,
        valid_until=min(until.timestamp(), expires) if until else expires,
        csrf_marker=csrf_marker.encode(),
        nonce_marker=nonce_marker.encode(),
        content=response.content,
        headers=tuple(response.headers.items()),
        live_token=live_token,
        parts=tuple(parts),
    )
    if all(tokens):
        _recent.put(entry_key, entry)
        try:
            cache.set(entry_key, entry, timeout=timeout)
        except Exception:
            logger.exception("The page cache could not store %s", entry_key)
    response.content = _personal(request, entry, response, [part.html for part in parts])
    return response


def _respond(request, entry: _Entry, htmls: list[bytes]) -> HttpResponse:
    response = HttpResponse()
    for name, value in entry.headers:
        response.headers[name] = value
    response.content = _personal(request, entry, response, htmls)
    return response


def _personal(request, entry: _Entry, response, htmls: list[bytes]) -> bytes:
    """The stored page with its live parts, this request's own CSRF token (its cookie set on `response`) and nonce."""
    pieces, present = entry.layout
    values = dict(zip((part.marker for part in entry.parts), htmls, strict=True))
    if entry.csrf_marker in present:
        values[entry.csrf_marker] = csrf_token(request).encode()
        visitor.give_csrf_cookie(request, response)
    if entry.nonce_marker in present:
        values[entry.nonce_marker] = visitor.csp_nonce(request).encode()
    content = pieces.copy()
    content[1::2] = map(values.__getitem__, pieces[1::2])
    return b"".join(content)
