"""The shared cache's backends: Redis (CACHE_URL=redis://...), Django's with one client object kept per
connection pool, and the database cache; both write the page cache's tokens and announce them in one go,
and count (the rate limits) in one round trip."""

import threading
import uuid

import pytest

from seminar_site.cache import RedisCache


@pytest.fixture
def redis_cache(shared_redis):
    cache = RedisCache(shared_redis, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})
    yield cache
    cache.close()


def test_it_stores_reads_counts_and_forgets_like_djangos(redis_cache):
    redis_cache.set_many({"a": 1, "b": {"page": b"\x00bytes"}})
    assert redis_cache.get_many(["a", "b", "missing"]) == {"a": 1, "b": {"page": b"\x00bytes"}}
    assert redis_cache.add("a", 2) is False and redis_cache.add("c", 3) is True
    assert redis_cache.incr("a", 5) == 6
    redis_cache.delete_many(["a", "b"])
    assert redis_cache.get_many(["a", "b", "c"]) == {"c": 3}


def test_redis_counts_in_one_round_trip_with_the_expiry_of_the_first(redis_cache):
    assert [redis_cache.count("hits", timeout=60) for _ in range(3)] == [1, 2, 3]
    assert redis_cache.count("other", timeout=60) == 1
    assert 55 < redis_cache._cache.get_client().ttl(redis_cache.make_key("hits")) <= 60
    assert redis_cache.get("hits") == 3  # an ordinary integer to the cache


def test_one_client_serves_every_command_and_thread(redis_cache):
    clients = []

    def use():
        redis_cache.get("anything")
        clients.append(redis_cache._cache.get_client())

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len({id(client) for client in clients}) == 1
    assert redis_cache._cache.get_client(write=True) is clients[0]  # one server: one pool for both


def test_redis_writes_and_publishes_together(redis_cache, shared_redis):
    import redis

    listener = redis.Redis.from_url(shared_redis).pubsub()
    channel = f"{redis_cache.key_prefix}:pages:changed"
    listener.subscribe(channel)
    assert listener.get_message(timeout=5)["type"] == "subscribe"

    redis_cache.set_many_and_publish({"token": "t1", "other": "t2"}, channel=channel, message="hello", timeout=None)

    assert redis_cache.get_many(["token", "other"]) == {"token": "t1", "other": "t2"}
    assert redis_cache._cache.get_client().ttl(redis_cache.make_key("token")) == -1  # no expiry
    message = listener.get_message(timeout=5)
    assert (message["type"], message["data"]) == ("message", b"hello")
    listener.close()


# The database cache (the default): the page cache's one-statement write.


def test_the_database_cache_writes_many_at_once_as_set_many_would(db, django_assert_num_queries):
    from django.core.cache import cache

    cache.set("kept", "old", timeout=None)
    with django_assert_num_queries(1):
        cache.set_many_at_once({"kept": "new", "fresh": {"any": b"\x00value"}})

    assert cache.get_many(["kept", "fresh"]) == {"kept": "new", "fresh": {"any": b"\x00value"}}
    assert cache.add("fresh", "other") is False  # not expired: stored without expiry, as timeout=None does


def test_the_database_cache_counts_in_one_statement(db, django_assert_num_queries):
    from django.core.cache import cache

    with django_assert_num_queries(3):
        counts = [cache.count("hits", timeout=60) for _ in range(3)]

    assert counts == [1, 2, 3]
    assert cache.count("other", timeout=60) == 1


def test_an_expired_count_starts_again(db):
    from django.core.cache import cache

    cache.count("hits", timeout=60)
    cache.count("hits", timeout=60)
    assert cache.count("hits", timeout=-5) == 3  # live: the first expiry stands
    cache.count("gone", timeout=-5)  # made already expired

    assert cache.count("gone", timeout=60) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_counting_at_once_loses_no_count(require_postgres):
    from django.core.cache import cache
    from django.db import connection

    counts, barrier = [], threading.Barrier(8)

    def count():
        try:
            barrier.wait(timeout=30)
            for _ in range(25):
                counts.append(cache.count("busy", timeout=60))
        finally:
            connection.close()

    threads = [threading.Thread(target=count) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(counts) == list(range(1, 201))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_values_and_the_notification_commit_together(require_postgres):
    import psycopg
    from django.core.cache import cache
    from django.db import connection

    params = connection.get_connection_params()
    with psycopg.connect(
        **{key: params[key] for key in ("dbname", "user", "host", "port") if key in params}, autocommit=True
    ) as listener:
        listener.execute('LISTEN "test_pages"')

        cache.set_many_at_once({"token": "t1"}, notify=("test_pages", '["token"]'))

        notifications = list(listener.notifies(timeout=5, stop_after=1))
    assert [(n.channel, n.payload) for n in notifications] == [("test_pages", '["token"]')]
    assert cache.get("token") == "t1"


def _persistence(cursor) -> str:
    cursor.execute("SELECT relpersistence FROM pg_class WHERE oid = to_regclass('django_cache')")
    return cursor.fetchone()[0]


def test_on_postgresql_the_cache_table_is_unlogged_and_migrate_keeps_it_so(require_postgres, db):
    from django.db import connection

    from seminar_site.cache import create_cache_tables

    with connection.cursor() as cursor:
        # Made so when the test database was migrated; a rate-limit count then commits without a disk flush.
        assert _persistence(cursor) == "u"
        create_cache_tables(using="default", verbosity=0)
        assert _persistence(cursor) == "u"
        cursor.execute("ALTER TABLE django_cache SET LOGGED")
        create_cache_tables(using="default", verbosity=0)
        assert _persistence(cursor) == "u"
