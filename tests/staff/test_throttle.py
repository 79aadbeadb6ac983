"""Password guessing is limited per address and per account and address, and slowed (never locked) per account."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model
from django.urls import reverse

from outbox.models import OutgoingMail
from staff import throttle
from staff.models import AuditEntry

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(series, make_team_member):
    user = make_team_member(series, "olivia")
    user.email = "olivia@cs.utexas.example"
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The throttle's clock, held still (a loaded machine must not let the delays run out between requests)."""

    class Clock:
        now = 1_800_000_000.0

        def advance(self, seconds):
            self.now += seconds

    clock = Clock()
    monkeypatch.setattr(throttle, "_now", lambda: clock.now)
    return clock


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.LOGIN_RATE_LIMIT = "10/15m"
    settings.LOGIN_ACCOUNT_RATE_LIMIT = "5/15m"
    settings.LOGIN_SLOWDOWN_ADDRESSES = 5
    settings.REQUIRE_2FA = False


def sign_in(client, username, password, address="198.51.100.7"):
    return client.post(reverse("admin:login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(client, user) -> bool:
    return client.session.get("_auth_user_id") == str(user.pk)


def test_one_address_failing_for_many_accounts_is_stopped(client, owner):
    statuses = [sign_in(client, f"guess{n}", "wrong").status_code for n in range(12)]

    assert statuses == [200] * 10 + [429, 429]
    # That address is the attacker's own: the right password from it waits too.
    refused = sign_in(client, "olivia", PASSWORD)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 15 * 60
    assert not signed_in(client, owner)


def test_one_address_guessing_one_account_is_stopped_there_only(client, owner):
    statuses = [sign_in(client, "Olivia", "wrong", address="203.0.113.5").status_code for _ in range(6)]

    assert statuses == [200] * 5 + [429]
    assert sign_in(client, "olivia", PASSWORD, address="203.0.113.5").status_code == 429
    assert sign_in(client, "olivia", PASSWORD, address="198.51.100.7").status_code == 302
    assert signed_in(client, owner)


def test_wrong_passwords_from_many_addresses_never_stop_the_owner(client, owner, django_capture_on_commit_callbacks):
    # The lockout the limit per username allowed: twelve wrong passwords, twelve addresses.
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(1, 13):
            assert sign_in(client, "olivia", "wrong", address=f"192.0.2.{n}").status_code == 200

    response = sign_in(client, "olivia", PASSWORD, address="198.51.100.7")

    assert response.status_code == 302
    assert signed_in(client, owner)
    # Told once, by email through the outbox; logged once.
    warnings = OutgoingMail.objects.filter(kind="staff.guessing")
    assert [(mail.recipient, mail.status) for mail in warnings] == [("olivia@cs.utexas.example", "sent")]
    assert AuditEntry.objects.filter(kind="account_slowed", user=owner).count() == 1
    assert AuditEntry.objects.filter(kind="sign_in_failed", user=owner).count() == 12


def test_the_attacking_addresses_wait_longer_and_longer(client, owner):
    for n in range(1, 6):
        sign_in(client, "olivia", "wrong", address=f"192.0.2.{n}")

    again = sign_in(client, "olivia", "wrong", address="192.0.2.1")

    assert again.status_code == 429
    first_delay = int(again["Retry-After"])
    for n in range(6, 12):
        sign_in(client, "olivia", "wrong", address=f"192.0.2.{n}")
    later = sign_in(client, "olivia", "wrong", address="192.0.2.1")
    assert later.status_code == 429
    assert int(later["Retry-After"]) > first_delay
    # A fresh address is not held back by the others' failures.
    assert sign_in(client, "olivia", "wrong", address="192.0.2.200").status_code == 200


def test_an_address_that_failed_may_try_again_after_its_delay(client, owner, clock):
    for n in range(1, 6):
        sign_in(client, "olivia", "wrong", address=f"192.0.2.{n}")
    assert sign_in(client, "olivia", PASSWORD, address="192.0.2.3").status_code == 429

    clock.advance(60)

    assert sign_in(client, "olivia", PASSWORD, address="192.0.2.3").status_code == 302


def test_an_account_with_a_second_factor_is_never_slowed(client, owner):
    secret = generate_totp_secret()
    TOTP.activate(owner, secret)
    for n in range(1, 8):
        sign_in(client, "olivia", "wrong", address=f"192.0.2.{n}")

    # Even from an address that failed: the password only leads to the second factor.
    response = sign_in(client, "olivia", PASSWORD, address="192.0.2.2")

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert not signed_in(client, owner)
    assert Authenticator.objects.filter(user=owner).exists()


def test_counters_live_in_the_shared_cache_and_fail_open(client, owner, settings, caplog):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    }

    assert sign_in(client, "olivia", PASSWORD).status_code == 302
    assert "could not be read" in caplog.text


def test_off_switches_the_limits_off(client, owner, settings):
    settings.LOGIN_RATE_LIMIT = "off"
    settings.LOGIN_ACCOUNT_RATE_LIMIT = "off"

    statuses = {sign_in(client, "olivia", "wrong").status_code for _ in range(12)}

    assert statuses == {200}


def test_unknown_usernames_are_counted_like_real_ones(client, owner):
    statuses = [sign_in(client, "nobody-here", "wrong", address="203.0.113.9").status_code for _ in range(6)]

    assert statuses == [200] * 5 + [429]
    assert get_user_model().objects.filter(username="nobody-here").count() == 0
