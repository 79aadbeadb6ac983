"""The page's language: the browser's Accept-Language, English by default; dates and errors follow it."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from events.when import talk_when
from registrations.models import Registration
from seminar_site import i18n, pagecache

pytestmark = pytest.mark.django_db

SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es-MX,es;q=0.9,en;q=0.5"}


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode())[1]


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def form_data(**overrides):
    return {
        "name": "Lucía Pérez",
        "email": "lucia@unam.mx",
        "affiliation": "UNAM",
        "position": "student",
        "consent": "on",
        "website": "",
    } | overrides


# Which language


@pytest.mark.parametrize(
    ("asked", "expected"),
    [("es", "es"), ("es-AR", "es"), ("ES", "es"), ("en-GB", "en"), ("fr", "en"), ("", "en"), (None, "en")],
)
def test_a_language_is_one_the_site_speaks_else_english(asked, expected):
    assert i18n.supported(asked) == expected


def test_in_language_writes_in_the_recipients_language_and_then_goes_back():
    with translation.override("en"):
        with i18n.in_language("es"):
            assert translation.gettext("Upcoming talks") == "Próximas charlas"
        with i18n.in_language("klingon"):
            assert translation.gettext("Upcoming talks") == "Upcoming talks"
        assert translation.get_language() == "en"


def test_a_spanish_browser_gets_the_talk_page_in_spanish(client, event):
    response = client.get(event.get_absolute_url(), **SPANISH)

    assert response.status_code == 200
    assert html_lang(response) == "es"
    assert response["Content-Language"] == "es"
    page = text(response)
    for spanish in ("Próximas charlas", "Inscripción", "Cuándo", "Dónde", "Resumen", "Inscribirme", "Nombre"):
        assert spanish in page
    assert "Upcoming talks" not in page
    # The talk's own texts stay as written.
    assert event.title in page
    assert event.abstract in page


def test_an_english_or_unknown_browser_gets_english(client, event):
    for accept in ("en-US,en;q=0.9", "fr-FR,fr;q=0.9", ""):
        response = client.get(event.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=accept)
        assert html_lang(response) == "en"
        assert "Register" in text(response)


def test_talk_dates_are_written_in_the_pages_language(client, make_event):
    event = make_event()
    spanish = text(client.get(event.get_absolute_url(), **SPANISH))
    english = text(client.get(event.get_absolute_url()))

    with translation.override("es"):
        assert talk_when(event) in spanish
    with translation.override("en"):
        assert talk_when(event) in english
    assert re.search(r"\d{2}:\d{2} – \d{2}:\d{2}", spanish)  # the 24-hour clock
    assert re.search(r"\d{1,2}:\d{2} [AP]M", english)


def test_form_errors_come_back_in_spanish_and_nothing_is_saved(client, event):
    response = client.post(
        reverse("registrations:register", kwargs={"slug": event.slug}),
        form_data(name="\u200b", email="no es un correo", consent=""),
        **SPANISH,
    )

    assert response.status_code == 400
    assert html_lang(response) == "es"
    page = text(response)
    assert "Revisa el formulario" in page
    assert "Escribe tu nombre." in page
    assert "Escribe una dirección de correo válida." in page  # the site speaks tú, Django's own Spanish usted
    assert "Acepta el aviso de privacidad para que podamos guardar tu inscripción." in page
    assert "Please" not in page
    assert Registration.objects.count() == 0


def test_a_refusal_by_the_rules_is_written_in_spanish(client, make_event):
    event = make_event(status="cancelled")

    response = client.post(reverse("registrations:register", kwargs={"slug": event.slug}), form_data(), **SPANISH)

    assert response.status_code == 400
    assert "Esta charla se canceló, así que la inscripción está cerrada." in text(response)
    assert Registration.objects.count() == 0


def test_registering_in_spanish_keeps_spanish_as_the_registrants_language(
    client, event, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registrations:register", kwargs={"slug": event.slug}), form_data(), **SPANISH)

    assert response.status_code == 302
    registration = Registration.objects.get()
    assert registration.language == "es"
    assert "Gracias, tu lugar está confirmado" in text(client.get(response["Location"], **SPANISH))
    (message,) = mail.outbox
    assert message.subject.startswith(f"Inscripción confirmada: {event.title} (")


def test_registering_in_english_keeps_english(client, event):
    client.post(reverse("registrations:register", kwargs={"slug": event.slug}), form_data())

    assert Registration.objects.get().language == "en"


# The page cache keeps one copy per language


def test_the_page_cache_keeps_each_language_apart(client, event):
    url = event.get_absolute_url()
    key = f"talk:{event.slug}"

    assert html_lang(client.get(url, **SPANISH)) == "es"
    assert html_lang(client.get(url)) == "en"

    # Both are stored, each under its own language, and each is served as stored.
    from django.core.cache import cache

    assert cache.get(pagecache.page_key(key, "es")) is not None
    assert cache.get(pagecache.page_key(key, "en")) is not None
    assert html_lang(client.get(url, **SPANISH)) == "es"
    assert "Inscribirme" in text(client.get(url, **SPANISH))
    assert "Register" in text(client.get(url))


def test_public_pages_still_set_no_csrf_cookie_with_the_switcher_on_them(client, event):
    for url in ("/", "/past/", event.get_absolute_url()):
        client.get(url, **SPANISH)
        response = client.get(url, **SPANISH)
        assert 'action="/language/"' in response.content.decode()
    response = client.get("/", **SPANISH)
    assert "csrftoken" not in response.cookies


# What shared caches keep follows the browser, never the switcher's cookie


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("es-MX,es;q=0.9", "es"), ("fr-FR, es;q=0.5", "es"), ("en-US", "en"), ("*", "en"), ("", "en")],
)
def test_the_browser_language_comes_from_accept_language_alone(rf, accept, expected):
    request = rf.get("/", HTTP_ACCEPT_LANGUAGE=accept)
    request.COOKIES["django_language"] = "es" if expected == "en" else "en"

    assert i18n.browser_language(request) == expected


@pytest.mark.parametrize("url", ["/talks.json", "/series/ifml-seminar/talks.json", "/series/ifml-seminar/embed/"])
def test_publicly_cached_listings_follow_accept_language_not_the_cookie(client, event, url):
    client.cookies["django_language"] = "es"

    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en-US")
    spanish = client.get(url, **SPANISH)

    assert "public" in english["Cache-Control"]
    assert "Accept-Language" in english["Vary"]
    assert (english["Content-Language"], spanish["Content-Language"]) == ("en", "es")
    assert english.content != spanish.content
    for response, language in ((english, "en"), (spanish, "es")):
        with translation.override(language):
            assert talk_when(event) in response.content.decode()
