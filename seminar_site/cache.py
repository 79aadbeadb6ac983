"""The shared cache's backends: the database (the default store of rate-limit
counters and cached pages) and Redis (CACHE_URL=redis://...).

The database cache:

`migrate` creates its table (post_migrate, so a fresh checkout, the test
database and every deploy get it with no extra step), unlogged on PostgreSQL:
nothing in a cache must outlive a crash, and a write to it alone (a rate-limit
counter's) then commits without waiting for the disk. Counting is safe across
processes and hosts: Django's DatabaseCache.incr reads and then writes the
whole entry, so two workers counting the same key at once could both write the
same number; here the row is locked (PostgreSQL) while its value is read and
rewritten, in two statements instead of five. A rate-limit counter (`count`) is
one statement: an upsert that adds one and returns the new count. Its row
holds the count as digits, not as a pickle: only `count` reads it. Both run
on every sign-up, through `statements.statement_cursor`: prepared once per
connection on PostgreSQL.

Redis: Django builds a new redis.Redis object for every command, about 50 µs
of a cached page's few hundred when it has to ask the cache. The object holds
no connection of its own (the pool does, and the pool knows when it was
inherited across a fork), so one per pool is built and kept. The page cache
also writes its tokens and publishes their names in one MULTI/EXEC
(`set_many_and_publish`), so every worker hears of exactly the writes that
happened (seminar_site/pagecache/channels.py).
"""

import base64
import datetime
import pickle
import threading

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.core.management import call_command
from django.db import connections, models, router, transaction
from django.utils import timezone

from .statements import statement_cursor


class DatabaseCache(DjangoDatabaseCache):
    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        table = connection.ops.quote_name(self._table)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(f"SELECT value, expires FROM {table} WHERE cache_key = %s{lock}", [key])  # noqa: S608 - quoted table name from settings
            row = cursor.fetchone()
            if row is None or self._expired(connection, row[1]):
                raise ValueError(f"Key '{key}' not found")
            value = pickle.loads(base64.b64decode(connection.ops.process_clob(row[0]).encode()))  # noqa: S301 - our own table
            value += delta
            encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(f"UPDATE {table} SET value = %s WHERE cache_key = %s", [encoded, key])  # noqa: S608
        return value

    def count(self, key, *, timeout: int, version=None) -> int:
        """Add one to the counter `key`, made with a count of 0 if missing or expired (lasting `timeout`
        seconds from then); return its new count. One statement, atomic on every database: what
        `add` then `incr` do in up to nine statements and three transactions."""
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        table = connection.ops.quote_name(self._table)
        key_column, value, expires = (connection.ops.quote_name(name) for name in ("cache_key", "value", "expires"))
        now = timezone.now().replace(microsecond=0)
        expiry = connection.ops.adapt_datetimefield_value(now + datetime.timedelta(seconds=timeout))
        now = connection.ops.adapt_datetimefield_value(now)
        # Quoted names from settings; every value a parameter. The count is text in the value column.
        sql = (
            f"INSERT INTO {table} ({key_column}, {value}, {expires}) VALUES (%s, '1', %s) "  # noqa: S608
            f"ON CONFLICT ({key_column}) DO UPDATE SET "
            f"{value} = CASE WHEN {table}.{expires} < %s THEN '1' "
            f"ELSE CAST(CAST({table}.{value} AS INTEGER) + 1 AS TEXT) END, "
            f"{expires} = CASE WHEN {table}.{expires} < %s THEN EXCLUDED.{expires} ELSE {table}.{expires} END "
            f"RETURNING {value}"
        )
        with statement_cursor(connection) as cursor:
            cursor.execute(sql, [self.make_and_validate_key(key, version=version), expiry, now, now])
            return int(cursor.fetchone()[0])

    def set_many_at_once(self, data, *, notify: tuple[str, str] | None = None, version=None) -> None:
        """set_many(data) without expiry in one statement (an upsert), and on PostgreSQL, with `notify`
        (channel, message), pg_notify in that same statement: the values and the notification commit together.

        What the page cache writes on every change (seminar_site/pagecache/channels.py): Django's own
        set_many counts the table's rows, then reads and writes each key in a transaction of its own.
        Written rows read back as Django's would (the same encoding, the same "never" expiry); the
        table is culled by the other writes, which still count.
        """
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        key, value, expires = (connection.ops.quote_name(name) for name in ("cache_key", "value", "expires"))
        table = connection.ops.quote_name(self._table)
        never = connection.ops.adapt_datetimefield_value(datetime.datetime.max.replace(microsecond=0))
        rows, params = [], []
        for name, data_value in data.items():
            encoded = base64.b64encode(pickle.dumps(data_value, self.pickle_protocol)).decode("latin1")
            rows.append("(%s, %s, %s)")
            params += [self.make_and_validate_key(name, version=version), encoded, never]
        # Quoted names from settings; every value a parameter.
        upsert = (
            f"INSERT INTO {table} ({key}, {value}, {expires}) VALUES {', '.join(rows)} "  # noqa: S608
            f"ON CONFLICT ({key}) DO UPDATE SET {value} = EXCLUDED.{value}, {expires} = EXCLUDED.{expires}"
        )
        with statement_cursor(connection) as cursor:
            if notify is not None and connection.vendor == "postgresql":
                notified = "SELECT pg_notify(%s, %s) FROM (SELECT COUNT(*) FROM written) AS w"
                cursor.execute(f"WITH written AS ({upsert} RETURNING 1) {notified}", [*params, *notify])
            else:
                cursor.execute(upsert, params)

    @staticmethod
    def _expired(connection, expires) -> bool:
        # Converted the way DatabaseCache itself reads the column (text on SQLite).
        expression = models.Expression(output_field=models.DateTimeField())
        for converter in connection.ops.get_db_converters(expression) + expression.get_db_converters(connection):
            expires = converter(expires, expression, connection)
        return expires < timezone.now()


def create_cache_tables(*, using="default", verbosity=1, **kwargs):
    """post_migrate: create the table of every database cache (a no-op when it exists); on PostgreSQL, unlogged."""
    call_command("createcachetable", database=using, verbosity=max(verbosity - 1, 0))
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    # A cache holds nothing that must outlive a crash (PostgreSQL empties an unlogged table then:
    # pages are rendered again, counters start afresh), and a write to it alone, as a rate-limit
    # counter's is, then commits without waiting for the disk: no WAL to flush.
    tables = {
        cache._table
        for alias in settings.CACHES
        if isinstance(cache := caches[alias], DjangoDatabaseCache)
        and router.db_for_write(cache.cache_model_class) == using
    }
    with connection.cursor() as cursor:
        for table in sorted(tables):
            quoted = connection.ops.quote_name(table)
            cursor.execute("SELECT relpersistence FROM pg_class WHERE oid = to_regclass(%s)", [quoted])
            row = cursor.fetchone()
            if row is not None and row[0] == "p":
                cursor.execute(f"ALTER TABLE {quoted} SET UNLOGGED")


class _RedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._making = threading.Lock()

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            # Once per server, under a lock: two threads of a worker asking first at the same moment
            # would otherwise each build a pool (Django's own check is not locked either) and a client.
            with self._making:
                client = self._clients.get(index)
                if client is None:
                    client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _RedisCacheClient
        # Made now, not on first use: two threads sharing this object would each make one (Django's
        # cached_property is not locked). It opens no connection: its pool does, when a command runs.
        self._cache  # noqa: B018

    def set_many_and_publish(self, data, *, channel, message, timeout=DEFAULT_TIMEOUT, version=None):
        """set_many(data), then PUBLISH message on channel, in one MULTI/EXEC: both happen or neither."""
        client = self._cache.get_client(write=True)
        pipeline = client.pipeline(transaction=True)
        keys = {self.make_and_validate_key(key, version=version): value for key, value in data.items()}
        pipeline.mset({key: self._cache._serializer.dumps(value) for key, value in keys.items()})
        timeout = self.get_backend_timeout(timeout)
        if timeout is not None:
            for key in keys:
                pipeline.expire(key, timeout)
        pipeline.publish(channel, message)
        pipeline.execute()

    def count(self, key, *, timeout: int, version=None) -> int:
        """Add one to the counter `key`, made with a count of 0 lasting `timeout` seconds if missing;
        return its new count. One round trip (SET NX, INCR), where `add` then `incr` take two."""
        key = self.make_and_validate_key(key, version=version)
        pipeline = self._cache.get_client(key, write=True).pipeline(transaction=True)
        pipeline.set(key, 0, ex=timeout, nx=True)
        pipeline.incr(key)
        return int(pipeline.execute()[1])

    def publish(self, channel, message):
        """PUBLISH on the cache's server (pub/sub channels are not namespaced by the key prefix: name them so)."""
        return self._cache.get_client(write=True).publish(channel, message)
