import datetime

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from followers import services
from followers.models import Follower
from outbox.models import OutgoingMail

pytestmark = pytest.mark.django_db


def test_stopped_and_never_confirmed_addresses_are_erased_after_their_time(
    series, confirmed_follower, ask_to_follow, settings
):
    settings.FOLLOWER_RETENTION_DAYS = 30
    kept = confirmed_follower(series, "kept@example.edu")
    left_long_ago = confirmed_follower(series, "old@example.edu")
    left_lately = confirmed_follower(series, "late@example.edu")
    ask_to_follow(series, "never@example.edu")
    services.unsubscribe(follower=left_long_ago)
    services.unsubscribe(follower=left_lately)
    Follower.objects.filter(pk=left_long_ago.pk).update(unsubscribed_at=timezone.now() - datetime.timedelta(days=31))
    Follower.objects.filter(email="never@example.edu").update(
        confirmation_sent_at=timezone.now() - datetime.timedelta(days=settings.FOLLOW_LINK_DAYS + 1)
    )
    unsubscribe_path = left_long_ago.unsubscribe_path

    call_command("erase_old_followers")

    remaining = set(Follower.objects.values_list("email", flat=True))
    assert remaining == {"kept@example.edu", "late@example.edu", ""}
    assert Follower.objects.filter(erased_at__isnull=False).count() == 2
    assert not OutgoingMail.objects.filter(recipient__in=["old@example.edu", "never@example.edu"]).exists()
    assert Client().get(unsubscribe_path).status_code == 404
    assert kept.pk in Follower.objects.confirmed().values_list("pk", flat=True)


def test_dry_run_erases_nothing(series, confirmed_follower):
    follower = confirmed_follower(series, "old@example.edu")
    services.unsubscribe(follower=follower)

    call_command("erase_old_followers", "--days", "0", "--dry-run")

    assert Follower.objects.get().email == "old@example.edu"
