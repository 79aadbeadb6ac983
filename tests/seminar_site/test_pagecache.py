"""Public pages from the shared cache: as fast as a stored copy, as exact as a fresh render.

Each test first has the page stored (a GET), then changes something the way
people do (the form, the self-service link, the admin, the services, a model
save), then checks that the next GET shows the change. On a real commit the
invalidation happens when the transaction commits; inside a test's
transaction, which never commits, tests/conftest.py has it happen at once.
"""

import datetime
import json
import re
import time
from email.utils import parsedate_to_datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.test import Client
from django.urls import path as route
from django.urls import reverse
from django.utils import timezone, translation

from events.models import Event, Question, Speaker
from registrations import services
from registrations.models import Registration
from registrations.templatetags.registration_tags import read_seats
from seminar_site import pagecache
from tests.admin_forms import inline_management_data
from tests.html import form_fields

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def text(response) -> str:
    """A response's (or a page's) text, its white space squashed."""
    return " ".join((response if isinstance(response, str) else response.content.decode()).split())


def register(client, event, token, email):
    return client.post(
        reverse("registrations:register", kwargs={"slug": event.slug}),
        {"csrfmiddlewaretoken": token, "name": "Ana López", "email": email, "consent": "on", "website": ""},
    )


def fenced_client() -> Client:
    """A visitor who just changed something: their pages take tokens from the shared cache for a while."""
    visitor = Client()
    visitor.cookies[pagecache.FENCE_COOKIE] = str(time.time() + 5)
    return visitor


def stored(event) -> bool:
    """Is a copy of the talk page in the cache (whatever its tokens)?"""
    return cache.get(pagecache.page_key(f"talk:{event.slug}")) is not None


# One cached page, many visitors


def test_every_visitor_of_a_cached_page_gets_a_csrf_token_of_their_own_that_works(
    make_event, django_assert_num_queries
):
    event = make_event(capacity=5)
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first_page = first.get(event.get_absolute_url())
    with django_assert_num_queries(0):  # served from the worker's memory
        second_page = second.get(event.get_absolute_url())

    first_token, second_token = TOKEN.search(first_page.text)[1], TOKEN.search(second_page.text)[1]
    assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value
    assert "Cookie" in second_page["Vary"]
    # Each token goes with its own cookie only.
    assert register(second, event, first_token, "mixed@example.edu").status_code == 403
    assert register(first, event, first_token, "first@example.edu").status_code == 302
    assert register(second, event, second_token, "second@example.edu").status_code == 302
    assert Registration.objects.filter(event=event).count() == 2


def test_a_returning_visitor_keeps_their_cookie_and_gets_a_fresh_token_for_it(make_event):
    event = make_event(capacity=5)
    visitor = Client(enforce_csrf_checks=True)
    first = TOKEN.search(visitor.get(event.get_absolute_url()).text)[1]
    cookie = visitor.cookies["csrftoken"].value

    page = visitor.get(event.get_absolute_url())  # from the cache

    token = TOKEN.search(page.text)[1]
    assert visitor.cookies["csrftoken"].value == cookie
    # Django's shape (a mask, then the secret under it), new on every page, as with get_token.
    assert len(token) == 64 and token.isalnum() and token != first
    assert register(visitor, event, token, "back@example.edu").status_code == 302
    assert register(Client(enforce_csrf_checks=True), event, token, "stranger@example.edu").status_code == 403


def test_the_csrf_cookie_of_a_cached_page_is_the_one_django_sets(make_event, settings):
    event = make_event()
    settings.CSRF_COOKIE_SECURE = True
    settings.PAGE_CACHE = False
    rendered = Client().get(event.get_absolute_url())
    settings.PAGE_CACHE = True
    Client().get(event.get_absolute_url())

    served = Client().get(event.get_absolute_url())

    def attributes(response):
        line = response.cookies["csrftoken"].OutputString()
        found = dict(part.strip().partition("=")[::2] for part in line.split(";")[1:])
        # The two responses may fall in different seconds: their expiry dates too.
        expires = parsedate_to_datetime(found.pop("expires"))
        return {name.lower(): value for name, value in found.items()}, expires

    (served_attributes, served_expires), (rendered_attributes, rendered_expires) = map(attributes, (served, rendered))
    assert served_attributes == rendered_attributes
    assert abs((served_expires - rendered_expires).total_seconds()) <= 5
    assert {"secure", "max-age"} <= set(served_attributes) and served_attributes["max-age"] == "31449600"
    assert served["Vary"] == rendered["Vary"] == "Cookie, Accept-Language"


def test_tokens_are_django_s_and_their_characters_equally_likely(rf):
    from collections import Counter

    from django.middleware.csrf import CSRF_ALLOWED_CHARS, _unmask_cipher_token

    request = rf.get("/")
    tokens = [pagecache.csrf_token(request) for _ in range(2000)]

    secret = request.META["CSRF_COOKIE"]
    assert len(secret) == 32 and set(secret) <= set(CSRF_ALLOWED_CHARS)
    assert {_unmask_cipher_token(token) for token in tokens} == {secret}
    assert len(set(tokens)) == 2000
    # 64,000 characters over 62: about 1,032 each; a bias from the modulo would show as ±25%.
    counts = Counter("".join(token[:32] for token in tokens))
    assert set(counts) == set(CSRF_ALLOWED_CHARS)
    assert max(counts.values()) < 1.15 * 1032 and min(counts.values()) > 0.85 * 1032


def test_the_cached_page_is_the_page(make_event, settings):
    event = make_event()
    settings.PAGE_CACHE = False
    rendered = Client().get(event.get_absolute_url())
    settings.PAGE_CACHE = True
    Client().get(event.get_absolute_url())

    served = Client().get(event.get_absolute_url())

    assert TOKEN.sub("", served.content.decode()) == TOKEN.sub("", rendered.content.decode())
    assert served["Content-Type"] == rendered["Content-Type"]
    assert served["Content-Security-Policy"] == rendered["Content-Security-Policy"]


def test_a_page_from_the_shared_copy_is_the_page_this_worker_served(make_event):
    event = make_event()
    Client().get(event.get_absolute_url())
    mine = Client().get(event.get_absolute_url())
    key = pagecache.page_key(f"talk:{event.slug}")
    # The shared copy carries the stored page once: not the pieces each worker cuts it into for its hits.
    assert "layout" in vars(pagecache._recent.get(key))
    assert "layout" not in vars(cache.get(key))
    pagecache._recent.clear()

    other = Client().get(event.get_absolute_url())

    assert TOKEN.sub("", other.content.decode()) == TOKEN.sub("", mine.content.decode())
    # Every form of the page has the visitor's own token, a new one.
    tokens = set(TOKEN.findall(other.content.decode()))
    assert len(tokens) == 1 and tokens.isdisjoint(TOKEN.findall(mine.content.decode()))


def _nonce_page(request):
    from django.template import engines

    template = engines["django"].from_string('<script nonce="{{ csp_nonce }}" src="/static/x.js"></script>')
    return pagecache.serve(
        request, key="test:nonce", tags=[pagecache.CONTENT], render=lambda: TemplateResponse(request, template, {})
    )


urlpatterns = [route("nonce/", _nonce_page)]


@pytest.mark.urls(__name__)
def test_every_visitor_of_a_cached_page_gets_a_csp_nonce_of_their_own(db):
    nonces = []
    for _ in range(3):
        response = Client().get("/nonce/")
        nonce = re.search(r'nonce="([^"]+)"', response.content.decode())[1]
        assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
        nonces.append(nonce)

    assert len(set(nonces)) == 3
    assert not any(nonce.startswith("nonce-") for nonce in nonces)  # the stored marker never shows


def test_a_page_without_a_form_sets_no_csrf_cookie(make_event, client):
    make_event()
    client.get("/")

    response = client.get("/")

    assert "csrftoken" not in response.cookies


# Changes show on the next request


def test_registering_and_cancelling_show_at_once(make_event, client):
    event = make_event(capacity=3)
    assert "3 of 3 seats left" in text(client.get(event.get_absolute_url()))

    token = TOKEN.search(client.get(event.get_absolute_url()).text)[1]
    assert register(client, event, token, "ana@example.edu").status_code == 302
    assert "2 of 3 seats left" in text(client.get(event.get_absolute_url()))

    registration = Registration.objects.get(event=event)
    assert client.post(reverse("registrations:cancel", kwargs={"token": registration.token})).status_code == 302
    assert "3 of 3 seats left" in text(client.get(event.get_absolute_url()))


def register_someone(event, email):
    return services.register(event=event, name="Someone", email=email).registration


def test_a_full_talk_shows_its_waiting_list_and_a_freed_seat_at_once(make_event, client):
    event = make_event(capacity=1)
    holder = register_someone(event, "first@example.edu")
    assert "Join the waiting list" in text(client.get(event.get_absolute_url()))
    register_someone(event, "second@example.edu")
    assert "1 person is waiting" in text(client.get(event.get_absolute_url()))

    services.cancel_registration(registration=holder)  # promotes the one waiting

    page = text(client.get(event.get_absolute_url()))
    assert "Join the waiting list" in page
    assert "waiting." not in page


# The seats: the talk page's live part


def json_ld_availability(page: str) -> list[str]:
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)[1])
    offers = data["offers"] if isinstance(data["offers"], list) else [data["offers"]]
    return [offer["availability"].rsplit("/", 1)[1] for offer in offers]


def test_a_sign_up_reads_the_seats_again_and_leaves_the_rest_of_the_page_as_stored(
    make_event, client, django_assert_num_queries
):
    event = make_event(capacity=3)
    client.get(event.get_absolute_url())
    register_someone(event, "first@example.edu")

    # The new token (told to forget the old one, this worker asks the shared cache once), then the talk's
    # seats and waiting lists in one statement: not the page (no speakers, no materials, no questions).
    with django_assert_num_queries(2):
        page = client.get(event.get_absolute_url())
    assert "2 of 3 seats left" in text(page)
    with django_assert_num_queries(0):  # read once per change
        again = client.get(event.get_absolute_url())
    assert "2 of 3 seats left" in text(again)
    assert TOKEN.search(page.text)[1] != TOKEN.search(again.text)[1]
    assert json_ld_availability(page.text) == ["InStock"]


def test_seats_of_a_talk_gone_since_its_page_was_stored_fit_no_page(make_event):
    event = make_event(capacity=3)
    shape, html = read_seats(event.pk)
    assert shape[0] == "open"
    assert "3 of 3 seats left" in text(html)
    pk = event.pk
    event.delete()

    # No shape equals None: the page cache renders the page again, which answers 404.
    assert read_seats(pk) == (None, "")


def test_the_last_seat_taken_renders_the_page_again_with_the_waiting_list(make_event, client):
    event = make_event(capacity=2)
    first = client.get(event.get_absolute_url()).text
    assert ">Register</button>" in first
    register_someone(event, "first@example.edu")
    assert "1 of 2 seats left" in text(client.get(event.get_absolute_url()))
    register_someone(event, "second@example.edu")

    page = client.get(event.get_absolute_url()).text
    assert ">Join the waiting list</button>" in page
    assert "All 2 seats are taken." in text(page)
    assert json_ld_availability(page) == ["SoldOut"]
    # Someone waiting changes the seats only: the page stays the waiting list's.
    register_someone(event, "third@example.edu")
    page = client.get(event.get_absolute_url()).text
    assert "1 person is waiting." in text(page)
    assert ">Join the waiting list</button>" in page


def test_a_hybrid_talk_shows_both_counts_after_a_sign_up(make_event, client):
    event = make_event(capacity=2, attendance_mode=Event.AttendanceMode.HYBRID, online_capacity=5)
    page = text(client.get(event.get_absolute_url()))
    assert "In the room: 2 of 2 seats left" in page
    assert "Online: 5 of 5 places left" in page
    services.register(event=event, name="Online Person", email="online@example.edu", attendance="online")

    page = client.get(event.get_absolute_url()).text
    assert "In the room: 2 of 2 seats left" in text(page)
    assert "Online: 4 of 5 places left" in text(page)
    assert json_ld_availability(page) == ["InStock", "InStock"]


def test_a_hybrid_talk_counts_each_waiting_list_after_a_sign_up(make_event, client):
    event = make_event(capacity=1, attendance_mode=Event.AttendanceMode.HYBRID, online_capacity=1)
    for attendance in ("in_person", "online"):
        services.register(event=event, name="First", email=f"first-{attendance}@example.edu", attendance=attendance)
    services.register(event=event, name="Waiting", email="waiting@example.edu", attendance="in_person")
    assert "1 person is waiting." in text(client.get(event.get_absolute_url()))

    services.register(event=event, name="Waiting online", email="online@example.edu", attendance="online")
    page = client.get(event.get_absolute_url()).text
    assert "2 people are waiting." in text(page)
    assert json_ld_availability(page) == ["SoldOut", "SoldOut"]


def test_the_seats_are_current_in_each_language_and_from_the_shared_copy(make_event):
    event = make_event(capacity=3)
    english, spanish = Client(), Client(headers={"accept-language": "es"})
    english.get(event.get_absolute_url())
    spanish.get(event.get_absolute_url())
    register_someone(event, "first@example.edu")
    # As another worker would, which has only the shared copy.
    pagecache._recent.clear()
    pagecache._recent_parts.clear()

    assert "2 of 3 seats left" in text(english.get(event.get_absolute_url()))
    with translation.override("es"):
        expected = translation.gettext("%(left)s of %(capacity)s seats left") % {"left": 2, "capacity": 3}
    assert expected != "2 of 3 seats left"
    assert expected in text(spanish.get(event.get_absolute_url()))


def test_an_edit_in_the_admin_shows_at_once_on_the_talk_page_and_the_home_page(make_event, client):
    event = make_event(title="The old title")
    assert "The old title" in text(client.get(event.get_absolute_url()))
    assert "The old title" in text(client.get("/"))
    admin = Client()
    admin.force_login(get_user_model().objects.create_superuser("boss", "boss@example.edu", "pw-boss-not-real"))
    url = reverse("admin:events_event_change", args=[event.pk])
    data = dict(form_fields(admin.get(url).content.decode(), "event_form")) | inline_management_data(admin, url)

    response = admin.post(url, data | {"title": "The new title", "_save": "Save"})

    assert response.status_code == 302, response.content.decode()[:2000]
    for page in (client.get(event.get_absolute_url()), client.get("/")):
        assert "The new title" in text(page)
        assert "The old title" not in text(page)


@pytest.mark.parametrize(
    ("edit", "shown", "gone"),
    [
        pytest.param(
            lambda event: _save(event.speakers.get(), name="Renamed Speaker"), "Renamed Speaker", None, id="speaker"
        ),
        pytest.param(lambda event: _save(event.venue, room="GDC 2.216"), "GDC 2.216", "GDC 6.302", id="venue"),
        pytest.param(
            lambda event: _save(event.series, name="Renamed Series"), "Renamed Series", "IFML Seminar", id="series"
        ),
        pytest.param(
            lambda event: event.speakers.add(Speaker.objects.create(name="A Second Speaker")),
            "A Second Speaker",
            None,
            id="speaker added",
        ),
        pytest.param(lambda event: event.speakers.clear(), None, "Atlas Wang", id="speakers cleared"),
        pytest.param(lambda event: event.speakers.get().delete(), None, "Atlas Wang", id="speaker deleted"),
        pytest.param(
            lambda event: Question.objects.create(event=event, label="Any allergies?", position=1),
            "Any allergies?",
            None,
            id="question",
        ),
    ],
)
def test_what_the_pages_show_of_speakers_venues_series_and_questions_is_current(make_event, client, edit, shown, gone):
    event = make_event()
    pages = (event.get_absolute_url(), "/")
    for path in pages:
        client.get(path)

    edit(event)

    talk, home = (text(client.get(path)) for path in pages)
    if shown:
        assert shown in talk
        assert shown in home or shown == "Any allergies?"  # the home page lists no questions
    if gone:
        assert gone not in talk
        # The home page lists the talk's series, room and speakers too (not its questions).
        assert gone not in home


def _save(instance, **fields):
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.save()


def test_a_published_draft_appears_at_once(make_event, client):
    event = make_event(status=Event.Status.DRAFT, title="Soon to be announced")
    assert client.get(event.get_absolute_url()).status_code == 404
    assert "Soon to be announced" not in text(client.get("/"))

    # Even written past the model (no signal, no invalidation): a 404 is never stored.
    Event.objects.filter(pk=event.pk).update(status=Event.Status.PUBLISHED)
    assert client.get(event.get_absolute_url()).status_code == 200

    _save(event, status=Event.Status.PUBLISHED)
    assert "Soon to be announced" in text(client.get("/"))


# Time passes


@pytest.fixture
def clock(monkeypatch):
    """Move the site's clock: clock(timedelta) from now on."""

    real_now = timezone.now

    def move(delta):
        monkeypatch.setattr(timezone, "now", lambda: real_now() + delta)

    return move


def test_registration_closing_shows_without_any_change_in_the_database(make_event, client, clock):
    event = make_event(registration_closes=timezone.now() + datetime.timedelta(hours=1))
    assert "Register" in text(client.get(event.get_absolute_url()))
    assert stored(event)

    clock(datetime.timedelta(hours=2))

    page = text(client.get(event.get_absolute_url()))
    assert "Registration closed on" in page
    # The registration form is gone (the page keeps the series' follow form).
    assert reverse("registrations:register", kwargs={"slug": event.slug}) not in page


def test_a_talk_under_way_and_then_over_moves_on_the_home_page(make_event, client, clock):
    start = timezone.now() + datetime.timedelta(days=1)
    make_event(title="Tomorrow at noon", start=start, end=start + datetime.timedelta(hours=1))
    assert "Happening now" not in text(client.get("/"))

    clock(datetime.timedelta(days=1, minutes=30))
    assert "Happening now" in text(client.get("/"))

    clock(datetime.timedelta(days=1, hours=2))
    assert "Tomorrow at noon" not in text(client.get("/"))
    assert "Tomorrow at noon" in text(client.get(reverse("events:past_event_list")))


# Who gets the stored page


def test_staff_see_their_own_page_and_never_leave_it_for_others(make_event, client):
    event = make_event()
    staff = Client()
    staff.force_login(get_user_model().objects.create_user("door", password="pw-door-not-real", is_staff=True))

    assert "Admin" in text(staff.get(event.get_absolute_url()))

    assert ">Admin<" not in client.get(event.get_absolute_url()).content.decode()
    assert ">Admin<" in staff.get(event.get_absolute_url()).content.decode()


@pytest.mark.parametrize(
    ("cookie", "cacheable"),
    [("", True), ("csrftoken=abc", True), ("sessionid=abc", False), ("messages=abc", False)],
)
def test_visitors_with_a_session_or_a_message_waiting_get_the_page_rendered_for_them(rf, cookie, cacheable):
    # A session: someone logged in (staff see drafts and the admin link). A message: it must be shown.
    assert pagecache.cacheable(rf.get("/", headers={"Cookie": cookie} if cookie else {})) is cacheable
    assert pagecache.cacheable(rf.post("/")) is False


def test_pages_are_stored_per_language(rf, db):
    calls = []

    def render():
        calls.append(translation.get_language())
        return TemplateResponse(rf.get("/"), "404.html", {})

    for language in ("en", "es", "en", "es"):
        with translation.override(language):
            request = rf.get("/")
            pagecache.serve(request, key="test:languages", tags=[pagecache.CONTENT], render=render)

    assert calls == ["en", "es"]


# With the database as the cache: the tokens in the change's own transaction


def test_new_tokens_are_written_in_the_change_s_transaction_and_go_with_its_rollback(db):
    channel = pagecache.state().channel
    key = pagecache.tag_key("talk:in-transaction")

    with pytest.raises(RuntimeError), transaction.atomic():
        assert channel.write_in_transaction(cache, {key: "new"}, using=None)
        assert cache.get(key) == "new"
        raise RuntimeError("the change failed")

    assert cache.get(key) is None


def test_a_registration_writes_the_talk_s_token_before_its_commit(make_event, client, monkeypatch):
    event = make_event(capacity=5)
    key = pagecache.tag_key(pagecache.talk_tag(event.slug))
    token = TOKEN.search(client.get(event.get_absolute_url()).text)[1]
    before = cache.get(key)
    seen, told = [], pagecache.channels.StampChannel.told

    def telling(channel, keys):
        seen.append(cache.get(key))
        told(channel, keys)

    monkeypatch.setattr(pagecache.channels.StampChannel, "told", telling)

    assert register(client, event, token, "ana@example.edu").status_code == 302

    # Written in the registration's transaction: the other processes are told (the stamp) once it is there.
    assert seen and seen[0] not in (None, before)
    assert "4 of 5 seats left" in text(client.get(event.get_absolute_url()))


# When the cache fails


class Unreachable:
    """A cache whose server is down."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("cache down")

        return fail


def test_the_page_is_rendered_when_the_cache_cannot_be_read(make_event, client, monkeypatch):
    event = make_event()
    monkeypatch.setattr(pagecache, "cache", Unreachable())

    response = client.get(event.get_absolute_url())

    assert response.status_code == 200
    assert "40 of 40 seats left" in text(response)


def test_registering_works_when_the_cache_cannot_be_written(make_event, client, monkeypatch, caplog):
    event = make_event()
    token = TOKEN.search(client.get(event.get_absolute_url()).text)[1]
    monkeypatch.setattr(pagecache, "cache", Unreachable())

    assert register(client, event, token, "ana@example.edu").status_code == 302
    assert "Could not invalidate cached pages" in caplog.text


def test_a_lost_token_means_a_fresh_page(make_event, client):
    event = make_event(title="Before")
    client.get(event.get_absolute_url())
    # Written past the model, so nothing invalidates it; then the cache loses the tag.
    Event.objects.filter(pk=event.pk).update(title="After")
    assert "Before" in text(fenced_client().get(event.get_absolute_url()))

    cache.delete(pagecache.tag_key(pagecache.CONTENT))

    # Whoever asks the shared cache next (here: someone who just changed something) gets a new token
    # and a fresh page. (A worker that remembers the old token keeps it: it is told of every change.)
    assert "After" in text(fenced_client().get(event.get_absolute_url()))


def test_only_complete_pages_are_stored(rf, db):
    def render():
        return HttpResponse("not found", status=404)

    response = pagecache.serve(rf.get("/"), key="test:missing", tags=[pagecache.CONTENT], render=render)

    assert response.status_code == 404
    assert cache.get(pagecache.page_key("test:missing")) is None
