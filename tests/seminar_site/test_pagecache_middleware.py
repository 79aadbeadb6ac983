"""PageCacheMiddleware: a page this worker knows is current, answered before the URL resolver and the view.

What a visitor must not notice: the page, its headers, their token and
cookie, the metrics. What must still reach the view: anyone the page cache
does not serve, and any page that changed.
"""

import re
import time

import pytest
from django.test import Client
from django.urls import reverse
from prometheus_client import REGISTRY

from events.models import Event
from events.views import EventDetailView
from registrations.models import Registration
from seminar_site import pagecache

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def views(monkeypatch):
    """The talk page's view calls, one entry per request that reached it."""
    calls = []
    get = EventDetailView.get

    def counting(self, request, *args, **kwargs):
        calls.append(request.get_full_path())
        return get(self, request, *args, **kwargs)

    monkeypatch.setattr(EventDetailView, "get", counting)
    return calls


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_current_page_is_answered_without_its_view_and_with_every_header_of_a_rendered_one(
    make_event, views, settings, django_assert_num_queries
):
    event = make_event(capacity=5)
    settings.PAGE_CACHE = False
    rendered = Client().get(event.get_absolute_url())
    settings.PAGE_CACHE = True
    Client().get(event.get_absolute_url())  # stored
    assert len(views) == 2

    with django_assert_num_queries(0):
        served = Client().get(event.get_absolute_url())

    assert len(views) == 2  # the view never ran
    assert served.status_code == 200
    assert TOKEN.sub("", served.content.decode()) == TOKEN.sub("", rendered.content.decode())
    # Every header the middleware around the view adds (security, CSP, language, clickjacking, length)
    # is there, with the same value; only the request's id, and the CSP nonce (none on this page), differ.
    personal = {"X-Request-ID"}
    assert {k: v for k, v in served.headers.items() if k not in personal} == {
        k: v for k, v in rendered.headers.items() if k not in personal
    }
    assert served["X-Frame-Options"] == "DENY"
    assert int(served["Content-Length"]) == len(served.content)


def test_a_page_answered_early_is_counted_under_its_view(make_event, views):
    event = make_event()
    Client().get(event.get_absolute_url())
    requests = {
        method: sample("seminar_http_requests_total", view="events:event_detail", method=method, status="200")
        for method in ("GET", "HEAD")
    }
    hits = sample("seminar_page_cache_requests_total", page="talk", result="hit")

    Client().get(event.get_absolute_url())
    Client().head(event.get_absolute_url())

    assert len(views) == 1
    for method, before in requests.items():
        assert sample("seminar_http_requests_total", view="events:event_detail", method=method, status="200") == (
            before + 1
        )
    assert sample("seminar_page_cache_requests_total", page="talk", result="hit") == hits + 2


def test_each_visitor_answered_early_gets_their_own_token_and_cookie_and_can_register(make_event, views):
    event = make_event(capacity=5)
    Client().get(event.get_absolute_url())
    visitor = Client(enforce_csrf_checks=True)

    page = visitor.get(event.get_absolute_url())
    again = visitor.get(event.get_absolute_url())

    assert len(views) == 1
    first, second = TOKEN.search(page.text)[1], TOKEN.search(again.text)[1]
    assert first != second and "Cookie" in page["Vary"]
    response = visitor.post(
        reverse("registrations:register", kwargs={"slug": event.slug}),
        {"csrfmiddlewaretoken": second, "name": "Zoë Ñúñez, Jr.", "email": "zoe@example.edu", "consent": "on"},
    )
    assert response.status_code == 302
    assert Registration.objects.get(event=event).name == "Zoë Ñúñez, Jr."


def test_a_changed_page_goes_to_its_view_and_the_next_visitor_sees_the_change(make_event, views, client):
    event = make_event(capacity=5)
    Client().get(event.get_absolute_url())
    Event.objects.filter(pk=event.pk).update(title="A new <title> & more")
    event.refresh_from_db()
    event.save()  # as the admin saves: the content's token moves

    page = Client().get(event.get_absolute_url())

    assert len(views) == 2
    assert "A new &lt;title&gt; &amp; more" in page.text


def test_a_talk_unpublished_since_is_no_longer_answered_early(make_event, views):
    event = make_event()
    Client().get(event.get_absolute_url())
    event.status = Event.Status.DRAFT
    event.save()

    assert Client().get(event.get_absolute_url()).status_code == 404
    assert Client().get(event.get_absolute_url()).status_code == 404
    assert len(views) == 3


def test_a_sign_up_s_seats_are_on_the_next_page_answered_early(make_event, views):
    event = make_event(capacity=5)
    Client().get(event.get_absolute_url())
    visitor = Client()
    token = TOKEN.search(visitor.get(event.get_absolute_url()).text)[1]
    visitor.post(
        reverse("registrations:register", kwargs={"slug": event.slug}),
        {"csrfmiddlewaretoken": token, "name": "Ana López", "email": "ana@example.edu", "consent": "on"},
    )

    first = Client().get(event.get_absolute_url())  # the worker asks the shared cache for the new token
    page = Client().get(event.get_absolute_url())

    assert len(views) == 2
    for shown in (first, page):
        assert "4 of 5 seats left" in " ".join(shown.text.split())


@pytest.mark.parametrize(
    "visitor",
    [
        pytest.param(lambda: Client(HTTP_COOKIE=f"{pagecache.FENCE_COOKIE}={time.time() + 5}"), id="fenced"),
        pytest.param(lambda: Client(HTTP_COOKIE="sessionid=abc"), id="session"),
        pytest.param(lambda: Client(HTTP_COOKIE="messages=abc"), id="message waiting"),
    ],
)
def test_visitors_the_cache_does_not_serve_from_memory_reach_the_view(make_event, views, visitor):
    event = make_event()
    Client().get(event.get_absolute_url())

    assert visitor().get(event.get_absolute_url()).status_code == 200

    assert len(views) == 2


def test_another_query_string_or_language_reaches_the_view_once(make_event, views):
    event = make_event()
    url = event.get_absolute_url()
    Client().get(url)

    for _ in range(2):
        Client().get(f"{url}?utm_source=mail&x=%3Cscript%3E")
        spanish = Client(HTTP_ACCEPT_LANGUAGE="es").get(url)

    assert views == [url, f"{url}?utm_source=mail&x=%3Cscript%3E", url]
    assert spanish["Content-Language"] == "es"
    assert 'lang="es"' in spanish.text


def test_with_the_page_cache_off_every_request_reaches_the_view(make_event, views, settings):
    event = make_event()
    Client().get(event.get_absolute_url())
    settings.PAGE_CACHE = False

    Client().get(event.get_absolute_url())

    assert len(views) == 2
