import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from events.models import Event
from outbox.models import OutgoingMail
from registrations.models import Registration

pytestmark = pytest.mark.django_db


def erase_old_registrations(*args) -> str:
    out = io.StringIO()
    call_command("erase_old_registrations", *args, stdout=out)
    return out.getvalue()


def talk_that_ended(make_event, sign_up, *, days_ago, people=1):
    event = make_event(capacity=max(people - 1, 0))
    registrations = [sign_up(event, name="Zoë Ñúñez", affiliation="UT Austin") for _ in range(people)]
    end = timezone.now() - datetime.timedelta(days=days_ago)
    Event.objects.filter(pk=event.pk).update(start=end - datetime.timedelta(hours=1), end=end)
    return registrations


def names(registrations):
    return [Registration.objects.get(pk=r.pk).name for r in registrations]


def test_erases_talks_that_ended_longer_ago_than_the_retention(make_event, sign_up):
    old = talk_that_ended(make_event, sign_up, days_ago=400, people=3)
    recent = talk_that_ended(make_event, sign_up, days_ago=10)
    upcoming = [sign_up(make_event(), name="Ana")]

    output = erase_old_registrations()

    assert "Erased the personal data of 3 registrations of talks that ended more than 365 days ago." in output
    assert names(old) == ["Erased"] * 3
    assert [Registration.objects.get(pk=r.pk).status for r in old] == ["confirmed", "confirmed", "waitlisted"]
    assert Registration.objects.filter(pk__in=[r.pk for r in old], log__action="erased").count() == 3
    assert names(recent) == ["Zoë Ñúñez"]
    assert names(upcoming) == ["Ana"]
    assert "0 registrations" in erase_old_registrations()


def test_days_option_and_setting_read_at_call_time(make_event, sign_up, settings):
    recent = talk_that_ended(make_event, sign_up, days_ago=10)
    older = talk_that_ended(make_event, sign_up, days_ago=40)

    settings.REGISTRATION_RETENTION_DAYS = 30
    assert "Erased the personal data of 1 registrations" in erase_old_registrations()
    assert names(older) == ["Erased"]
    assert names(recent) == ["Zoë Ñúñez"]

    assert "of 1 registrations of talks that ended more than 5 days ago" in erase_old_registrations("--days", "5")
    assert names(recent) == ["Erased"]


def test_the_talk_must_have_ended_not_just_started(make_event, sign_up):
    registration = sign_up(make_event())
    Event.objects.filter(pk=registration.event_id).update(
        start=timezone.now() - datetime.timedelta(hours=1), end=timezone.now() + datetime.timedelta(hours=1)
    )

    assert "of 0 registrations" in erase_old_registrations("--days", "0")
    assert names([registration]) == [registration.name]


def test_dry_run_counts_and_changes_nothing(make_event, sign_up):
    old = talk_that_ended(make_event, sign_up, days_ago=400, people=2)

    output = erase_old_registrations("--dry-run")

    assert "2 registrations of talks that ended more than 365 days ago would be erased." in output
    assert names(old) == ["Zoë Ñúñez"] * 2
    assert not Registration.objects.filter(log__action="erased").exists()


def test_pending_mail_of_erased_registrations_is_skipped(make_event, sign_up):
    [registration] = talk_that_ended(make_event, sign_up, days_ago=400)
    assert registration.outgoing_mails.get().status == OutgoingMail.Status.PENDING

    erase_old_registrations()

    assert registration.outgoing_mails.get().status == OutgoingMail.Status.SKIPPED


def test_negative_days_is_refused(make_event, sign_up):
    old = talk_that_ended(make_event, sign_up, days_ago=400)

    with pytest.raises(CommandError, match="--days must be zero or more"):
        erase_old_registrations("--days", "-1")
    assert names(old) == ["Zoë Ñúñez"]


def test_erases_in_batches(make_event, sign_up, monkeypatch):
    monkeypatch.setattr("registrations.management.commands.erase_old_registrations.BATCH_SIZE", 2)
    old = talk_that_ended(make_event, sign_up, days_ago=400, people=5)

    assert "of 5 registrations" in erase_old_registrations()
    assert names(old) == ["Erased"] * 5
