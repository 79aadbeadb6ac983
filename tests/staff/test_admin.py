"""The sign-in and team log in the admin: superusers read it; nobody changes it; addresses are masked."""

import datetime

import pytest
from django.urls import reverse

from staff.models import AuditEntry
from tests.html import change_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(organizer):
    return AuditEntry.objects.create(
        kind=AuditEntry.Kind.SIGN_IN_FAILED, user=organizer, username="olivia", address="192.0.2.0/24"
    )


def test_superusers_read_the_log(admin_client, entry):
    page = admin_client.get(reverse("admin:staff_auditentry_changelist")).content.decode()

    assert "Sign-in failed" in page and "192.0.2.0/24" in page
    assert admin_client.get(reverse("admin:staff_auditentry_change", args=[entry.pk])).status_code == 200


def test_the_log_writes_when_with_the_zone_and_sorts_by_it(admin_client):
    for username, moment in (("winter", (2026, 12, 15, 17)), ("summer", (2026, 7, 1, 16))):
        AuditEntry.objects.create(
            kind=AuditEntry.Kind.SIGN_IN_FAILED, username=username, at=datetime.datetime(*moment, tzinfo=datetime.UTC)
        )
    url = reverse("admin:staff_auditentry_changelist")

    # Signing the admin in is logged too: the failed sign-ins only.
    listing = change_list(admin_client.get(url, {"kind__exact": "sign_in_failed"}).content.decode())

    assert listing.column("at") == ["Tue 15 Dec 2026, 11:00 AM CST", "Wed 1 Jul 2026, 11:00 AM CDT"]
    oldest_first = change_list(admin_client.get(url + listing.sort_links["at"]).content.decode())
    assert oldest_first.column("username") == ["summer", "winter"]


def test_nobody_changes_or_deletes_it(admin_client, entry):
    assert admin_client.get(reverse("admin:staff_auditentry_add")).status_code == 403
    assert (
        admin_client.post(reverse("admin:staff_auditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    )
    response = admin_client.post(reverse("admin:staff_auditentry_change", args=[entry.pk]), {"username": "x"})
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.username == "olivia"


def test_organizers_do_not_see_it(client, organizer, entry):
    client.force_login(organizer)

    assert client.get(reverse("admin:staff_auditentry_changelist")).status_code == 403
    assert "Sign-in and team log" not in client.get(reverse("admin:index")).content.decode()


def test_sign_ins_are_logged_masked(client, organizer, settings):
    settings.REQUIRE_2FA = False
    organizer.set_password("correct horse battery")
    organizer.save()

    client.post(
        reverse("admin:login"),
        {"username": "olivia@cs.utexas.example", "password": "x"},
        REMOTE_ADDR="2001:db8:85a3:1234::7",
    )
    client.post(
        reverse("admin:login"), {"username": "olivia", "password": "correct horse battery"}, REMOTE_ADDR="203.0.113.77"
    )

    failed, signed_in = AuditEntry.objects.order_by("pk").filter(kind__in=["sign_in_failed", "signed_in"])
    assert (failed.username, failed.address) == ("[email]", "2001:db8:85a3::/48")
    assert (signed_in.user, signed_in.address) == (organizer, "203.0.113.0/24")
