"""The talk page stays light and self-contained: what a phone on a slow network loads."""

from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from events.models import Event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# HTML + CSS + JavaScript of the talk page, uncompressed.
BUDGET_BYTES = 100_000
COUNTED = {"document", "stylesheet", "script"}


def test_talk_page_is_under_100_kb_and_asks_no_other_host(page, live_server):
    call_command("load_demo", stdout=None)
    event = Event.objects.get()

    page.goto(event.get_absolute_url(), wait_until="networkidle")

    own_host = urlsplit(live_server.url).netloc
    foreign = [request.url for request in page.requests if urlsplit(request.url).netloc != own_host]
    assert foreign == []
    weights = {}
    for request in page.requests:
        response = request.response()
        assert response is not None and response.ok, request.url
        if request.resource_type in COUNTED:
            weights[request.url] = len(response.body())
    assert any(url.endswith(".css") for url in weights)
    total = sum(weights.values())
    assert total < BUDGET_BYTES, f"{total} bytes: {weights}"
