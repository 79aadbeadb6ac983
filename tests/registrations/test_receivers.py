import datetime

import pytest
from django.core import mail

from events.models import Event, Venue
from outbox.models import OutgoingMail
from registrations.invites import invite_uid
from registrations.models import MailKind, Registration, RegistrationLog
from tests.mime import invite, invite_parts, sent, text_body


@pytest.fixture
def people(event, django_capture_on_commit_callbacks):
    """Two confirmed registrants (confirmations delivered), one waiting, one cancelled."""
    from registrations.mail import queue

    confirmed = [
        Registration.objects.create(event=event, name=name, email=email, status=Registration.Status.CONFIRMED)
        for name, email in [("Ana", "ana@example.edu"), ("王小明", "wang@example.edu")]
    ]
    waiting = Registration.objects.create(
        event=event, name="Wes", email="wes@example.edu", status=Registration.Status.WAITLISTED
    )
    Registration.objects.create(
        event=event,
        name="Cleo",
        email="cleo@example.edu",
        status=Registration.Status.CANCELLED,
        cancelled_at=event.start - datetime.timedelta(days=3),
    )
    with django_capture_on_commit_callbacks(execute=True):
        for registration in confirmed:
            queue(registration=registration, kind=MailKind.CONFIRMATION)
    mail.outbox.clear()
    return confirmed, waiting


def reload(event):
    return Event.objects.get(pk=event.pk)


def test_title_only_change_sends_nothing(event, people, django_capture_on_commit_callbacks):
    talk = reload(event)
    talk.title = "A new title"
    talk.abstract = "A new abstract"
    with django_capture_on_commit_callbacks(execute=True):
        talk.save()

    assert mail.outbox == []
    assert reload(event).sequence == 0
    assert not OutgoingMail.objects.filter(kind=MailKind.EVENT_CHANGED).exists()


def test_room_change_sends_one_update_per_confirmed_registrant(event, people, django_capture_on_commit_callbacks):
    other_room = Venue.objects.create(room="GDC 4.304", building="Gates Dell Complex", default_capacity=60)
    talk = reload(event)
    talk.venue = other_room
    with django_capture_on_commit_callbacks(execute=True):
        talk.save()

    messages = sent()
    assert sorted(m["To"].addresses[0].addr_spec for m in messages) == ["ana@example.edu", "wang@example.edu"]
    for message in messages:
        assert message["Subject"].startswith("Updated time or place:")
        assert "GDC 4.304" in text_body(message)
        calendar, vevent, part = invite(message)
        assert part.get_param("method") == str(calendar["METHOD"]) == "REQUEST"
        assert str(vevent["LOCATION"]) == "GDC 4.304, Gates Dell Complex"
        assert vevent["SEQUENCE"] == 1  # the confirmation carried 0


def test_renaming_the_venue_room_updates_its_upcoming_talks(
    event, people, make_event, django_capture_on_commit_callbacks
):
    past_talk = make_event(start=event.start - datetime.timedelta(days=60))
    venue = Venue.objects.get(pk=event.venue_id)
    venue.room = "GDC 2.216"
    with django_capture_on_commit_callbacks(execute=True):
        venue.save()

    messages = sent()
    assert sorted(m["To"].addresses[0].addr_spec for m in messages) == ["ana@example.edu", "wang@example.edu"]
    for message in messages:
        _calendar, vevent, _part = invite(message)
        assert str(vevent["LOCATION"]) == "GDC 2.216, Gates Dell Complex"
        assert vevent["SEQUENCE"] == 1
    assert reload(event).sequence == 1
    assert reload(past_talk).sequence == 0


def test_venue_edit_that_keeps_the_place_sends_nothing(event, people, django_capture_on_commit_callbacks):
    venue = Venue.objects.get(pk=event.venue_id)
    venue.default_capacity = 100
    with django_capture_on_commit_callbacks(execute=True):
        venue.save()

    assert mail.outbox == []
    assert reload(event).sequence == 0


def test_moving_the_start_sends_updates_with_new_time(event, people, django_capture_on_commit_callbacks):
    talk = reload(event)
    talk.start += datetime.timedelta(hours=2)
    talk.end += datetime.timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        talk.save()

    messages = sent()
    assert len(messages) == 2
    for message in messages:
        assert invite(message)[1]["DTSTART"].dt == talk.start.replace(microsecond=0)


def test_cancelled_talk_reaches_waitlisted_people_too(event, people, django_capture_on_commit_callbacks):
    talk = reload(event)
    talk.status = Event.Status.CANCELLED
    with django_capture_on_commit_callbacks(execute=True):
        talk.save()

    by_address = {m["To"].addresses[0].addr_spec: m for m in sent()}
    assert sorted(by_address) == ["ana@example.edu", "wang@example.edu", "wes@example.edu"]
    for message in by_address.values():
        assert message["Subject"].startswith("Talk cancelled:")
    for address in ["ana@example.edu", "wang@example.edu"]:
        calendar, vevent, part = invite(by_address[address])
        assert part.get_param("method") == str(calendar["METHOD"]) == "CANCEL"
        assert str(vevent["STATUS"]) == "CANCELLED"
    assert invite_parts(by_address["wes@example.edu"]) == []
    assert "waiting list" in text_body(by_address["wes@example.edu"])


def test_uid_stable_and_sequence_rising_from_confirmation_to_change_to_cancellation(
    event, sign_up, django_capture_on_commit_callbacks
):
    from registrations import services

    with django_capture_on_commit_callbacks(execute=True):
        registration = sign_up(event, name="Ana", email="ana@example.edu")
    talk = reload(event)
    talk.start += datetime.timedelta(days=1)
    talk.end += datetime.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        talk.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_registration(registration=registration)

    messages = sent()
    assert [m["Subject"].split(":")[0] for m in messages] == [
        "Registered",
        "Updated time or place",
        "Registration cancelled",
    ]
    invites = [invite(m) for m in messages]
    assert {str(vevent["UID"]) for _, vevent, _ in invites} == {invite_uid(registration)}
    sequences = [vevent["SEQUENCE"] for _, vevent, _ in invites]
    assert sequences == sorted(set(sequences)) and len(sequences) == 3
    assert [str(calendar["METHOD"]) for calendar, _, _ in invites] == ["REQUEST", "REQUEST", "CANCEL"]
    assert [part.get_param("method") for _, _, part in invites] == ["REQUEST", "REQUEST", "CANCEL"]


def test_rolled_back_change_sends_nothing(event, people, django_capture_on_commit_callbacks):
    from django.db import transaction

    talk = reload(event)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        talk.start += datetime.timedelta(hours=1)
        talk.end += datetime.timedelta(hours=1)
        talk.save()
        raise RuntimeError("admin form failed later")

    assert mail.outbox == []


# What the outbox reports about a registrant's messages


def test_bounce_reported_by_the_provider_flags_the_registration(client, settings, event, outbox_row):
    from tests.outbox.test_receivers import auth, bounce, post

    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}
    registration = Registration.objects.create(
        event=event, name="Ana", email="ana@example.edu", status=Registration.Status.CONFIRMED
    )
    sent_mail = outbox_row(
        registration, MailKind.CONFIRMATION, status=OutgoingMail.Status.SENT, provider_message_id="883953f4-6105"
    )

    assert post(client, bounce(sent_mail.provider_message_id), **auth("hook:s3cret")).status_code == 200
    assert post(client, bounce(sent_mail.provider_message_id), **auth("hook:s3cret")).status_code == 200

    registration.refresh_from_db()
    assert registration.email_bounced_at is not None
    logs = RegistrationLog.objects.filter(action=RegistrationLog.Action.EMAIL_BOUNCED)
    assert [log.registration for log in logs] == [registration, registration]
    assert "Confirmation: bounced" in logs[0].note


def test_message_failing_for_good_is_in_the_registration_history(event, settings, django_capture_on_commit_callbacks):
    from anymail.exceptions import AnymailRecipientsRefused

    from registrations.mail import queue
    from tests.outbox.providers import ScriptedBackend

    settings.MAILERS = {"default": {"BACKEND": "tests.outbox.providers.ScriptedBackend"}}
    ScriptedBackend.errors = [AnymailRecipientsRefused("All message recipients were rejected")]
    registration = Registration.objects.create(
        event=event, name="Ana", email="ana@example.edu", status=Registration.Status.CONFIRMED
    )
    with django_capture_on_commit_callbacks(execute=True):
        queue(registration=registration, kind=MailKind.CONFIRMATION)

    log = RegistrationLog.objects.get(action=RegistrationLog.Action.EMAIL_FAILED)
    assert log.registration == registration
    assert "rejected" in log.note
    assert mail.outbox == []
