import datetime

import pytest
from django.core import mail

from events.models import Event, Venue
from events.services import cancel_event
from outbox.models import OutgoingMail
from registrations.invites import invite_uid
from registrations.models import MailKind, Registration, RegistrationLog
from tests.mime import html_body, invite, invite_parts, sent, text_body


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


def test_room_change_sends_one_update_per_confirmed_registrant_and_tells_the_waiting_list(
    event, people, django_capture_on_commit_callbacks
):
    other_room = Venue.objects.create(room="GDC 4.304", building="Gates Dell Complex", default_capacity=60)
    talk = reload(event)
    talk.venue = other_room
    with django_capture_on_commit_callbacks(execute=True):
        talk.save()

    by_address = {m["To"].addresses[0].addr_spec: m for m in sent()}
    assert sorted(by_address) == ["ana@example.edu", "wang@example.edu", "wes@example.edu"] and len(sent()) == 3
    # Waiting for a seat: told of the new place, with no calendar entry to update.
    waiting = by_address.pop("wes@example.edu")
    assert invite_parts(waiting) == [] and "GDC 4.304" in text_body(waiting)
    assert "whose waiting list you are on" in text_body(waiting) and "Leave the waiting list" in text_body(waiting)
    for message in by_address.values():
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

    messages = [m for m in sent() if invite_parts(m)]  # (the waiting list is told too, without an invite)
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

    messages = [m for m in sent() if invite_parts(m)]  # (the waiting list is told too, without an invite)
    assert len(messages) == 2 and len(sent()) == 3
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


def test_the_organizers_reason_reaches_confirmed_and_waiting_people_alike(
    event, people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        cancel_event(event=event, note="The speaker is ill.\nWe will reschedule in spring.")

    messages = sent()
    assert len(messages) == 3
    for message in messages:
        assert "The organizers write:\nThe speaker is ill.\nWe will reschedule in spring.\n" in text_body(message)
        assert "The speaker is ill.<br>We will reschedule in spring.</blockquote>" in html_body(message)


def test_the_cancelling_invite_says_why_in_the_calendar_too(event, people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        cancel_event(event=event, note="The speaker is ill.\nWe will reschedule in spring.")

    invites = [invite(message)[1] for message in sent() if invite_parts(message)]
    assert len(invites) == 2
    for vevent in invites:
        assert str(vevent["DESCRIPTION"]).startswith(
            "This talk was cancelled.\nThe speaker is ill.\nWe will reschedule in spring.\n\n"
        )


def test_a_talk_cancelled_without_a_reason_says_nothing_of_one(event, people, django_capture_on_commit_callbacks):
    talk = reload(event)
    talk.status = Event.Status.CANCELLED
    with django_capture_on_commit_callbacks(execute=True):
        talk.save()

    for message in sent():
        assert "The organizers write:" not in text_body(message)
        assert "<blockquote" not in html_body(message)


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


@pytest.mark.parametrize("through_a_draft", [False, True])
def test_a_cancelled_talk_published_again_is_on_again_for_everyone_told_it_was_cancelled(
    event, people, through_a_draft, django_capture_on_commit_callbacks
):
    confirmed, waiting = people
    Event.objects.filter(pk=event.pk).update(capacity=2, seats_taken=2)  # full: Wes waits
    talk = reload(event)
    talk.status = Event.Status.CANCELLED
    with django_capture_on_commit_callbacks(execute=True):
        talk.save()
    cancelled = {m["To"].addresses[0].addr_spec: invite(m)[1] for m in sent() if invite_parts(m)}
    mail.outbox.clear()
    if through_a_draft:
        talk.status = Event.Status.DRAFT
        with django_capture_on_commit_callbacks(execute=True):
            talk.save()
    talk.status = Event.Status.PUBLISHED
    with django_capture_on_commit_callbacks(execute=True):
        talk.save()

    by_address = {m["To"].addresses[0].addr_spec: m for m in sent()}
    assert sorted(by_address) == ["ana@example.edu", "wang@example.edu", "wes@example.edu"] and len(sent()) == 3
    assert all(m["Subject"].startswith("On again:") for m in by_address.values())
    for registration in confirmed:
        calendar, vevent, _ = invite(by_address[registration.email])
        previous = cancelled[registration.email]
        # The entry the cancelling invite removed comes back: same UID, a higher SEQUENCE.
        assert str(calendar["METHOD"]) == "REQUEST" and str(vevent["STATUS"]) == "CONFIRMED"
        assert str(vevent["UID"]) == str(previous["UID"]) and vevent["SEQUENCE"] > previous["SEQUENCE"]
    assert invite_parts(by_address["wes@example.edu"]) == []
    assert "waiting list again, in your place" in text_body(by_address["wes@example.edu"])
    history = list(RegistrationLog.objects.filter(registration=waiting).values_list("action", flat=True))
    assert history[-2:] == [RegistrationLog.Action.TALK_CANCELLED, RegistrationLog.Action.TALK_ON_AGAIN]


def test_seats_freed_while_a_talk_was_cancelled_go_to_its_waiting_list_when_it_is_on_again(
    make_event, sign_up, django_capture_on_commit_callbacks
):
    from registrations import services

    full = make_event(capacity=1)
    sign_up(full, email="first@example.edu")
    waiting = sign_up(full, email="waiting@example.edu")
    talk = reload(full)
    talk.status = Event.Status.CANCELLED
    with django_capture_on_commit_callbacks(execute=True):
        talk.save()
    services.change_capacity(event=talk, capacity=2)  # nobody is promoted into a cancelled talk
    assert Registration.objects.get(pk=waiting.pk).status == Registration.Status.WAITLISTED

    talk = reload(full)
    talk.status = Event.Status.PUBLISHED
    with django_capture_on_commit_callbacks(execute=True):
        talk.save()

    assert Registration.objects.get(pk=waiting.pk).status == Registration.Status.CONFIRMED
    newcomer = services.register(event=reload(full), name="Late", email="late@example.edu").registration
    assert newcomer.status == Registration.Status.WAITLISTED


OLD_LINK = "https://utexas.zoom.us/j/111?pwd=Old"
NEW_LINK = "https://utexas.zoom.us/j/222?pwd=New"


@pytest.fixture
def hybrid(make_event, sign_up, django_capture_on_commit_callbacks):
    """A hybrid talk with one person in the room, one online and one waiting for the only online place."""
    talk = make_event(attendance_mode="hybrid", stream_url=OLD_LINK, online_capacity=1, slug="hybrid-talk")
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(talk, name="Rita", email="room@example.edu", attendance="in_person")
        sign_up(talk, name="Omar", email="online@example.edu", attendance="online")
        sign_up(talk, name="Wes", email="waiting@example.edu", attendance="online")
    mail.outbox.clear()
    return reload(talk)


def readable(message) -> str:
    """Every text a person or a calendar reads in `message` (bodies, invite, attached .ics), decoded."""
    parts = [part for part in message.walk() if not part.is_multipart()]
    return "\n".join(
        part.get_content() if part.get_content_maintype() == "text" else part.get_content().decode()
        for part in parts
        if part.get_content_maintype() == "text" or part.get_content_type() == "application/ics"
    )


def test_one_save_with_a_new_time_and_a_new_link_is_one_email_each(hybrid, django_capture_on_commit_callbacks):
    hybrid.start += datetime.timedelta(hours=2)
    hybrid.end += datetime.timedelta(hours=2)
    hybrid.stream_url = NEW_LINK
    with django_capture_on_commit_callbacks(execute=True):
        hybrid.save()

    messages = sent()
    recipients = [m["To"].addresses[0].addr_spec for m in messages]
    assert sorted(recipients) == ["online@example.edu", "room@example.edu", "waiting@example.edu"]
    by_address = dict(zip(recipients, messages, strict=True))
    online, room, waiting = (by_address[a] for a in ("online@example.edu", "room@example.edu", "waiting@example.edu"))
    for message in (online, room):
        _calendar, vevent, _part = invite(message)
        assert vevent["SEQUENCE"] == 1
        assert vevent["DTSTART"].dt == hybrid.start.replace(microsecond=0)
    _calendar, vevent, _part = invite(online)
    assert str(vevent["LOCATION"]) == str(vevent["URL"]) == NEW_LINK
    assert "The link to join this talk online has changed. The new one:\n\n" + NEW_LINK in text_body(online)
    assert OLD_LINK not in readable(online)
    assert invite_parts(waiting) == []
    for message in (room, waiting):
        assert "zoom.us" not in readable(message)
    assert sorted(Registration.objects.values_list("invite_sequence", flat=True)) == [0, 1, 1]
    # One message queued per registrant (each sent at most once by the outbox), none for the link alone.
    queued = OutgoingMail.objects.filter(kind=MailKind.EVENT_CHANGED).values_list("about_id", flat=True)
    assert sorted(queued) == sorted(Registration.objects.filter(event=hybrid).values_list("pk", flat=True))
    assert not OutgoingMail.objects.filter(kind=MailKind.STREAM_LINK).exists()


def test_one_save_that_puts_a_cancelled_talk_back_with_a_new_link_is_one_email_each(
    hybrid, django_capture_on_commit_callbacks
):
    hybrid.status = Event.Status.CANCELLED
    with django_capture_on_commit_callbacks(execute=True):
        hybrid.save()
    mail.outbox.clear()

    hybrid.status = Event.Status.PUBLISHED
    hybrid.stream_url = NEW_LINK
    with django_capture_on_commit_callbacks(execute=True):
        hybrid.save()

    messages = sent()
    assert sorted(m["To"].addresses[0].addr_spec for m in messages) == [
        "online@example.edu",
        "room@example.edu",
        "waiting@example.edu",
    ]
    assert all(m["Subject"].startswith("On again:") for m in messages)
    (online,) = [m for m in messages if m["To"].addresses[0].addr_spec == "online@example.edu"]
    _calendar, vevent, _part = invite(online)
    assert vevent["SEQUENCE"] == 2 and str(vevent["URL"]) == NEW_LINK
    assert NEW_LINK in text_body(online)
