"""Security headers on every kind of page: public, error, admin."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

pytestmark = pytest.mark.django_db


def csp_directives(response):
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def assert_strict_headers(response):
    directives = csp_directives(response)
    assert directives["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert "'unsafe-inline'" not in directives["style-src"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    permissions = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in permissions
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Request-ID"]


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("admin", "admin@example.edu", "correct horse battery")


def test_home_page(client):
    response = client.get(reverse("events:event_list"))
    assert response.status_code == 200
    assert_strict_headers(response)


def test_talk_page(client, event):
    response = client.get(event.get_absolute_url())
    assert response.status_code == 200
    assert_strict_headers(response)


def test_404_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert_strict_headers(response)


def test_429_page(client, event, settings):
    settings.REGISTRATION_RATE_LIMIT = "1/h"
    url = reverse("registrations:register", kwargs={"slug": event.slug})
    client.post(url, {"email": "a@example.edu"})
    response = client.post(url, {"email": "b@example.edu"})
    assert response.status_code == 429
    assert_strict_headers(response)


def test_500_page(client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("events.views.EventListView.get", broken)
    client.raise_request_exception = False
    response = client.get(reverse("events:event_list"))
    assert response.status_code == 500
    assert_strict_headers(response)


def test_admin_login_page(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 200
    assert_strict_headers(response)


def test_admin_pages(client, superuser, event):
    client.force_login(superuser)
    for url in (
        reverse("admin:index"),
        reverse("admin:events_event_changelist"),
        reverse("admin:events_event_change", args=[event.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict_headers(response)


def test_the_self_service_page_sends_no_referrer_to_other_sites(client, event):
    from registrations import services

    registration = services.register(event=event, name="Ana", email="ana@example.edu").registration
    response = client.get(registration.get_absolute_url())
    assert response.status_code == 200
    # same-origin: links from the page to any other site carry no Referer, so the token stays here.
    assert response["Referrer-Policy"] == "same-origin"
    assert "Cache-Control" in response and "no-store" in response["Cache-Control"]
