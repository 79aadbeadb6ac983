"""How each worker learns that cached pages changed, so that a hit asks nobody.

A page is current when its tokens are (see the package's docstring). The
tokens live in the shared cache; asking it on every request is one round trip,
and that round trip was most of what a cached page cost. Instead each process
remembers the tokens it read (`Memory`) and is *told* when one changes:

- **Redis pub/sub** when the cache is Redis (`CACHE_URL`): a change writes its
  tokens and publishes their names in one MULTI/EXEC.
- **PostgreSQL LISTEN/NOTIFY** when the database is PostgreSQL and the cache is
  the database: the tokens and the NOTIFY commit together.
- **A stamp file** on one host (SQLite): a change writes 8 random bytes to a
  file every process of the host has mapped, before its writer's response
  goes out; a request compares them with the ones it last saw. No lag at all.

A notification only names what changed ("forget these tokens"): the next
request for such a page reads the shared cache once, whatever order
notifications arrive in. A listening process answers from its memory only
while it has proof the channel works: it pings the server every LAG/4 seconds,
and a pong says that everything published before the ping was sent has been
received (the server answers in order on one connection). So a process that
has heard a pong for a ping sent within the last LAG seconds cannot have
missed a change older than LAG; otherwise (channel slow, cut, or not yet
connected) it asks the shared cache, as it would without a channel. A change
therefore shows everywhere within PAGE_CACHE_LAG seconds, cut channel or not,
and at once to whoever made it (see `Fence` in the package).
"""

import hashlib
import json
import logging
import mmap
import os
import re
import secrets
import select
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, router, transaction

from seminar_site.logs import mask_url_query

logger = logging.getLogger("seminar_site.pagecache")


class Memory:
    """The tokens this process knows to be current, as its channel keeps them."""

    def __init__(self):
        self._lock = threading.Lock()
        self._tokens: dict[str, str] = {}
        # For each key, the number of the notification that last named it.
        self._changed_at: dict[str, int] = {}
        self._heard = 0
        # A new epoch each time what the process knew is thrown away.
        self._epoch = 0
        self._listening = False

    def tokens(self, keys) -> tuple[str, ...] | None:
        """The tokens of `keys`, or None when any of them is unknown."""
        known = self._tokens
        try:
            return tuple(known[key] for key in keys)
        except KeyError:
            return None

    def forget(self, keys) -> None:
        """A notification: these tokens changed in the shared cache."""
        with self._lock:
            self._heard += 1
            for key in keys:
                self._changed_at[key] = self._heard
                self._tokens.pop(key, None)

    def listen(self) -> None:
        """From now on every change will be told: start afresh (anything known before may be stale)."""
        self._restart(listening=True)

    def deafen(self) -> None:
        """Changes may go unheard from now on: know nothing until listening again."""
        self._restart(listening=False)

    def _restart(self, *, listening: bool) -> None:
        with self._lock:
            self._epoch += 1
            self._tokens.clear()
            self._changed_at.clear()
            self._listening = listening

    def mark(self):
        """Taken before reading tokens from the shared cache, and given to `learn` with what was read."""
        with self._lock:
            return (self._epoch, self._heard) if self._listening else None

    def learn(self, tokens: dict[str, str], mark) -> None:
        """Keep tokens read from the shared cache, unless a change to one was told while they were read."""
        if mark is None:
            return
        epoch, heard = mark
        with self._lock:
            if epoch != self._epoch:
                return
            for key, token in tokens.items():
                if token and self._changed_at.get(key, 0) <= heard:
                    self._tokens[key] = token


class Channel:
    """No channel (PAGE_CACHE_CHANNEL=off): every request asks the shared cache."""

    name = "off"
    # True when what the process knows can never lag behind a change (nothing to fence).
    exact = True

    def __init__(self, memory: Memory):
        self.memory = memory

    def trusted(self) -> bool:
        """May a request answer from memory now, without asking the shared cache?"""
        return False

    def write(self, cache, tokens: dict[str, str]) -> None:
        """Store new tokens in the shared cache and tell every process, in that order."""
        cache.set_many(tokens, timeout=None)
        self.tell(cache, list(tokens))

    def tell(self, cache, keys: list[str]) -> None:
        """Tell every process that `keys` changed in the shared cache."""

    def write_in_transaction(self, cache, tokens: dict[str, str], *, using: str | None) -> bool:
        """Store new tokens in the open transaction of database `using`, if the shared cache lives there
        (the database cache): they then commit with it. False when they must be written after the commit."""
        if not _caches_in(cache, using):
            return False
        cache.set_many_at_once(tokens)
        return True

    def told(self, keys: list[str]) -> None:
        """After the commit of tokens written by `write_in_transaction`: tell whoever must still be told."""

    def start(self) -> None:
        """Begin listening (once per process; a no-op where there is nothing to listen to)."""

    def stop(self) -> None:
        pass


class StampChannel(Channel):
    """One host: a change stamps a shared file; a request that sees a new stamp reads the cache once."""

    name = "file"

    def __init__(self, memory: Memory, path: Path):
        super().__init__(memory)
        self.path = path
        self._map = None
        self._seen = None
        # Nothing to connect to: every change is seen by the next request.
        memory.listen()

    def _stamp(self) -> mmap.mmap:
        if self._map is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                if os.fstat(fd).st_size < 8:
                    os.ftruncate(fd, 8)
                # Shared: a write by any process is what every other process reads next.
                self._map = mmap.mmap(fd, 8)
            finally:
                os.close(fd)
        return self._map

    def trusted(self) -> bool:
        try:
            stamp = self._stamp()[:8]
        except OSError:
            if self._seen is not False:
                logger.exception("Page cache: cannot read %s; every page asks the cache", self.path)
                self._seen = False
            return False
        if stamp == self._seen:
            return True
        # Something changed somewhere: forget everything, and ask the cache this once.
        self.memory.listen()
        self._seen = stamp
        return False

    def write(self, cache, tokens: dict[str, str]) -> None:
        write = getattr(cache, "set_many_at_once", None)
        if write is not None:
            # The database cache: one statement instead of a count, a read and a write per token.
            write(tokens)
        else:
            cache.set_many(tokens, timeout=None)
        self.tell(cache, list(tokens))

    def tell(self, cache, keys: list[str]) -> None:
        self._stamp()[:8] = secrets.token_bytes(8)

    def told(self, keys: list[str]) -> None:
        # Only once the tokens are committed: a process that read the cache before would keep the old ones.
        self.tell(None, keys)


class _Listening(Channel):
    """A channel with a server to listen to, in a thread of each process that serves pages."""

    exact = False

    def __init__(self, memory: Memory, *, lag: float, topic: str):
        super().__init__(memory)
        self.lag = lag
        self.topic = topic
        self._alive_since = float("-inf")
        self._thread = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def trusted(self) -> bool:
        return time.monotonic() - self._alive_since < self.lag

    @property
    def interval(self) -> float:
        return self.lag / 4

    @property
    def patience(self) -> float:
        # How long a ping may go unanswered before the connection is given up and opened anew.
        return max(1.0, 4 * self.lag)

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._listen, name=f"pagecache-{self.name}", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=10)

    def _listen(self) -> None:
        retry = 0.1
        down = False
        while not self._stopping.is_set():
            subscription = None
            try:
                subscription = self._subscribe(time.monotonic() + self.patience)
                self.memory.listen()
                while not self._stopping.is_set():
                    sent = time.monotonic()
                    subscription.ping(sent + self.patience)
                    self._alive_since = sent
                    if down:
                        logger.warning("Page cache: listening to %s again", self.name)
                        down, retry = False, 0.1
                    subscription.wait(sent + self.interval)
            except Exception as error:
                if not down and not self._stopping.is_set():
                    logger.warning(
                        "Page cache: not listening to %s (%s); every page asks the cache until it is back",
                        self.name,
                        error,
                    )
                down = True
            finally:
                self._alive_since = float("-inf")
                self.memory.deafen()
                if subscription is not None:
                    subscription.close()
            self._stopping.wait(retry)
            retry = min(retry * 2, 5.0)

    def _subscribe(self, deadline: float):
        raise NotImplementedError

    def _heard(self, payload) -> None:
        try:
            keys = json.loads(payload)
        except ValueError:
            logger.warning("Page cache: ignored a malformed notification")
            return
        self.memory.forget(keys)


class RedisChannel(_Listening):
    """Redis pub/sub on the server of CACHE_URL (or PAGE_CACHE_CHANNEL=redis://...)."""

    name = "Redis"

    def __init__(self, memory: Memory, *, url: str, lag: float, topic: str):
        super().__init__(memory, lag=lag, topic=topic)
        self.url = url
        self._client = None

    def write(self, cache, tokens: dict[str, str]) -> None:
        message = json.dumps(list(tokens))
        write_and_publish = getattr(cache, "set_many_and_publish", None)
        if write_and_publish is not None:
            # One MULTI/EXEC: the tokens and the notification, or neither.
            write_and_publish(tokens, channel=self.topic, message=message, timeout=None)
        else:
            cache.set_many(tokens, timeout=None)
            self._publisher().publish(self.topic, message)

    def write_in_transaction(self, cache, tokens: dict[str, str], *, using: str | None) -> bool:
        # Published after the commit, with the tokens (`write`): a message is not transactional.
        return False

    def tell(self, cache, keys: list[str]) -> None:
        publish = getattr(cache, "publish", None)
        (publish or self._publisher().publish)(self.topic, json.dumps(keys))

    def _publisher(self):
        if self._client is None:
            import redis

            self._client = redis.Redis.from_url(self.url, socket_connect_timeout=5, socket_timeout=5)
        return self._client

    def _subscribe(self, deadline: float):
        return _RedisSubscription(self, deadline)


class _RedisSubscription:
    def __init__(self, channel: RedisChannel, deadline: float):
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.channel = channel
        timeout = channel.patience
        # No retries: redis-py would reconnect and resubscribe behind our back, and
        # whatever was published meanwhile would go unheard. A failure must show.
        client = redis.Redis.from_url(
            channel.url, socket_connect_timeout=timeout, socket_timeout=timeout, retry=Retry(NoBackoff(), 0)
        )
        self.pubsub = client.pubsub()
        self.pings = 0
        try:
            self.pubsub.subscribe(channel.topic)
            self._until(deadline, lambda message: message["type"] == "subscribe")
        except BaseException:
            self.close()
            raise

    def ping(self, deadline: float) -> None:
        self.pings += 1
        data = str(self.pings).encode()
        self.pubsub.ping(data.decode())
        self._until(deadline, lambda message: message["type"] == "pong" and message["data"] == data)

    def wait(self, until: float) -> None:
        while (remaining := until - time.monotonic()) > 0:
            message = self.pubsub.get_message(timeout=remaining)
            if message is not None:
                self._handle(message)

    def _until(self, deadline: float, done) -> None:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no answer from Redis")
            message = self.pubsub.get_message(timeout=remaining)
            if message is None:
                continue
            self._handle(message)
            if done(message):
                return

    def _handle(self, message) -> None:
        if message["type"] == "message":
            self.channel._heard(message["data"])

    def close(self) -> None:
        try:
            self.pubsub.close()
        except Exception:
            logger.debug("Page cache: closing the Redis subscription failed", exc_info=True)


class PostgresChannel(_Listening):
    """LISTEN/NOTIFY on the site's PostgreSQL database (or PAGE_CACHE_CHANNEL=postgres://...)."""

    name = "PostgreSQL"

    def __init__(self, memory: Memory, *, conninfo: str, lag: float, topic: str):
        super().__init__(memory, lag=lag, topic=topic)
        self.conninfo = conninfo

    def write(self, cache, tokens: dict[str, str]) -> None:
        message = json.dumps(list(tokens))
        write_and_notify = getattr(cache, "set_many_at_once", None)
        if write_and_notify is not None and connection.vendor == "postgresql":
            # The database cache: the tokens and the NOTIFY in one statement.
            write_and_notify(tokens, notify=(self.topic, message))
            return
        with transaction.atomic():
            cache.set_many(tokens, timeout=None)
            self._notify(list(tokens))

    def tell(self, cache, keys: list[str]) -> None:
        self._notify(keys)

    def write_in_transaction(self, cache, tokens: dict[str, str], *, using: str | None) -> bool:
        if not _caches_in(cache, using) or connections[using or DEFAULT_DB_ALIAS].vendor != "postgresql":
            return False
        # PostgreSQL delivers a NOTIFY at the commit of its transaction: the tokens and it, or neither.
        cache.set_many_at_once(tokens, notify=(self.topic, json.dumps(list(tokens))))
        return True

    def _notify(self, keys: list[str]) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [self.topic, json.dumps(keys)])

    def _subscribe(self, deadline: float):
        return _PostgresSubscription(self, deadline)


class _PostgresSubscription:
    """A connection of its own (libpq, non-blocking: every wait has a deadline, a cut network included)."""

    def __init__(self, channel: PostgresChannel, deadline: float):
        from psycopg import OperationalError, pq

        self.channel = channel
        self.pq = pq
        self.connection = pq.PGconn.connect_start(channel.conninfo.encode())
        try:
            while True:
                status = self.connection.connect_poll()
                if status == pq.PollingStatus.OK:
                    break
                if status == pq.PollingStatus.FAILED:
                    raise OperationalError(self.connection.get_error_message())
                self._wait(deadline, write=status == pq.PollingStatus.WRITING)
            self.connection.nonblocking = 1
            self._run(f'LISTEN "{channel.topic}"'.encode(), deadline)
        except BaseException:
            self.close()
            raise

    def ping(self, deadline: float) -> None:
        # PostgreSQL sends every notification it was signalled before answering a
        # query, and a notifier signals before its commit returns.
        self._run(b"SELECT 1", deadline)

    def wait(self, until: float) -> None:
        while (remaining := until - time.monotonic()) > 0:
            if self._readable(remaining):
                self.connection.consume_input()
                self._drain()

    def _run(self, sql: bytes, deadline: float) -> None:
        pq, connection = self.pq, self.connection
        connection.send_query(sql)
        while connection.flush():
            self._wait(deadline, write=True)
        while True:
            connection.consume_input()
            self._drain()
            if not connection.is_busy():
                break
            self._wait(deadline)
        failed = None
        while (result := connection.get_result()) is not None:
            if result.status not in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
                failed = result.get_error_message()
        if failed is not None:
            raise RuntimeError(f"PostgreSQL refused {sql.decode()!r}: {failed}")
        self._drain()

    def _drain(self) -> None:
        while (notification := self.connection.notifies()) is not None:
            self.channel._heard(notification.extra.decode())

    def _readable(self, timeout: float) -> bool:
        readable, _, _ = select.select([self.connection.socket], [], [], max(0.0, timeout))
        return bool(readable)

    def _wait(self, deadline: float, *, write: bool = False) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no answer from PostgreSQL")
        socket = self.connection.socket
        readable, writable, _ = select.select([] if write else [socket], [socket] if write else [], [], remaining)
        if not readable and not writable:
            raise TimeoutError("no answer from PostgreSQL")

    def close(self) -> None:
        try:
            self.connection.finish()
        except Exception:
            logger.debug("Page cache: closing the PostgreSQL listener failed", exc_info=True)


def _caches_in(cache, using: str | None) -> bool:
    """Whether `cache` is the database cache, with its table in database `using`."""
    if getattr(cache, "set_many_at_once", None) is None:
        return False
    return router.db_for_write(cache.cache_model_class) == (using or DEFAULT_DB_ALIAS)


def shown(choice: str) -> str:
    """PAGE_CACHE_CHANNEL as a log line or a check message may print it: a URL's password is `***`.

    Made for a mistyped URL too (it is the one that gets printed): after the scheme (`redis://`,
    `postgress:/`), whatever stands between the first `:` and the last `@` is the password. The
    values of a query string (`?password=...`) are masked as the access log masks them.
    """
    userinfo, at, host = choice.rpartition("@")
    scheme = _SCHEME.match(userinfo)
    start = scheme.end() if scheme else 0
    user, colon, _password = userinfo[start:].partition(":")
    if at and colon:
        choice = f"{userinfo[:start]}{user}:***@{host}"
    return mask_url_query(choice)


_SCHEME = re.compile(r"[a-zA-Z][\w+.-]*:/+")


def kind(choice: str) -> str:
    """What PAGE_CACHE_CHANNEL asks for: "off", "file", "redis" or "postgres" ("auto" decided by the settings)."""
    choice = choice.strip()
    if choice in ("off", "file"):
        return choice
    if choice.startswith(("redis://", "rediss://", "unix://")):
        return "redis"
    if choice.startswith(("postgres://", "postgresql://", "pgsql://")):
        return "postgres"
    if choice != "auto":
        raise ValueError("expected auto, off, file, a redis:// URL or a postgres:// URL")
    if "redis" in settings.CACHES["default"]["BACKEND"].lower():
        return "redis"
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return "postgres"
    # SQLite: one host.
    return "file"


def choose(memory: Memory) -> Channel:
    """The channel PAGE_CACHE_CHANNEL asks for ("auto": the one that goes with the cache and the database)."""
    choice = settings.PAGE_CACHE_CHANNEL.strip()
    lag = settings.PAGE_CACHE_LAG
    cache = settings.CACHES["default"]
    prefix = str(cache.get("KEY_PREFIX", ""))
    chosen = kind(choice)
    if chosen == "off":
        return Channel(memory)
    if chosen == "file":
        return StampChannel(memory, Path(settings.VAR_DIR) / "pagecache.stamp")
    if chosen == "redis":
        if choice == "auto":
            location = cache["LOCATION"]
            choice = (location if isinstance(location, str) else location[0]).split(",")[0]
        return RedisChannel(memory, url=choice, lag=lag, topic=f"{prefix}:pages:changed")
    if choice == "auto":
        database = settings.DATABASES["default"]
    else:
        import environ

        database = environ.Env.db_url_config(choice)
    return PostgresChannel(memory, conninfo=_conninfo(database), lag=lag, topic=_pg_topic(prefix))


def _pg_topic(prefix: str) -> str:
    # A channel name is an identifier of at most 63 bytes; the prefix keeps two sites on one database apart.
    return "pages_" + hashlib.sha256(prefix.encode()).hexdigest()[:16]


def _conninfo(database: dict) -> str:
    """libpq's connection string for a DATABASES entry, with the options libpq knows."""
    from psycopg import pq
    from psycopg.conninfo import make_conninfo

    known = {option.keyword.decode() for option in pq.Conninfo.get_defaults()}
    options = {key: value for key, value in (database.get("OPTIONS") or {}).items() if key in known}
    parts = {
        "dbname": database.get("NAME"),
        "user": database.get("USER"),
        "password": database.get("PASSWORD"),
        "host": database.get("HOST"),
        "port": database.get("PORT"),
        "connect_timeout": options.pop("connect_timeout", 5),
        "application_name": "seminars page cache listener",
    }
    return make_conninfo(**{key: value for key, value in (parts | options).items() if value not in (None, "")})
