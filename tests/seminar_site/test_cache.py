"""The Redis backend (CACHE_URL=redis://...): Django's, with one client object kept per connection pool."""

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
