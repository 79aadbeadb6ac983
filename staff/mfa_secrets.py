"""Second-factor secrets at rest: encrypted, so that a copy of the database alone yields no second factor.

allauth keeps each TOTP secret, and the seed the recovery codes are derived
from, in its Authenticator rows, and passes them through the MFA adapter's
encrypt() and decrypt() (staff/adapters.py), which call these.

The keys are Fernet keys (AES with an HMAC, from `cryptography`) derived from
SECRET_KEY and from each of SECRET_KEY_FALLBACKS: text is encrypted with the
first and read with any of them. Rotating SECRET_KEY as the README says keeps
every second factor working; `manage.py reencrypt_second_factors` then writes
them all under the new key, before the old one leaves SECRET_KEY_FALLBACKS.

Text that is not a Fernet token (one starts "gAAAAA"; a TOTP secret is
base32 capitals, a recovery seed hexadecimal) was written before secrets were
encrypted, or by a release without this during a rolling deploy: it is read
as it is, and encrypted by the next `reencrypt_second_factors` (migration
staff.0002 runs it once).
"""

import base64
import logging
from collections.abc import Callable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import transaction
from django.utils.crypto import salted_hmac

logger = logging.getLogger(__name__)

# What every Fernet token starts with: its version byte and the high bytes of its time, in base64.
_TOKEN_PREFIX = "gAAAAA"  # noqa: S105 (a format marker, not a secret)
_KEY_SALT = "staff.mfa_secrets"


class SecretUnreadable(Exception):
    """A stored secret was encrypted with a key that is no longer SECRET_KEY or in SECRET_KEY_FALLBACKS."""


def _fernet(secret_key: str) -> Fernet:
    digest = salted_hmac(_KEY_SALT, "fernet", secret=secret_key, algorithm="sha256").digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _keys() -> MultiFernet:
    # Read at each call: settings may change (tests, a rotation picked up by a restart).
    return MultiFernet([_fernet(key) for key in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)])


def is_encrypted(text: str) -> bool:
    return text.startswith(_TOKEN_PREFIX)


def encrypt(text: str) -> str:
    """`text` encrypted with the key derived from SECRET_KEY."""
    return _fernet(settings.SECRET_KEY).encrypt(text.encode()).decode()


def decrypt(text: str) -> str:
    """What `encrypt` was given; text that is no token is returned as it is (see the module's docstring).

    Raises SecretUnreadable when no key derived from SECRET_KEY or SECRET_KEY_FALLBACKS opens it:
    the person cannot use this second factor until the old key is back among the fallbacks. Failing
    loudly beats the alternative: a recovery seed read as empty would give codes anyone can compute.
    """
    if not is_encrypted(text):
        return text
    try:
        return _keys().decrypt(text.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "A second factor's secret was encrypted with a key that is neither SECRET_KEY nor in "
            "SECRET_KEY_FALLBACKS: put the previous key back in SECRET_KEY_FALLBACKS, then run "
            "`manage.py reencrypt_second_factors` before removing it."
        ) from None


def _secret_fields(data: dict) -> list[tuple[object, object]]:
    """(container, key) of every secret in an Authenticator's data: the TOTP secret, the recovery codes' seed,
    and the codes of recovery codes migrated from another library (allauth keeps them one by one)."""
    found = [(data, name) for name in ("secret", "seed") if isinstance(data.get(name), str)]
    migrated = data.get("migrated_codes")
    if isinstance(migrated, list):
        found += [(migrated, index) for index, code in enumerate(migrated) if isinstance(code, str)]
    return found


def reencrypt_all(authenticator_model, *, using: str = "default") -> int:
    """Write every second factor's secrets encrypted under the current SECRET_KEY; return how many rows changed.

    `authenticator_model` is allauth's Authenticator (or the historical model in a migration). Secrets
    still in clear text are encrypted; secrets under a fallback key are encrypted again under the current
    one. Raises SecretUnreadable, writing nothing more, at the first secret no key opens.
    """
    current = _fernet(settings.SECRET_KEY)

    def under_current_key(value: str) -> str | None:
        if is_encrypted(value):
            try:
                current.decrypt(value.encode())
                return None  # already
            except InvalidToken:
                value = decrypt(value)
        return encrypt(value)

    changed = _rewrite_secrets(authenticator_model, using, under_current_key)
    if changed:
        logger.info("Second-factor secrets encrypted under the current key: %d authenticators", changed)
    return changed


def decrypt_all(authenticator_model, *, using: str = "default") -> int:
    """Write every second factor's secrets in clear text again (migration staff.0002 undone, for a release
    before it); return how many rows changed. Raises SecretUnreadable as `decrypt` does."""
    return _rewrite_secrets(authenticator_model, using, lambda value: decrypt(value) if is_encrypted(value) else None)


def _rewrite_secrets(authenticator_model, using: str, rewrite: Callable[[str], str | None]) -> int:
    """Give each secret of each authenticator to `rewrite` (None: keep it); save the rows that changed.

    Each row is locked while it is rewritten, so a sign-in marking a recovery code used meanwhile is not undone.
    """
    changed = 0
    for pk in authenticator_model.objects.using(using).values_list("pk", flat=True).order_by("pk"):
        with transaction.atomic(using=using):
            row = authenticator_model.objects.using(using).select_for_update().filter(pk=pk).first()
            if row is None or not isinstance(row.data, dict):
                continue
            updated = False
            for container, key in _secret_fields(row.data):
                value = rewrite(container[key])
                if value is not None:
                    container[key], updated = value, True
            if updated:
                row.save(update_fields=["data"])
                changed += 1
    return changed
