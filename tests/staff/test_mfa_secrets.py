import importlib

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from staff import mfa_secrets

from . import totp
from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

OLD_KEY, NEW_KEY = "the key before the rotation " * 2, "the key after the rotation " * 2


@pytest.fixture(autouse=True)
def _defaults(settings):
    settings.PASSWORD_LOGIN = True
    settings.REQUIRE_2FA = False
    settings.BREAK_GLASS_USERS = []
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD_KEY, []


def stored(user, kind=Authenticator.Type.TOTP) -> dict:
    """An authenticator's data as the database holds it (what a dump or a backup would show)."""
    return Authenticator.objects.filter(user=user, type=kind).values_list("data", flat=True).get()


def signs_in_with(client, user, code: str) -> bool:
    client.logout()
    response = client.post(
        reverse("admin:login"), {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="198.51.100.7"
    )
    assert response["Location"] == reverse("mfa_authenticate")
    client.post(reverse("mfa_authenticate"), {"code": code})
    return client.session.get("_auth_user_id") == str(user.pk)


def test_an_enrolled_totp_secret_is_stored_encrypted_and_its_codes_sign_in(client, olivia, settings):
    settings.REQUIRE_2FA = True
    assert client.post(reverse("admin:login"), {"username": "olivia", "password": PASSWORD}).status_code == 302
    secret = client.get(reverse("mfa_activate_totp")).context["form"].secret
    assert client.post(reverse("mfa_activate_totp"), {"code": totp.code(secret)}).status_code == 302

    data = stored(olivia)
    assert data["secret"].startswith("gAAAAA")
    assert secret not in str(data) and secret.lower() not in str(data).lower()
    settings.REQUIRE_2FA = False
    cache.clear()  # a code is refused a second time within its step: as if the next step had come
    assert signs_in_with(client, olivia, totp.code(secret))


def test_recovery_codes_come_from_an_encrypted_seed_and_still_sign_in(client, olivia):
    TOTP.activate(olivia, generate_totp_secret())
    codes = RecoveryCodes.activate(olivia).get_unused_codes()

    data = stored(olivia, Authenticator.Type.RECOVERY_CODES)
    assert data["seed"].startswith("gAAAAA")
    assert signs_in_with(client, olivia, codes[0])
    assert not signs_in_with(client, olivia, codes[0])  # used once
    assert RecoveryCodes(Authenticator.objects.get(user=olivia, type="recovery_codes")).get_unused_codes() == codes[1:]


def test_a_secret_stored_in_clear_text_before_still_works_and_the_command_encrypts_it(client, olivia):
    secret = generate_totp_secret()
    Authenticator.objects.create(user=olivia, type=Authenticator.Type.TOTP, data={"secret": secret})

    assert signs_in_with(client, olivia, totp.code(secret))
    call_command("reencrypt_second_factors")

    assert stored(olivia)["secret"].startswith("gAAAAA")
    assert mfa_secrets.decrypt(stored(olivia)["secret"]) == secret
    cache.clear()  # as if the next step had come
    assert signs_in_with(client, olivia, totp.code(secret))


def test_a_rotated_secret_key_keeps_second_factors_working_and_the_command_moves_them_to_the_new_key(
    client, olivia, settings
):
    secret = generate_totp_secret()
    TOTP.activate(olivia, secret)
    before = stored(olivia)["secret"]
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]

    assert signs_in_with(client, olivia, totp.code(secret))
    call_command("reencrypt_second_factors")
    after = stored(olivia)["secret"]
    assert after != before
    settings.SECRET_KEY_FALLBACKS = []

    assert mfa_secrets.decrypt(after) == secret
    with pytest.raises(mfa_secrets.SecretUnreadable):
        mfa_secrets.decrypt(before)
    # Run again: nothing left to move.
    call_command("reencrypt_second_factors")
    assert stored(olivia)["secret"] == after


def test_without_the_old_key_the_command_says_what_to_do_and_changes_nothing(olivia, settings):
    TOTP.activate(olivia, generate_totp_secret())
    before = stored(olivia)
    settings.SECRET_KEY = NEW_KEY

    with pytest.raises(CommandError, match="SECRET_KEY_FALLBACKS"):
        call_command("reencrypt_second_factors")

    assert stored(olivia) == before


def test_a_code_whose_secret_no_key_opens_signs_nobody_in_and_the_log_says_what_to_do(olivia, settings, caplog):
    secret = generate_totp_secret()
    TOTP.activate(olivia, secret)
    settings.SECRET_KEY = NEW_KEY  # rotated, the old key left out of SECRET_KEY_FALLBACKS
    client = Client(raise_request_exception=False)
    client.post(reverse("admin:login"), {"username": "olivia", "password": PASSWORD}, REMOTE_ADDR="198.51.100.7")

    response = client.post(reverse("mfa_authenticate"), {"code": totp.code(secret)})

    assert response.status_code == 500
    assert "_auth_user_id" not in client.session
    assert "put the previous key back in SECRET_KEY_FALLBACKS" in caplog.text


def test_a_tampered_secret_is_refused_not_read():
    token = mfa_secrets.encrypt("JBSWY3DPEHPK3PXP")
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]

    assert mfa_secrets.decrypt(token) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(mfa_secrets.SecretUnreadable):
        mfa_secrets.decrypt(tampered)


def test_the_migration_encrypts_what_it_finds_and_undoing_it_leaves_clear_text(olivia):
    from django.apps import apps

    migration = importlib.import_module("staff.migrations.0002_encrypt_second_factors")
    schema_editor = type("SchemaEditor", (), {"connection": connection})()
    secret, seed = generate_totp_secret(), RecoveryCodes.generate_seed()
    Authenticator.objects.create(user=olivia, type=Authenticator.Type.TOTP, data={"secret": secret})
    Authenticator.objects.create(
        user=olivia, type=Authenticator.Type.RECOVERY_CODES, data={"seed": seed, "used_mask": 5}
    )

    migration.encrypt(apps, schema_editor)

    assert stored(olivia)["secret"].startswith("gAAAAA")
    codes = stored(olivia, Authenticator.Type.RECOVERY_CODES)
    assert codes["seed"].startswith("gAAAAA") and codes["used_mask"] == 5

    migration.decrypt(apps, schema_editor)

    assert stored(olivia) == {"secret": secret}
    assert stored(olivia, Authenticator.Type.RECOVERY_CODES) == {"seed": seed, "used_mask": 5}
