"""Stand-ins for an email provider's API: the only thing these tests fake."""

import threading

from anymail.backends.test import EmailBackend


class ScriptedBackend(EmailBackend):
    """The anymail test backend, except that it first raises the queued errors, one per send.

    `calls` counts every message handed to the provider, failed or not.
    """

    errors: list = []
    calls = 0
    lock = threading.Lock()

    def post_to_esp(self, payload, message):
        with ScriptedBackend.lock:
            ScriptedBackend.calls += 1
            error = ScriptedBackend.errors.pop(0) if ScriptedBackend.errors else None
        if error is not None:
            raise error
        return super().post_to_esp(payload, message)


class BlockingBackend(EmailBackend):
    """A provider that holds each send until the test releases it, to stage races."""

    entered = threading.Event()
    release = threading.Event()

    def post_to_esp(self, payload, message):
        BlockingBackend.entered.set()
        assert BlockingBackend.release.wait(timeout=30), "the test never released the provider"
        return super().post_to_esp(payload, message)
