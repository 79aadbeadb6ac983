"""How workers hear of changed pages (seminar_site/pagecache/channels.py), in this process.

A hit asks nobody: no query, no command to the cache. A change reaches every
worker through its channel within PAGE_CACHE_LAG, reaches whoever made it on
their next page, and when the channel goes quiet, workers ask the shared cache
again instead of trusting what they remember. The servers' side (real gunicorn
hosts) is in test_pagecache_hosts.py.
"""

import threading
import time
import uuid

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registrations import services
from seminar_site import pagecache
from seminar_site.pagecache import channels
from tests.proxy import TcpProxy

LAG = 0.25


def text(response) -> str:
    return " ".join(response.content.decode().split())


def wait_until(condition, *, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def use_channel(settings):
    """use_channel("auto" | "off" | a URL): this process hears of changes that way from now on."""

    def use(choice, **more):
        settings.PAGE_CACHE_CHANNEL = choice
        settings.PAGE_CACHE_LAG = LAG
        for name, value in more.items():
            setattr(settings, name, value)
        pagecache.reset()
        return pagecache.state()

    return use


class StoreCommands:
    """Commands this thread sends to Redis (the listener's own thread is not counted)."""

    def __init__(self, monkeypatch):
        import redis.connection

        self.count = 0
        thread = threading.current_thread()
        send = redis.connection.AbstractConnection.send_packed_command

        def counted(connection, command, *args, **kwargs):
            if threading.current_thread() is thread:
                self.count += 1
            return send(connection, command, *args, **kwargs)

        monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted)


@pytest.fixture
def redis_cache(settings, shared_redis):
    settings.CACHES = {
        "default": {
            "BACKEND": "seminar_site.cache.RedisCache",
            "LOCATION": shared_redis,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
    return shared_redis


def assert_shown_within_the_lag(url, words):
    """Every request from PAGE_CACHE_LAG after the change on shows it (and how soon one did, for the record)."""
    changed = time.monotonic()
    while (sent := time.monotonic()) < changed + LAG:
        if words in text(Client().get(url)):
            print(f"shown {1000 * (sent - changed):.1f} ms after the change")
            break
    time.sleep(max(0.0, changed + LAG - time.monotonic()))
    for _ in range(3):
        assert words in text(Client().get(url))


def register(event, n):
    return services.register(event=event, name=f"Person {n}", email=f"person{n}@example.edu")


# What a worker remembers


def test_tokens_read_while_a_change_was_told_are_not_kept():
    memory = channels.Memory()
    memory.listen()
    mark = memory.mark()
    memory.forget(["pages:tag:talk:a"])  # told while the shared cache was being read

    memory.learn({"pages:tag:talk:a": "old", "pages:tag:content": "c1"}, mark)

    assert memory.tokens(["pages:tag:talk:a"]) is None
    assert memory.tokens(["pages:tag:content"]) == ("c1",)


def test_a_worker_that_stopped_listening_remembers_nothing():
    memory = channels.Memory()
    memory.listen()
    memory.learn({"pages:tag:content": "c1"}, memory.mark())
    mark = memory.mark()

    memory.deafen()
    memory.learn({"pages:tag:content": "c2"}, mark)

    assert memory.tokens(["pages:tag:content"]) is None
    assert memory.mark() is None


# One host: the stamp file


class CountingCache:
    """The shared cache, counting what is asked of it."""

    def __init__(self, inner):
        self.inner = inner
        self.calls = []

    def __getattr__(self, name):
        self.calls.append(name)
        return getattr(self.inner, name)


def test_a_hit_asks_neither_the_database_nor_the_cache(make_event, monkeypatch):
    event = make_event()
    for path in (event.get_absolute_url(), "/"):
        Client().get(path)
    counting = CountingCache(cache)
    monkeypatch.setattr(pagecache, "cache", counting)

    with CaptureQueriesContext(connection) as queries:
        pages = [Client().get(path) for path in (event.get_absolute_url(), "/") for _ in range(3)]

    assert [page.status_code for page in pages] == [200] * 6
    assert (len(queries), counting.calls) == (0, [])


def test_on_one_host_another_process_s_change_shows_on_the_next_request(make_event, client, settings, tmp_path):
    event = make_event(capacity=5)
    state = pagecache.state()
    assert isinstance(state.channel, channels.StampChannel)
    client.get(event.get_absolute_url())
    assert "5 of 5 seats left" in text(client.get(event.get_absolute_url()))
    # Another worker of the host registers someone: it writes the token and stamps the file it shares with us.
    other = channels.StampChannel(channels.Memory(), state.channel.path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pagecache, "changed", lambda *tags, using=None: None)
        register(event, 1)
    other.write(cache, {pagecache.tag_key(pagecache.talk_tag(event.slug)): "changed-elsewhere"})

    assert "4 of 5 seats left" in text(client.get(event.get_absolute_url()))


def test_one_host_needs_no_fence(make_event, client):
    event = make_event()
    token = client.get(event.get_absolute_url()).cookies["csrftoken"].value
    response = client.post(
        reverse("registrations:register", kwargs={"slug": event.slug}),
        {"csrfmiddlewaretoken": token, "name": "Ana", "email": "ana@example.edu", "consent": "on", "website": ""},
    )
    assert response.status_code == 302
    assert pagecache.FENCE_COOKIE not in response.cookies


# Redis pub/sub


def test_with_redis_a_hit_sends_redis_nothing_and_a_change_arrives_within_the_lag(
    make_event, redis_cache, use_channel, monkeypatch
):
    event = make_event(capacity=5)
    state = use_channel("auto")
    assert isinstance(state.channel, channels.RedisChannel)
    url = event.get_absolute_url()
    Client().get(url)
    wait_until(state.channel.trusted)
    Client().get(url)  # a read of the tokens the listener was not yet trusted with
    commands = StoreCommands(monkeypatch)

    with CaptureQueriesContext(connection) as queries:
        pages = [text(Client().get(url)) for _ in range(5)]

    assert (commands.count, len(queries)) == (0, 0)
    assert all("5 of 5 seats left" in page for page in pages)

    register(event, 1)  # writes the token and publishes, in one MULTI/EXEC

    assert_shown_within_the_lag(url, "4 of 5 seats left")


def test_whoever_made_a_change_sees_it_at_once_even_before_their_worker_hears_of_it(
    make_event, redis_cache, use_channel, monkeypatch
):
    event = make_event(capacity=5)
    state = use_channel("auto")
    visitor = Client()
    visitor.get(event.get_absolute_url())
    wait_until(state.channel.trusted)
    visitor.get(event.get_absolute_url())
    # This worker's listener is slow today: it hears nothing.
    monkeypatch.setattr(state.channel, "_heard", lambda payload: None)
    token = visitor.get(event.get_absolute_url()).cookies["csrftoken"].value

    response = visitor.post(
        reverse("registrations:register", kwargs={"slug": event.slug}),
        {"csrfmiddlewaretoken": token, "name": "Ana", "email": "ana@example.edu", "consent": "on", "website": ""},
    )

    assert response.status_code == 302
    assert "sessionid" not in visitor.cookies  # their pages come from the cache like anyone's
    fence = response.cookies[pagecache.FENCE_COOKIE]
    assert fence["httponly"] and fence["samesite"] == "Lax"
    assert float(fence.value) > time.time() + LAG
    assert "4 of 5 seats left" in text(visitor.get(event.get_absolute_url()))


def test_with_redis_silent_workers_ask_the_cache_and_listen_again_when_it_is_back(
    make_event, redis_cache, use_channel, monkeypatch
):
    event = make_event(capacity=5)
    url = event.get_absolute_url()
    with TcpProxy(redis_cache) as line:
        state = use_channel(line.url)
        Client().get(url)
        wait_until(state.channel.trusted)

        line.cut()
        register(event, 1)  # published; this worker does not hear it

        cut_at = time.monotonic()
        wait_until(lambda: not state.channel.trusted(), seconds=LAG + 0.1)
        assert time.monotonic() - cut_at <= LAG + 0.1
        commands = StoreCommands(monkeypatch)
        assert "4 of 5 seats left" in text(Client().get(url))
        assert commands.count > 0  # asked the shared cache

        line.restore()
        wait_until(state.channel.trusted)
        Client().get(url)
        commands.count = 0
        assert "4 of 5 seats left" in text(Client().get(url))
        assert commands.count == 0


# PostgreSQL LISTEN/NOTIFY (the database cache)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_with_postgresql_a_hit_runs_no_query_and_a_change_arrives_within_the_lag(
    require_postgres, make_event, use_channel
):
    event = make_event(capacity=5)
    url = event.get_absolute_url()
    state = use_channel("auto")
    assert isinstance(state.channel, channels.PostgresChannel)
    Client().get(url)
    wait_until(state.channel.trusted)
    Client().get(url)

    with CaptureQueriesContext(connection) as queries:
        assert "5 of 5 seats left" in text(Client().get(url))
    assert len(queries) == 0

    register(event, 1)  # the token and the NOTIFY commit together

    assert_shown_within_the_lag(url, "4 of 5 seats left")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_with_postgresql_a_silent_listener_is_not_trusted(require_postgres, make_event, use_channel, settings):
    event = make_event(capacity=5)
    url = event.get_absolute_url()
    database = settings.DATABASES["default"]
    with TcpProxy(
        f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
    ) as line:
        state = use_channel(line.url)
        Client().get(url)
        wait_until(state.channel.trusted)

        line.cut()
        register(event, 1)

        wait_until(lambda: not state.channel.trusted(), seconds=LAG + 0.1)
        with CaptureQueriesContext(connection) as queries:
            assert "4 of 5 seats left" in text(Client().get(url))
        assert len(queries) > 0

        line.restore()
        wait_until(state.channel.trusted)


def test_a_channel_that_is_not_one_is_refused_by_the_checks_and_pages_still_work(make_event, use_channel, settings):
    from seminar_site.checks import check_page_cache_channel

    event = make_event()
    use_channel("carrier-pigeon://")

    assert [error.id for error in check_page_cache_channel(None)] == ["seminar_site.E005"]
    assert Client().get(event.get_absolute_url()).status_code == 200


@pytest.mark.parametrize(
    ("mistyped", "printed"),
    [
        ("redsi://cache:s3cret-Pa55@cache.internal:6379/0", "redsi://cache:***@cache.internal:6379/0"),
        ("postgress://seminars:s3cret@Pa55@db.internal/seminars", "postgress://seminars:***@db.internal/seminars"),
        ("seminars:s3cret-Pa55@db.internal/seminars", "seminars:***@db.internal/seminars"),
        ("redis//cache:s3cret/Pa55@cache.internal", "redis//cache:***@cache.internal"),
        ("rediss:/cache.internal:6380/0?password=s3cret-Pa55", "rediss:/cache.internal:6380/0?password=…"),
    ],
)
def test_a_mistyped_channel_url_is_printed_without_its_password(use_channel, caplog, mistyped, printed):
    from seminar_site.checks import check_page_cache_channel

    use_channel(mistyped)
    (error,) = check_page_cache_channel(None)

    assert error.id == "seminar_site.E005"
    assert error.msg.startswith(f"PAGE_CACHE_CHANNEL={printed!r}: ")
    # Up to the user: from there the logs' own filter (seminar_site/logs.py), when a test before this one
    # installed it, takes "***@host" for an email address and writes "[email]". The password is gone either way.
    assert f"PAGE_CACHE_CHANNEL={printed.split('***')[0]!r}"[:-1] in caplog.text
    assert "is not a channel" in caplog.text
    assert "s3cret" not in error.msg + caplog.text and "Pa55" not in error.msg + caplog.text


def test_a_stamp_file_that_cannot_be_written_means_asking_the_cache(make_event, use_channel, settings, tmp_path):
    event = make_event()
    not_a_directory = tmp_path / "a-file"
    not_a_directory.write_text("")
    settings.VAR_DIR = not_a_directory / "var"
    use_channel("file")

    assert Client().get(event.get_absolute_url()).status_code == 200
    register(event, 1)  # the change is stored; the stamp cannot be

    assert "39 of 40 seats left" in text(Client().get(event.get_absolute_url()))
