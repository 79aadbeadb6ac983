import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from events.models import Event
from outbox.models import OutgoingMail
from outbox.services import record_bounce, send_again
from outbox.tasks import deliver_mail
from registrations import services
from registrations.models import Answer, MailKind, Registration
from tests.mime import sent
from tests.registrations.services.records import log_actions, seats_taken

pytestmark = pytest.mark.django_db


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

    # 13, and one of the apps that forget what they keep about people (feedback comments).
    with django_assert_num_queries(14):
        assert services.erase_personal_data(registrations=Registration.objects.filter(event=one)) == 1
    with django_assert_num_queries(14):
        assert services.erase_personal_data(registrations=Registration.objects.filter(event=many)) == 5


def test_erasing_nothing_is_harmless(event):
    assert services.erase_personal_data(registrations=[]) == 0
    assert services.erase_personal_data(registrations=Registration.objects.none()) == 0


def test_erasing_personal_data_deletes_the_answers(make_event, sign_up, ask):
    event = make_event()
    diet = ask(event, "Dietary restrictions?")
    erased = services.register(event=event, name="Ana", email="ana@example.edu", answers={diet.pk: "Coeliac"})
    kept = services.register(event=event, name="Ben", email="ben@example.edu", answers={diet.pk: "None"})

    services.erase_personal_data(registrations=[erased.registration])

    assert list(Answer.objects.values_list("registration__name", "value")) == [("Ben", "None")]
    assert kept.registration.answers.count() == 1
