import re

import pytest
from django.core import mail
from django.urls import reverse

from followers import services
from followers.models import Follower
from tests.mime import sent, text_body


def follow_url(series) -> str:
    return reverse("followers:follow", kwargs={"slug": series.slug})


def link_in(message, path_prefix: str) -> str:
    """The first link of our site under `path_prefix` in the text part of a parsed message, as a path."""
    match = re.search(r"https://seminars\.example\.edu(" + re.escape(path_prefix) + r"\S+)", text_body(message))
    assert match, f"no {path_prefix} link in the message"
    return match.group(1)


def messages_to(address: str):
    return [message for message in sent() if message["To"].addresses[0].addr_spec == address]


@pytest.fixture
def ask_to_follow(client, django_capture_on_commit_callbacks):
    """Post the follow form as a visitor would; the confirmation (if any) is delivered."""

    def ask(series, email, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(follow_url(series), {"follow-email": email}, **extra)

    return ask


@pytest.fixture
def confirmed_follower(django_capture_on_commit_callbacks):
    """A follower who confirmed their address, through the services; no mail left in the outbox list."""

    def make(series, email, *, announcements=True, digest=True):
        with django_capture_on_commit_callbacks(execute=True):
            follower = services.follow(series=series, email=email)
            follower = services.confirm(follower=follower, wants_announcements=announcements, wants_digest=digest)
        mail.outbox.clear()
        return Follower.objects.get(pk=follower.pk)

    return make
