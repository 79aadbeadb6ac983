"""The language switcher: one POST from the site's own page, remembered, and refused from anywhere else."""

import re

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

ORIGIN = {"HTTP_ORIGIN": "http://testserver"}


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode())[1]


def switch(client, language, next_url="/", **headers):
    return client.post("/language/", {"language": language, "next": next_url}, **headers)


def test_every_page_offers_both_languages_each_named_in_itself(client, event):
    page = client.get(event.get_absolute_url()).content.decode()

    form = re.search(r'<form class="language-switcher" action="/language/" method="post">(.*?)</form>', page, re.S)[1]
    assert f'name="next" value="{event.get_absolute_url()}"' in form
    assert re.search(r'<button type="submit" name="language" value="en" lang="en"[^>]*aria-current="true"', form)
    assert re.search(r'<button type="submit" name="language" value="es" lang="es"[^>]*>Español</button>', form)


def test_switching_to_spanish_returns_to_the_page_in_spanish_and_is_remembered(client, event):
    response = switch(client, "es", event.get_absolute_url(), **ORIGIN)

    assert response.status_code == 302
    assert response["Location"] == event.get_absolute_url()
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "es"
    assert cookie["max-age"] == settings.LANGUAGE_COOKIE_AGE
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"

    # The choice outranks the browser's own language, on every page after.
    for url in (event.get_absolute_url(), "/", "/past/"):
        assert html_lang(client.get(url, HTTP_ACCEPT_LANGUAGE="en-US,en")) == "es"

    switch(client, "en", "/", **ORIGIN)
    assert html_lang(client.get("/", HTTP_ACCEPT_LANGUAGE="es")) == "en"


def test_the_switch_and_the_page_cache_agree(client, event):
    url = event.get_absolute_url()
    assert html_lang(client.get(url)) == "en"  # the English page is now stored

    switch(client, "es", url, **ORIGIN)

    assert html_lang(client.get(url)) == "es"
    switch(client, "en", url, **ORIGIN)
    assert html_lang(client.get(url)) == "en"


@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_ORIGIN": "https://evil.example.com"}, {"HTTP_ORIGIN": "null"}, {"HTTP_ORIGIN": "https://testserver"}],
)
def test_a_switch_posted_from_another_site_is_refused_and_changes_nothing(client, headers):
    response = switch(client, "es", "/", **headers)

    assert response.status_code == 403
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert html_lang(client.get("/")) == "en"


def test_the_switch_goes_back_only_to_this_site(client):
    response = switch(client, "es", "https://evil.example.com/phish", **ORIGIN)

    assert response.status_code == 302
    assert not response["Location"].startswith("https://evil")


def test_an_unknown_language_changes_nothing(client):
    response = switch(client, "xx", "/", **ORIGIN)

    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert html_lang(client.get("/")) == "en"


def test_the_switch_only_takes_a_post(client):
    assert client.get("/language/?language=es", **ORIGIN).status_code == 405


def test_a_trusted_origin_may_switch(client, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://www.example.edu"]

    response = switch(client, "es", "/", HTTP_ORIGIN="https://www.example.edu")

    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
