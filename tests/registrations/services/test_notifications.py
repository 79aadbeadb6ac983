import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.models import Event
from outbox.models import OutgoingMail
from outbox.tasks import deliver_mail
from registrations import services
from registrations.mail import reminder_key
from registrations.models import MailKind, Registration, RegistrationLog
from tests.mime import invite_parts, sent
from tests.registrations.services.records import mail_kinds

pytestmark = pytest.mark.django_db


# Reminders


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def talk(make_event, now):
    return make_event(start=now + datetime.timedelta(days=3))


def registrant(event, *, registered_at, status=Registration.Status.CONFIRMED, email="ana@example.edu"):
    registration = Registration.objects.create(event=event, name="Ana", email=email, status=status)
    Registration.objects.filter(pk=registration.pk).update(created_at=registered_at)
    return registration


def run_reminders(now, capture):
    with capture(execute=True):
        return services.queue_due_reminders(now=now)


def test_reminder_goes_out_24_hours_before_once(talk, now, django_capture_on_commit_callbacks):
    registrant(talk, registered_at=now - datetime.timedelta(days=1))
    reminder_time = talk.start - datetime.timedelta(hours=24)

    assert run_reminders(reminder_time - datetime.timedelta(minutes=1), django_capture_on_commit_callbacks) == 0
    assert run_reminders(reminder_time, django_capture_on_commit_callbacks) == 1
    assert run_reminders(reminder_time + datetime.timedelta(hours=1), django_capture_on_commit_callbacks) == 0

    (message,) = sent()
    assert message["Subject"].startswith(f"Reminder: {talk.title}")
    assert invite_parts(message) == []
    assert OutgoingMail.objects.get(kind=MailKind.REMINDER).once_key == reminder_key(talk.start)


def test_no_reminder_for_late_registrants_waitlist_or_cancelled_talks(
    talk, make_event, now, django_capture_on_commit_callbacks
):
    reminder_time = talk.start - datetime.timedelta(hours=24)
    registrant(talk, registered_at=reminder_time + datetime.timedelta(minutes=5), email="late@example.edu")
    registrant(
        talk,
        registered_at=now,
        status=Registration.Status.WAITLISTED,
        email="waiting@example.edu",
    )
    cancelled_talk = make_event(start=talk.start, status=Event.Status.CANCELLED)
    registrant(cancelled_talk, registered_at=now, email="early@example.edu")

    assert run_reminders(reminder_time + datetime.timedelta(hours=1), django_capture_on_commit_callbacks) == 0
    assert mail.outbox == []


def test_reminder_is_retimed_when_the_talk_moves(talk, now, django_capture_on_commit_callbacks):
    registrant(talk, registered_at=now)
    first_reminder = talk.start - datetime.timedelta(hours=24)
    assert run_reminders(first_reminder, django_capture_on_commit_callbacks) == 1

    moved = Event.objects.get(pk=talk.pk)
    moved.start += datetime.timedelta(days=7)
    moved.end += datetime.timedelta(days=7)
    with django_capture_on_commit_callbacks(execute=True):
        moved.save()

    assert run_reminders(first_reminder + datetime.timedelta(hours=2), django_capture_on_commit_callbacks) == 0
    assert run_reminders(moved.start - datetime.timedelta(hours=24), django_capture_on_commit_callbacks) == 1
    subjects = [m["Subject"].split(":")[0] for m in sent()]
    assert subjects == ["Reminder", "Updated time or place", "Reminder"]


def test_reminder_queued_before_a_move_is_not_sent_for_the_old_time(talk, now, outbox_row):
    registration = registrant(talk, registered_at=now)
    stale = outbox_row(registration, MailKind.REMINDER, reminder_for=talk.start)
    Event.objects.filter(pk=talk.pk).update(start=talk.start - datetime.timedelta(hours=1))

    assert deliver_mail.call(stale.pk) == OutgoingMail.Status.SKIPPED
    assert mail.outbox == []


def test_reminder_time_is_a_setting_read_at_call_time(talk, now, settings, django_capture_on_commit_callbacks):
    registrant(talk, registered_at=now)
    settings.REMINDER_BEFORE = datetime.timedelta(hours=2)

    assert run_reminders(talk.start - datetime.timedelta(hours=3), django_capture_on_commit_callbacks) == 0
    assert run_reminders(talk.start - datetime.timedelta(hours=2), django_capture_on_commit_callbacks) == 1


def test_each_reminder_queued_writes_one_history_entry(talk, now, django_capture_on_commit_callbacks):
    reminder_time = talk.start - datetime.timedelta(hours=24)
    ana = registrant(talk, registered_at=now - datetime.timedelta(days=1))
    late = registrant(talk, registered_at=reminder_time + datetime.timedelta(minutes=5), email="late@example.edu")
    waiting = registrant(talk, registered_at=now, status=Registration.Status.WAITLISTED, email="wait@example.edu")

    assert run_reminders(reminder_time, django_capture_on_commit_callbacks) == 1
    assert run_reminders(reminder_time + datetime.timedelta(hours=1), django_capture_on_commit_callbacks) == 0

    (entry,) = RegistrationLog.objects.filter(action=RegistrationLog.Action.REMINDER_SENT)
    assert entry.registration == ana
    assert entry.get_action_display() == "Reminder before the talk sent"
    assert (entry.from_status, entry.to_status) == (Registration.Status.CONFIRMED, Registration.Status.CONFIRMED)
    assert not RegistrationLog.objects.filter(registration__in=[late, waiting]).exists()


def test_a_reminder_another_sweep_queued_meanwhile_writes_no_second_entry(
    talk, now, monkeypatch, django_capture_on_commit_callbacks
):
    registrant(talk, registered_at=now - datetime.timedelta(days=1))
    reminder_time = talk.start - datetime.timedelta(hours=24)
    assert run_reminders(reminder_time, django_capture_on_commit_callbacks) == 1
    # As if this sweep read the registrations before the other one queued: only the outbox's once-key stops it.
    monkeypatch.setattr(
        "registrations.services.notifications.reminders_sent", lambda start: OutgoingMail.objects.filter(pk=-1)
    )

    assert run_reminders(reminder_time + datetime.timedelta(minutes=1), django_capture_on_commit_callbacks) == 0
    assert OutgoingMail.objects.filter(kind=MailKind.REMINDER).count() == 1
    assert RegistrationLog.objects.filter(action=RegistrationLog.Action.REMINDER_SENT).count() == 1


# resend_links ("Lost your link?")


def test_resend_links_queues_one_link_per_active_registration_and_logs_it(make_event, sign_up):
    waiting_for = make_event(capacity=0, waitlist_enabled=True)
    confirmed, waitlisted = sign_up(make_event(), email="ana@ut.edu"), sign_up(waiting_for, email="ana@ut.edu")
    OutgoingMail.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))

    assert services.resend_links(email="  ANA@ut.edu") == 2

    for registration in (confirmed, waitlisted):
        assert MailKind.RESEND in mail_kinds(registration)
        entry = registration.log.latest("created_at")
        assert entry.action == RegistrationLog.Action.CONFIRMATION_RESENT
        assert entry.note == "Asked for the link again."


def test_resend_links_leaves_out_cancelled_talks_erased_and_fresh_registrations(make_event, sign_up):
    called_off = make_event()
    sign_up(called_off, email="ana@ut.edu")
    Event.objects.filter(pk=called_off.pk).update(status=Event.Status.CANCELLED)
    erased = sign_up(make_event(), email="ana@ut.edu")
    OutgoingMail.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))
    services.erase_personal_data(registrations=[erased])
    sign_up(make_event(), email="ana@ut.edu")  # confirmed minutes ago: its confirmation is on the way

    assert services.resend_links(email="ana@ut.edu") == 0
    assert services.resend_links(email="") == 0
    assert not OutgoingMail.objects.filter(kind=MailKind.RESEND).exists()


@pytest.fixture
def past_talk(make_event, sign_up):
    """A talk that is over, `ago` days ago, with `email` registered (confirmed) before it."""

    def past_talk(ago: int, email: str = "ana@ut.edu", **fields):
        fields.setdefault("title", f"A talk of {ago} days ago")
        event = make_event(start=timezone.now() - datetime.timedelta(days=ago), **fields)
        registration = sign_up(event, email=email, now=event.start - datetime.timedelta(days=1))
        OutgoingMail.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))
        return registration

    return past_talk


def listed(mail: OutgoingMail) -> list[int]:
    return mail.data["listed"]


def test_resend_links_sends_one_message_for_the_past_talks_with_a_seat_newest_first(past_talk, make_event, sign_up):
    older, newer = past_talk(30), past_talk(2, email="ANA@ut.edu")
    left = past_talk(3)
    Registration.objects.filter(pk=left.pk).update(status=Registration.Status.CANCELLED, cancelled_at=timezone.now())
    Registration.objects.filter(pk=past_talk(4).pk).update(status=Registration.Status.WAITLISTED)
    services.erase_personal_data(registrations=[past_talk(5)])
    called_off = past_talk(6)
    Event.objects.filter(pk=called_off.event_id).update(status=Event.Status.CANCELLED)
    past_talk(7, email="someone.else@ut.edu")
    OutgoingMail.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))

    assert services.resend_links(email=" ana@UT.edu ") == 1

    message = OutgoingMail.objects.get(kind=MailKind.PAST_TALKS)
    assert message.about == newer and message.recipient == "ANA@ut.edu"
    assert listed(message) == [newer.pk, older.pk]
    for registration in (newer, older):
        entry = registration.log.latest("created_at")
        assert entry.action == RegistrationLog.Action.LINK_RESENT
        assert entry.note == "Asked for the links to past talks."
    assert not RegistrationLog.objects.filter(registration=left, action=RegistrationLog.Action.LINK_RESENT).exists()


def test_past_talks_and_upcoming_ones_each_get_their_message(past_talk, make_event, sign_up):
    gone = past_talk(2)
    coming = sign_up(make_event(), email="ana@ut.edu")
    OutgoingMail.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))

    assert services.resend_links(email="ana@ut.edu") == 2

    assert MailKind.RESEND in mail_kinds(coming) and MailKind.RESEND not in mail_kinds(gone)
    assert listed(OutgoingMail.objects.get(kind=MailKind.PAST_TALKS)) == [gone.pk]


def test_asking_again_within_the_resend_interval_sends_the_past_talks_once(past_talk):
    past_talk(2)

    assert services.resend_links(email="ana@ut.edu") == 1
    assert services.resend_links(email="ana@ut.edu") == 0
    OutgoingMail.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))
    assert services.resend_links(email="ana@ut.edu") == 1

    assert OutgoingMail.objects.filter(kind=MailKind.PAST_TALKS).count() == 2


def test_a_regular_gets_one_message_with_their_newest_past_talks(past_talk, monkeypatch):
    from registrations.services import notifications

    monkeypatch.setattr(notifications, "PAST_TALKS_IN_ONE_MESSAGE", 2)
    registrations = [past_talk(ago) for ago in (9, 2, 5)]

    assert services.resend_links(email="ana@ut.edu") == 1

    assert listed(OutgoingMail.objects.get(kind=MailKind.PAST_TALKS)) == [registrations[1].pk, registrations[2].pk]


def test_the_past_talks_message_lists_what_is_still_true_when_it_goes_out(past_talk):
    kept, erased = past_talk(2), past_talk(3)
    services.resend_links(email="ana@ut.edu")
    services.erase_personal_data(registrations=[erased])
    mail.outbox.clear()

    deliver_mail.call(OutgoingMail.objects.get(kind=MailKind.PAST_TALKS).pk)

    (message,) = sent()
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert kept.manage_url in body and erased.event.title not in body
    assert invite_parts(message) == []


def test_the_past_talks_message_is_skipped_when_none_it_lists_has_a_seat_any_more(past_talk):
    listed_once = past_talk(2)
    services.resend_links(email="ana@ut.edu")
    Registration.objects.filter(pk=listed_once.pk).update(status=Registration.Status.WAITLISTED)
    mail.outbox.clear()

    deliver_mail.call(OutgoingMail.objects.get(kind=MailKind.PAST_TALKS).pk)

    message = OutgoingMail.objects.get(kind=MailKind.PAST_TALKS)
    assert message.status == OutgoingMail.Status.SKIPPED
    assert message.last_error == "None of the registrations it lists has a seat any more."
    assert mail.outbox == []


def test_sending_the_past_talks_message_asks_the_same_queries_for_one_talk_or_many(past_talk):
    def sending(email: str, talks: int) -> int:
        for ago in range(2, 2 + talks):
            past_talk(ago, email=email)
        services.resend_links(email=email)
        message = OutgoingMail.objects.get(kind=MailKind.PAST_TALKS, recipient=email)
        with CaptureQueriesContext(connection) as queries:
            deliver_mail.call(message.pk)
        assert OutgoingMail.objects.get(pk=message.pk).status == OutgoingMail.Status.SENT
        return len(queries)

    assert sending("one@ut.edu", 1) == sending("many@ut.edu", 4)


# Talk updates: what the history says was sent


@pytest.mark.parametrize(
    ("changed", "note"),
    [
        ({"start", "end"}, "New time"),
        ({"end"}, "New time"),
        ({"venue"}, "New place"),
        ({"venue", "start"}, "New time, new place"),
        ({"abstract", "speakers", "title"}, "New title, new speakers, new abstract"),
    ],
)
def test_an_update_is_in_the_history_in_words_people_read(make_event, sign_up, changed, note):
    registration = sign_up(make_event())

    services.send_event_update(event=registration.event, changed_fields=changed)

    entry = RegistrationLog.objects.get(registration=registration, action=RegistrationLog.Action.UPDATE_SENT)
    assert entry.note == note


def test_only_those_attending_online_have_the_new_link_in_their_history(make_event, sign_up):
    talk = make_event(attendance_mode="hybrid", stream_url="https://utexas.zoom.us/j/222")
    online = sign_up(talk, attendance="online")
    room = sign_up(talk, attendance="in_person")

    services.announce_talk_changes(event=talk, changed_fields={"start", "stream_url"}, link_changed=True)

    notes = dict(RegistrationLog.objects.filter(action="update_sent").values_list("registration", "note"))
    assert notes == {online.pk: "New time, new link to join online", room.pk: "New time"}


def test_an_update_note_is_written_in_the_language_of_whoever_sent_it(make_event, sign_up, monkeypatch):
    from django.utils import translation

    registration = sign_up(make_event())
    # Until the catalogue has these words: Spanish as an organizer working in Spanish would read it.
    spanish = {"new time": "nueva hora", "new place": "nuevo lugar"}
    english = translation._trans.gettext

    def gettext(message):
        return spanish.get(message, english(message)) if translation.get_language() == "es" else english(message)

    monkeypatch.setattr(translation._trans, "gettext", gettext)

    with translation.override("es"):
        services.send_event_update(event=registration.event, changed_fields={"start", "venue"})

    entry = RegistrationLog.objects.get(registration=registration, action=RegistrationLog.Action.UPDATE_SENT)
    assert entry.note == "Nueva hora, nuevo lugar"
