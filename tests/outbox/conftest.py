import pytest

from outbox import registry
from outbox.compose import compose, mailbox
from outbox.services import queue_mail

NOTE = "tests.note"


def build_note(mail):
    return compose(
        to=[mailbox(mail.data.get("name", ""), mail.recipient)],
        subject=f"Note {mail.data.get('number', mail.pk)}",
        text=mail.data.get("text", "Hello."),
        html="<p>Hello.</p>",
    )


def note_still_wanted(mail):
    return mail.data.get("unwanted", "")


@pytest.fixture
def note_kind(db):
    """A message kind of a stand-in app: the outbox knows no app, so its tests bring their own."""
    registry.register_kind(NOTE, label="Test note", build=build_note, still_wanted=note_still_wanted)
    yield NOTE
    registry.unregister_kind(NOTE)


@pytest.fixture
def queue_note(db, note_kind):
    def queue(to="ana@example.edu", **data):
        return queue_mail(kind=NOTE, to=to, data=data)

    return queue


@pytest.fixture
def scripted_provider(settings):
    from .providers import ScriptedBackend

    settings.MAILERS = {"default": {"BACKEND": "tests.outbox.providers.ScriptedBackend"}}
    ScriptedBackend.errors = []
    ScriptedBackend.calls = 0
    return ScriptedBackend
