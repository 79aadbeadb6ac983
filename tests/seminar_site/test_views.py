"""Error pages: in the site's look, with nothing inline that the CSP would block."""

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client, RequestFactory
from django.urls import reverse

from seminar_site.views import server_error

pytestmark = pytest.mark.django_db


def assert_site_page(response, heading):
    html = response.content.decode()
    assert 'class="site-header"' in html
    assert '<link rel="stylesheet" href="/static/css/site.css">' in html
    assert re.search(rf"<h1>\s*{re.escape(heading)}\s*</h1>", html), html
    assert "<style" not in html
    assert "<script>" not in html


def test_404(client):
    response = client.get("/events/no-such-talk/")
    assert response.status_code == 404
    assert_site_page(response, "Page not found")
    assert reverse("registrations:lost_link") in response.content.decode()


def test_400_for_a_request_with_an_unknown_host(client):
    response = client.get("/", HTTP_HOST="evil.example.com")
    assert response.status_code == 400
    assert_site_page(response, "Bad request")


def test_403_for_a_staff_member_without_permission(client, event):
    user = User.objects.create_user("helper", password="correct horse battery", is_staff=True)
    client.force_login(user)
    response = client.get(reverse("admin:events_event_change", args=[event.pk]))
    assert response.status_code == 403
    assert_site_page(response, "Not allowed")


def test_403_when_the_form_lost_its_csrf_cookie(event):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("registrations:register", kwargs={"slug": event.slug}), {"email": "a@example.edu"})
    assert response.status_code == 403
    assert_site_page(response, "Please try again")
    assert "Nothing was saved" in response.content.decode()


def test_500_page_is_in_the_site_look(client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("events.views.EventListView.get", broken)
    client.raise_request_exception = False
    response = client.get(reverse("events:event_list"))
    assert response.status_code == 500
    assert_site_page(response, "Something went wrong")


def test_500_page_needs_no_database(django_assert_num_queries, settings):
    settings.SITE_NAME = "IFML Seminar"
    request = RequestFactory().get("/")
    with django_assert_num_queries(0):
        response = server_error(request)
    assert response.status_code == 500
    assert_site_page(response, "Something went wrong")
    assert "IFML Seminar" in response.content.decode()
