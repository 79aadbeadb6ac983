"""An authenticator app, for the tests: RFC 6238 codes computed here, not by the library under test."""

import base64
import hmac
import struct
import time

STEP = 30


def code(secret: str, *, at: float | None = None) -> str:
    """The 6-digit code an authenticator app shows for the base32 `secret` now (or at `at`)."""
    now = time.time() if at is None else at
    if at is None and STEP - now % STEP < 2:
        # A code typed in the last second of its step may arrive in the next one.
        time.sleep(STEP - now % STEP + 0.1)
        now = time.time()
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(now // STEP)), "sha1").digest()
    offset = digest[-1] & 0x0F
    value = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{value:06d}"


def wrong_code(secret: str) -> str:
    return f"{(int(code(secret)) + 1) % 1_000_000:06d}"
