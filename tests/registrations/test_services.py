import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from events.models import Event
from outbox.models import OutgoingMail
from outbox.services import record_bounce, send_again
from outbox.tasks import deliver_mail
from registrations import services
from registrations.mail import reminder_key
from registrations.models import Answer, MailKind, Registration, RegistrationLog
from registrations.services import RegistrationError
from tests.mime import invite_parts, sent

pytestmark = pytest.mark.django_db


def mail_kinds(registration):
    return sorted(registration.outgoing_mails.values_list("kind", flat=True))


def log_actions(registration):
    return list(registration.log.values_list("action", "from_status", "to_status"))


def seats_taken(event):
    event.refresh_from_db()
    return event.seats_taken


# Registering


def test_register_confirms_while_seats_are_free(event):
    result = services.register(event=event, name="Zoë Ñúñez", email="zoe@example.edu", affiliation="UT Austin")

    registration = result.registration
    assert result.created
    assert registration.status == Registration.Status.CONFIRMED
    assert seats_taken(event) == 1
    assert mail_kinds(registration) == [MailKind.CONFIRMATION]
    assert log_actions(registration) == [(RegistrationLog.Action.REGISTERED, "", "confirmed")]


def test_register_waitlists_when_full(make_event, sign_up):
    event = make_event(capacity=2)
    sign_up(event)
    sign_up(event)

    third = sign_up(event)
    fourth = sign_up(event)

    assert third.status == fourth.status == Registration.Status.WAITLISTED
    assert third.waitlist_position() == 1
    assert fourth.waitlist_position() == 2
    assert seats_taken(event) == 2
    assert mail_kinds(third) == [MailKind.WAITLISTED]
    assert log_actions(third) == [(RegistrationLog.Action.WAITLISTED, "", "waitlisted")]


def test_register_refuses_when_full_and_waitlist_off(make_event, sign_up):
    event = make_event(capacity=1, waitlist_enabled=False)
    sign_up(event)

    with pytest.raises(RegistrationError) as refused:
        sign_up(event)

    assert refused.value.code == "full"
    assert "full" in refused.value.message
    assert Registration.objects.filter(event=event).count() == 1


def test_register_refuses_when_waitlist_limit_reached(make_event, sign_up):
    event = make_event(capacity=1, waitlist_limit=2)
    sign_up(event)
    sign_up(event)
    sign_up(event)

    with pytest.raises(RegistrationError) as refused:
        sign_up(event)

    assert refused.value.code == "waitlist_full"
    assert "waiting list is full" in refused.value.message
    assert Registration.objects.filter(event=event).waitlisted().count() == 2


def test_register_refuses_before_registration_opens_and_says_when(make_event, sign_up):
    opens = timezone.now() + datetime.timedelta(days=2)
    event = make_event(registration_opens=opens)

    with pytest.raises(RegistrationError) as refused:
        sign_up(event)

    assert refused.value.code == "not_open_yet"
    local = timezone.localtime(opens, event.local_time_zone)
    assert refused.value.message.startswith("Registration opens on ")
    assert f"{local:%B} {local.day}, {local.year}" in refused.value.message
    assert not Registration.objects.exists()


def test_register_refuses_after_registration_closes(make_event, sign_up):
    event = make_event(
        registration_opens=timezone.now() - datetime.timedelta(days=3),
        registration_closes=timezone.now() - datetime.timedelta(minutes=1),
    )

    with pytest.raises(RegistrationError) as refused:
        sign_up(event)

    assert refused.value.code == "closed"
    assert refused.value.message.startswith("Registration closed on ")


def test_register_refuses_once_the_talk_started(make_event, sign_up):
    event = make_event(start=timezone.now() - datetime.timedelta(minutes=5))

    with pytest.raises(RegistrationError) as refused:
        sign_up(event)

    assert refused.value.code == "started"


@pytest.mark.parametrize(("status", "code"), [(Event.Status.CANCELLED, "cancelled"), (Event.Status.DRAFT, "draft")])
def test_register_refuses_cancelled_and_draft_talks(make_event, sign_up, status, code):
    event = make_event(status=status)

    with pytest.raises(RegistrationError) as refused:
        sign_up(event)

    assert refused.value.code == code
    assert seats_taken(event) == 0


def test_refusal_reads_the_locked_row_not_the_callers_copy(make_event, sign_up):
    event = make_event(capacity=1, waitlist_enabled=False)
    stale = Event.objects.get(pk=event.pk)
    sign_up(event)

    with pytest.raises(RegistrationError) as refusal:
        sign_up(stale)

    assert refusal.value.code == "full"
    assert Registration.objects.filter(event=event).count() == 1


def age_outbox(registration, minutes=60):
    """Pretend the registration's mail was queued a while ago (resends are rate-limited)."""
    registration.outgoing_mails.update(created_at=timezone.now() - datetime.timedelta(minutes=minutes))


@pytest.mark.parametrize("again", ["ANA@UT.EDU", "  ana@ut.edu  ", "Ana@Ut.Edu "])
def test_same_address_in_other_case_or_with_spaces_takes_no_second_seat(event, again):
    first = services.register(event=event, name="Ana", email="Ana@UT.edu").registration
    age_outbox(first)

    result = services.register(event=event, name="Somebody Else", email=again)

    assert not result.created
    assert result.registration == first
    assert Registration.objects.filter(event=event).count() == 1
    assert seats_taken(event) == 1
    assert mail_kinds(first) == [MailKind.CONFIRMATION, MailKind.RESEND]
    assert RegistrationLog.Action.CONFIRMATION_RESENT in first.log.values_list("action", flat=True)


def test_immediate_second_submission_queues_no_second_email(event):
    first = services.register(event=event, name="Ana", email="ana@ut.edu").registration

    result = services.register(event=event, name="Ana", email="ana@ut.edu")

    assert result.already_registered
    assert mail_kinds(first) == [MailKind.CONFIRMATION]
    assert Registration.objects.count() == 1


def test_duplicate_while_full_is_still_already_registered(make_event, sign_up):
    event = make_event(capacity=1, waitlist_enabled=False)
    first = sign_up(event, email="first@example.edu")

    result = services.register(event=event, name="First", email="FIRST@example.edu")

    assert result.registration == first
    assert not result.created


def test_database_refuses_a_second_active_registration_for_an_address(event, sign_up):
    sign_up(event, email="ana@ut.edu")

    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.create(event=event, name="Ana", email="ANA@ut.edu", status="waitlisted")


def test_register_again_after_cancelling(event, sign_up):
    first = sign_up(event, email="ana@ut.edu")
    services.cancel_registration(registration=first)

    again = services.register(event=event, name="Ana", email="ana@ut.edu")

    assert again.created
    assert again.registration != first
    assert again.registration.status == Registration.Status.CONFIRMED
    assert seats_taken(event) == 1


def test_register_rejects_invalid_fields_without_changes(event):
    with pytest.raises(RegistrationError) as refused:
        services.register(event=event, name="x" * 10_000, email="not-an-address")

    assert refused.value.code == "invalid"
    assert not Registration.objects.exists()
    assert seats_taken(event) == 0


def test_register_accepts_plus_addresses_and_unicode_domains(event):
    result = services.register(event=event, name="王小明", email="ana+seminar@bücher.example")

    assert result.registration.email == "ana+seminar@bücher.example"
    assert result.registration.status == Registration.Status.CONFIRMED


# Cancelling and the waiting list


def test_cancel_frees_the_seat_and_promotes_the_first_in_line(make_event, sign_up):
    event = make_event(capacity=1)
    holder = sign_up(event)
    first_waiting = sign_up(event)
    second_waiting = sign_up(event)

    promoted = services.cancel_registration(registration=holder)

    assert promoted == [first_waiting]
    assert holder.status == Registration.Status.CANCELLED
    assert holder.cancelled_at is not None
    first_waiting.refresh_from_db()
    second_waiting.refresh_from_db()
    assert first_waiting.status == Registration.Status.CONFIRMED
    assert second_waiting.status == Registration.Status.WAITLISTED
    assert second_waiting.waitlist_position() == 1
    assert seats_taken(event) == 1
    assert mail_kinds(holder) == [MailKind.CANCELLATION, MailKind.CONFIRMATION]
    assert mail_kinds(first_waiting) == [MailKind.PROMOTED, MailKind.WAITLISTED]
    assert log_actions(holder)[-1] == (RegistrationLog.Action.CANCELLED, "confirmed", "cancelled")
    assert log_actions(first_waiting)[-1] == (RegistrationLog.Action.PROMOTED, "waitlisted", "confirmed")


def test_leaving_the_waiting_list_moves_the_others_up_and_keeps_seats(make_event, sign_up):
    event = make_event(capacity=1)
    sign_up(event)
    first_waiting = sign_up(event)
    second_waiting = sign_up(event)

    promoted = services.cancel_registration(registration=first_waiting)

    assert promoted == []
    assert seats_taken(event) == 1
    assert second_waiting.waitlist_position() == 1
    assert log_actions(first_waiting)[-1] == (RegistrationLog.Action.CANCELLED, "waitlisted", "cancelled")
    assert MailKind.CANCELLATION in mail_kinds(first_waiting)


def test_cancelled_stays_cancelled(event, sign_up):
    registration = sign_up(event)
    services.cancel_registration(registration=registration)

    with pytest.raises(RegistrationError) as refused:
        services.cancel_registration(registration=registration)

    assert refused.value.code == "already_cancelled"
    assert seats_taken(event) == 0
    assert registration.log.filter(action=RegistrationLog.Action.CANCELLED).count() == 1


def test_no_cancelling_once_the_talk_is_over(event, sign_up):
    registration = sign_up(event)
    Event.objects.filter(pk=event.pk).update(
        start=timezone.now() - datetime.timedelta(hours=2), end=timezone.now() - datetime.timedelta(hours=1)
    )

    with pytest.raises(RegistrationError) as refused:
        services.cancel_registration(registration=registration)

    assert refused.value.code == "ended"
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED
    assert seats_taken(event) == 1
    assert not OutgoingMail.objects.filter(kind=MailKind.CANCELLATION).exists()


def test_cancelling_a_stale_copy_does_not_free_a_second_seat(event, sign_up):
    registration = sign_up(event)
    stale = Registration.objects.get(pk=registration.pk)
    services.cancel_registration(registration=registration)

    with pytest.raises(RegistrationError):
        services.cancel_registration(registration=stale)

    assert seats_taken(event) == 0


def test_no_promotion_for_a_cancelled_talk(make_event, sign_up):
    event = make_event(capacity=1)
    holder = sign_up(event)
    waiting = sign_up(event)
    Event.objects.filter(pk=event.pk).update(status=Event.Status.CANCELLED)

    assert services.cancel_registration(registration=holder) == []

    waiting.refresh_from_db()
    assert waiting.status == Registration.Status.WAITLISTED


def test_promote_waitlist_fills_free_seats_in_order(make_event, sign_up):
    event = make_event(capacity=1)
    sign_up(event)
    waiting = [sign_up(event) for _ in range(4)]
    # Seats freed behind the services' back (e.g. a capacity edited in the database).
    Event.objects.filter(pk=event.pk).update(capacity=3)

    promoted = services.promote_waitlist(event=event)

    assert promoted == waiting[:2]
    assert seats_taken(event) == 3
    assert [r.waitlist_position() for r in Registration.objects.filter(pk__in=[w.pk for w in waiting[2:]])] == [1, 2]
    assert services.promote_waitlist(event=event) == []


# Capacity


def test_raising_capacity_promotes_at_once(make_event, sign_up):
    event = make_event(capacity=1)
    sign_up(event)
    waiting = [sign_up(event) for _ in range(3)]
    organizer = get_user_model().objects.create_user("organizer")

    promoted = services.change_capacity(event=event, capacity=3, actor=organizer)

    assert promoted == waiting[:2]
    assert event.capacity == 3
    assert event.seats_taken == 3
    assert seats_taken(event) == 3
    entry = waiting[0].log.get(action=RegistrationLog.Action.PROMOTED)
    assert entry.actor == organizer
    assert "Capacity changed to 3" in entry.note


def test_lowering_capacity_below_confirmed_is_refused(make_event, sign_up):
    event = make_event(capacity=5)
    for _ in range(3):
        sign_up(event)

    with pytest.raises(RegistrationError) as refused:
        services.change_capacity(event=event, capacity=2)

    assert refused.value.code == "capacity_below_taken"
    assert "3 people already hold a seat" in refused.value.message
    event.refresh_from_db()
    assert event.capacity == 5


def test_lowering_capacity_to_the_confirmed_count_is_allowed(make_event, sign_up):
    event = make_event(capacity=5)
    for _ in range(3):
        sign_up(event)

    services.change_capacity(event=event, capacity=3)

    event.refresh_from_db()
    assert (event.capacity, event.seats_taken) == (3, 3)
    assert sign_up(event).status == Registration.Status.WAITLISTED


def test_database_backstops_overbooking(event):
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(seats_taken=event.capacity + 1)


# Check-in


def test_check_in_records_time_and_history(event, sign_up):
    registration = sign_up(event)

    services.check_in(registration=registration)

    registration.refresh_from_db()
    assert registration.checked_in_at is not None
    assert log_actions(registration)[-1] == (RegistrationLog.Action.CHECKED_IN, "confirmed", "confirmed")
    with pytest.raises(RegistrationError) as refused:
        services.check_in(registration=registration)
    assert refused.value.code == "already_checked_in"


def test_check_in_refuses_waitlisted(make_event, sign_up):
    event = make_event(capacity=0)
    waiting = sign_up(event)

    with pytest.raises(RegistrationError) as refused:
        services.check_in(registration=waiting)

    assert refused.value.code == "not_confirmed"


def test_check_in_refuses_someone_attending_online(make_event, sign_up):
    event = make_event(attendance_mode="hybrid", stream_url="https://zoom.example/j/1")
    online = sign_up(event, attendance="online")

    with pytest.raises(RegistrationError) as refused:
        services.check_in(registration=online)

    assert refused.value.code == "online"
    assert Registration.objects.get(pk=online.pk).checked_in_at is None


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


# Erasing personal data


def end_talk(event, *, days_ago=1):
    """Move `event` into the past, as time would (registrations made while it was upcoming stay)."""
    end = timezone.now() - datetime.timedelta(days=days_ago)
    Event.objects.filter(pk=event.pk).update(start=end - datetime.timedelta(hours=1), end=end)
    event.refresh_from_db()
    return event


def test_erasing_removes_name_email_and_affiliation_and_keeps_the_rest(event, sign_up):
    erased = sign_up(event, name="Zoë Ñúñez", email="Zoe@Example.edu", affiliation="UT Austin", position="postdoc")
    kept = sign_up(event, name="王小明", email="wang@example.edu", affiliation="CMU")
    services.check_in(registration=erased)
    end_talk(event)
    organizer = get_user_model().objects.create_user("organizer")
    before = Registration.objects.get(pk=erased.pk)

    assert services.erase_personal_data(registrations=[erased], actor=organizer, note="Asked by email.") == 1

    after = Registration.objects.get(pk=erased.pk)
    assert (after.name, after.email, after.affiliation) == ("Erased", f"erased-{erased.pk}@erased.invalid", "")
    assert (after.status, after.position, after.created_at, after.checked_in_at) == (
        "confirmed",
        "postdoc",
        before.created_at,
        before.checked_in_at,
    )
    assert after.erased_at is not None
    assert not Registration.objects.filter(email__iexact="zoe@example.edu").exists()
    entry = after.log.last()
    assert (entry.action, entry.from_status, entry.to_status, entry.actor, entry.note) == (
        "erased",
        "confirmed",
        "confirmed",
        organizer,
        "Asked by email.",
    )
    assert entry.get_action_display() == "Personal data erased"
    assert Registration.objects.get(pk=kept.pk).name == "王小明"
    assert seats_taken(event) == 2


def test_erasing_retires_the_self_service_link(event, sign_up, client):
    registration = sign_up(event)
    token = registration.token
    end_talk(event)

    services.erase_personal_data(registrations=Registration.objects.filter(pk=registration.pk))

    assert client.get(f"/r/{token}/").status_code == 404
    with pytest.raises(Registration.DoesNotExist):
        Registration.objects.from_token(token)


def test_erasing_clears_provider_texts_that_quote_the_address(event, sign_up, outbox_row):
    registration = sign_up(event, email="ana@example.edu")
    failed = outbox_row(
        registration,
        MailKind.REMINDER,
        status=OutgoingMail.Status.FAILED,
        last_error="SMTPRecipientsRefused: {'ana@example.edu': (550, b'No such user')}",
        provider_message_id="<bounced@example.edu>",
    )
    record_bounce(
        provider_message_id="<bounced@example.edu>", event_type="bounced", description="550 ana@example.edu unknown"
    )
    end_talk(event)

    services.erase_personal_data(registrations=[registration])

    failed.refresh_from_db()
    assert failed.last_error == ""
    assert failed.bounce_detail == ""
    assert not OutgoingMail.objects.filter(recipient__icontains="ana@example.edu").exists()
    notes = " ".join(registration.log.values_list("note", flat=True))
    assert "ana@example.edu" not in notes
    assert registration.log.filter(action="email_bounced").exists()


def test_erasing_twice_changes_nothing_and_logs_nothing(event, sign_up):
    registration = sign_up(event)
    end_talk(event)
    assert services.erase_personal_data(registrations=[registration]) == 1
    first = Registration.objects.get(pk=registration.pk)
    entries = registration.log.count()

    assert services.erase_personal_data(registrations=[first]) == 0

    again = Registration.objects.get(pk=registration.pk)
    assert (again.email, again.key, again.erased_at) == (first.email, first.key, first.erased_at)
    assert registration.log.count() == entries


def test_erasing_skips_pending_mail_and_the_outbox_never_sends_to_the_placeholder(
    event, sign_up, django_capture_on_commit_callbacks, outbox_row
):
    registration = sign_up(event, email="ana@example.edu")
    confirmation = registration.outgoing_mails.get()
    OutgoingMail.objects.filter(pk=confirmation.pk).update(status=OutgoingMail.Status.SENT)
    end_talk(event)
    pending = outbox_row(registration, MailKind.EVENT_CHANGED)

    services.erase_personal_data(registrations=[registration])

    pending.refresh_from_db()
    assert pending.status == OutgoingMail.Status.SKIPPED
    assert "erased" in pending.last_error
    assert OutgoingMail.objects.get(pk=confirmation.pk).status == OutgoingMail.Status.SENT
    # Neither a lost task nor an organizer's "send again" gets it out.
    assert deliver_mail.call(pending.pk) == OutgoingMail.Status.SKIPPED
    with django_capture_on_commit_callbacks(execute=True):
        assert send_again(mail=pending) is True
    assert OutgoingMail.objects.get(pk=pending.pk).status == OutgoingMail.Status.SKIPPED
    assert mail.outbox == []


def test_erasing_an_upcoming_registration_on_request_frees_the_seat_for_the_waiting_list(
    make_event, sign_up, django_capture_on_commit_callbacks
):
    event = make_event(capacity=1)
    holder = sign_up(event, email="holder@example.edu")
    waiting = sign_up(event, email="waiting@example.edu")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert services.erase_personal_data(registrations=[holder]) == 1

    holder.refresh_from_db()
    assert (holder.status, holder.name) == ("cancelled", "Erased")
    assert Registration.objects.get(pk=waiting.pk).status == "confirmed"
    assert seats_taken(event) == 1
    assert [a for a, *_ in log_actions(holder)] == ["registered", "cancelled", "erased"]
    # The promoted person hears of it; the erased one gets nothing, not even the cancellation.
    assert [[a.addr_spec for a in m["To"].addresses] for m in sent()] == [["waiting@example.edu"]]
    assert holder.outgoing_mails.get(kind=MailKind.CANCELLATION).status == OutgoingMail.Status.SKIPPED


def test_an_erased_waitlisted_registration_leaves_the_waiting_list(make_event, sign_up):
    event = make_event(capacity=1)
    sign_up(event)
    waiting = sign_up(event)
    after = sign_up(event)

    services.erase_personal_data(registrations=[waiting])
    services.change_capacity(event=event, capacity=2)

    assert Registration.objects.get(pk=waiting.pk).status == "cancelled"
    assert Registration.objects.get(pk=after.pk).status == "confirmed"


def test_erasing_a_talk_and_its_waiting_list_together_erases_everyone(make_event, sign_up):
    event = make_event(capacity=1)
    everyone = [sign_up(event), sign_up(event), sign_up(event)]

    assert services.erase_personal_data(registrations=Registration.objects.filter(event=event)) == 3

    assert set(Registration.objects.filter(event=event).values_list("status", "name")) == {("cancelled", "Erased")}
    assert seats_taken(event) == 0
    assert not OutgoingMail.objects.filter(registration__in=everyone, status="pending").exists()


def test_erasing_past_registrations_takes_the_same_queries_for_one_or_many(
    make_event, sign_up, django_assert_num_queries
):
    one, many = make_event(), make_event()
    sign_up(one)
    for _ in range(5):
        sign_up(many)
    end_talk(one)
    end_talk(many)

    with django_assert_num_queries(13):
        assert services.erase_personal_data(registrations=Registration.objects.filter(event=one)) == 1
    with django_assert_num_queries(13):
        assert services.erase_personal_data(registrations=Registration.objects.filter(event=many)) == 5


def test_erasing_nothing_is_harmless(event):
    assert services.erase_personal_data(registrations=[]) == 0
    assert services.erase_personal_data(registrations=Registration.objects.none()) == 0


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


# Answers to the talk's questions


def test_answers_are_stored_with_the_registration(event, ask):
    diet = ask(event, "Dietary restrictions?")
    lunch = ask(event, "Lunch?", kind="yes_no")
    topics = ask(event, "Topics", kind="multiple_choice", choices=["Vision", "Theory"])

    registration = services.register(
        event=event,
        name="Ana",
        email="ana@example.edu",
        answers={diet.pk: "Vegetarian", lunch.pk: "yes", topics.pk: "Vision\nTheory"},
    ).registration

    assert {(answer.question.label, answer.display_value) for answer in registration.answers.all()} == {
        ("Dietary restrictions?", "Vegetarian"),
        ("Lunch?", "Yes"),
        ("Topics", "Vision; Theory"),
    }


def test_an_answer_to_another_talks_question_writes_nothing(make_event, ask):
    event, other = make_event(), make_event()
    foreign = ask(other, "Elsewhere?")

    with pytest.raises(RegistrationError) as error:
        services.register(event=event, name="Ana", email="ana@example.edu", answers={foreign.pk: "sneaky"})

    assert error.value.code == "invalid"
    assert not Registration.objects.exists()
    assert not Answer.objects.exists()


def test_registering_again_keeps_the_first_answers(event, ask):
    diet = ask(event, "Dietary restrictions?")
    services.register(event=event, name="Ana", email="ana@example.edu", answers={diet.pk: "None"})

    result = services.register(event=event, name="Ana", email="ANA@example.edu", answers={diet.pk: "Changed"})

    assert not result.created
    assert list(Answer.objects.values_list("value", flat=True)) == ["None"]


def test_erasing_personal_data_deletes_the_answers(make_event, sign_up, ask):
    event = make_event()
    diet = ask(event, "Dietary restrictions?")
    erased = services.register(event=event, name="Ana", email="ana@example.edu", answers={diet.pk: "Coeliac"})
    kept = services.register(event=event, name="Ben", email="ben@example.edu", answers={diet.pk: "None"})

    services.erase_personal_data(registrations=[erased.registration])

    assert list(Answer.objects.values_list("registration__name", "value")) == [("Ben", "None")]
    assert kept.registration.answers.count() == 1


# Hybrid talks: in person and online, each with its own places and waiting list

HYBRID = Event.AttendanceMode.HYBRID
ONLINE = Registration.Attendance.ONLINE
IN_PERSON = Registration.Attendance.IN_PERSON


def attend(event, n, attendance):
    return services.register(
        event=event, name=f"Person {n}", email=f"p{n}@example.edu", attendance=attendance
    ).registration


def test_online_places_never_take_a_seat_in_the_room(make_event):
    event = make_event(attendance_mode=HYBRID, capacity=1)

    online = [attend(event, n, ONLINE) for n in range(5)]
    in_person = attend(event, 10, IN_PERSON)

    event.refresh_from_db()
    assert [r.status for r in online] == ["confirmed"] * 5
    assert in_person.status == "confirmed"
    assert (event.seats_taken, event.online_seats_taken) == (1, 5)
    assert attend(event, 11, IN_PERSON).status == "waitlisted"
    assert attend(event, 12, ONLINE).status == "confirmed"


def test_limited_online_places_have_their_own_waiting_list(make_event):
    event = make_event(attendance_mode=HYBRID, capacity=1, online_capacity=2)
    attend(event, 0, IN_PERSON)
    waiting_in_room = attend(event, 1, IN_PERSON)

    statuses = [attend(event, n, ONLINE).status for n in range(2, 6)]

    assert statuses == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    online_waiting = list(Registration.objects.filter(event=event).online().waitlist_order())
    assert [r.waitlist_position() for r in online_waiting] == [1, 2]
    assert waiting_in_room.waitlist_position() == 1
    event.refresh_from_db()
    assert (event.seats_taken, event.online_seats_taken) == (1, 2)


def test_an_online_cancellation_promotes_the_next_online_waiter_only(make_event):
    event = make_event(attendance_mode=HYBRID, capacity=1, online_capacity=1)
    attend(event, 0, IN_PERSON)
    room_waiter = attend(event, 1, IN_PERSON)
    online_holder = attend(event, 2, ONLINE)
    online_waiter = attend(event, 3, ONLINE)

    promoted = services.cancel_registration(registration=online_holder)

    assert promoted == [online_waiter]
    room_waiter.refresh_from_db()
    assert room_waiter.status == "waitlisted"
    event.refresh_from_db()
    assert (event.seats_taken, event.online_seats_taken) == (1, 1)


def test_a_talk_refuses_a_way_of_attending_it_does_not_offer(make_event):
    in_person_only, online_only = make_event(), make_event(attendance_mode=Event.AttendanceMode.ONLINE)

    with pytest.raises(RegistrationError) as no_online:
        attend(in_person_only, 0, ONLINE)
    with pytest.raises(RegistrationError) as no_room:
        attend(online_only, 1, IN_PERSON)

    assert no_online.value.code == no_room.value.code == "attendance"
    assert "in person only" in no_online.value.message
    assert not Registration.objects.exists()
    assert attend(online_only, 2, ONLINE).status == "confirmed"


def test_full_online_places_without_a_waiting_list_refuse(make_event):
    event = make_event(attendance_mode=HYBRID, online_capacity=1, waitlist_enabled=False)
    attend(event, 0, ONLINE)

    with pytest.raises(RegistrationError, match="online places are all taken") as error:
        attend(event, 1, ONLINE)

    assert error.value.code == "full"


def test_database_refuses_more_online_places_than_the_limit(make_event):
    event = make_event(attendance_mode=HYBRID, online_capacity=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(online_seats_taken=2)


def test_someone_waiting_for_the_room_switches_to_online_in_one_step(make_event):
    event = make_event(attendance_mode=HYBRID, capacity=1)
    attend(event, 0, IN_PERSON)
    switcher = attend(event, 1, IN_PERSON)
    behind = attend(event, 2, IN_PERSON)

    promoted = services.switch_attendance(registration=switcher, attendance=ONLINE)

    assert promoted == []
    switcher.refresh_from_db()
    assert (switcher.attendance, switcher.status) == (ONLINE, "confirmed")
    assert behind.waitlist_position() == 1
    event.refresh_from_db()
    assert (event.seats_taken, event.online_seats_taken) == (1, 1)
    assert switcher.log.last().action == RegistrationLog.Action.SWITCHED
    assert switcher.outgoing_mails.filter(kind=MailKind.CONFIRMATION).count() == 1


def test_leaving_the_room_for_online_gives_the_seat_to_the_next_in_line(make_event):
    event = make_event(attendance_mode=HYBRID, capacity=1)
    holder = attend(event, 0, IN_PERSON)
    waiter = attend(event, 1, IN_PERSON)

    promoted = services.switch_attendance(registration=holder, attendance=ONLINE)

    assert promoted == [waiter]
    event.refresh_from_db()
    assert (event.seats_taken, event.online_seats_taken) == (1, 1)


def test_back_to_the_room_only_when_a_seat_is_free(make_event):
    event = make_event(attendance_mode=HYBRID, capacity=1)
    holder = attend(event, 0, IN_PERSON)
    online = attend(event, 1, ONLINE)

    with pytest.raises(RegistrationError) as error:
        services.switch_attendance(registration=online, attendance=IN_PERSON)
    assert error.value.code == "full"

    services.cancel_registration(registration=holder)
    services.switch_attendance(registration=online, attendance=IN_PERSON)

    online.refresh_from_db()
    assert (online.attendance, online.status) == (IN_PERSON, "confirmed")
    event.refresh_from_db()
    assert (event.seats_taken, event.online_seats_taken) == (1, 0)


@pytest.mark.parametrize(
    ("setup", "code"),
    [("same", "same"), ("full_online", "full"), ("cancelled", "cancelled"), ("in_person_only", "attendance")],
)
def test_switching_is_refused_with_a_reason(make_event, setup, code):
    mode = Event.AttendanceMode.IN_PERSON if setup == "in_person_only" else HYBRID
    event = make_event(attendance_mode=mode, capacity=1, online_capacity=0 if setup == "full_online" else None)
    registration = attend(event, 0, IN_PERSON)
    target = IN_PERSON if setup == "same" else ONLINE
    if setup == "cancelled":
        services.cancel_registration(registration=registration)

    with pytest.raises(RegistrationError) as error:
        services.switch_attendance(registration=registration, attendance=target)

    assert error.value.code == code
    registration.refresh_from_db()
    assert registration.attendance == IN_PERSON


def test_more_online_places_promote_the_online_waiting_list(make_event):
    event = make_event(attendance_mode=HYBRID, online_capacity=1)
    attend(event, 0, ONLINE)
    waiting = [attend(event, n, ONLINE) for n in (1, 2, 3)]

    with pytest.raises(RegistrationError) as error:
        services.change_online_capacity(event=event, capacity=0)
    assert error.value.code == "capacity_below_taken"

    assert services.change_online_capacity(event=event, capacity=2) == waiting[:1]
    assert services.change_online_capacity(event=event, capacity=None) == waiting[1:]
    assert (event.online_capacity, event.online_seats_taken) == (None, 4)
