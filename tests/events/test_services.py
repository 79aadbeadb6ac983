import datetime
import zoneinfo
from unittest.mock import ANY

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from events.models import Event, Question, Series, Speaker, SpeakerPhoto
from events.services import EventError, cancel_event, duplicate_event, erase_unused_photos
from registrations.models import Registration
from tests.html import admin_page, form_fields, page_text

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


@pytest.fixture
def talk(make_event, sign_up):
    start = datetime.datetime(2027, 11, 4, 11, 0, tzinfo=CHICAGO)
    event = make_event(
        start=start,
        capacity=25,
        waitlist_limit=5,
        registration_opens=start - datetime.timedelta(days=7),
        registration_closes=start - datetime.timedelta(hours=2),
    )
    Question.objects.create(event=event, label="Dietary restrictions?", kind=Question.Kind.SHORT_TEXT, position=1)
    Question.objects.create(event=event, label="Lunch?", kind=Question.Kind.YES_NO, required=True, position=2)
    return event


def test_copy_is_a_draft_a_week_later_without_registrations_or_speaker_texts(talk, sign_up):
    Event.objects.filter(pk=talk.pk).update(registration_opens=None)  # open now, so people can sign up
    talk.refresh_from_db()
    sign_up(talk)

    copy = duplicate_event(event=talk)

    assert copy.pk != talk.pk and copy.slug != talk.slug
    assert copy.status == Event.Status.DRAFT
    assert copy.series == talk.series and copy.venue == talk.venue
    assert (copy.capacity, copy.waitlist_limit, copy.waitlist_enabled) == (25, 5, True)
    assert (copy.seats_taken, copy.online_seats_taken, copy.sequence) == (0, 0, 0)
    assert not Registration.objects.filter(event=copy).exists()
    assert copy.title == "IFML Seminar: talk to be announced"
    assert copy.abstract == ""
    assert list(copy.speakers.all()) == []
    assert copy.local_start.strftime("%Y-%m-%d %H:%M %Z") == "2027-11-11 11:00 CST"
    assert copy.end - copy.start == talk.end - talk.start


def test_copy_keeps_the_questions_and_moves_the_registration_window(talk):
    copy = duplicate_event(event=talk, weeks=3)

    assert [(q.label, q.kind, q.required) for q in copy.questions.order_by("position")] == [
        ("Dietary restrictions?", "short_text", False),
        ("Lunch?", "yes_no", True),
    ]
    assert talk.questions.count() == 2
    local = lambda moment: moment.astimezone(CHICAGO).strftime("%m-%d %H:%M")  # noqa: E731
    assert local(copy.start) == "11-25 11:00"
    assert local(copy.registration_opens) == "11-18 11:00"
    assert local(copy.registration_closes) == "11-25 09:00"


def test_speaker_texts_are_copied_when_asked(talk, speaker):
    copy = duplicate_event(event=talk, copy_speaker_texts=True)

    assert (copy.title, copy.abstract) == (talk.title, talk.abstract)
    assert list(copy.speakers.all()) == [speaker]


def test_each_copy_gets_its_own_slug(talk):
    first = duplicate_event(event=talk)
    second = duplicate_event(event=talk)

    assert first.slug == "ifml-seminar-2027-11-11"
    assert second.slug == "ifml-seminar-2027-11-11-2"


def test_the_stream_link_is_copied_only_when_asked(make_event):
    talk = make_event(attendance_mode="hybrid", online_capacity=50, stream_url="https://utexas.zoom.us/j/111")

    assert duplicate_event(event=talk).stream_url == ""
    assert duplicate_event(event=talk, copy_stream_link=True).stream_url == "https://utexas.zoom.us/j/111"


def test_a_copy_of_a_cancelled_talk_carries_no_cancellation_message(talk):
    cancelled = cancel_event(event=talk, note="The speaker is ill.")

    copy = duplicate_event(event=cancelled, copy_speaker_texts=True)

    assert (copy.status, copy.cancellation_note) == (Event.Status.DRAFT, "")


@pytest.mark.parametrize("weeks", [0, -1, 53])
def test_weeks_out_of_range_are_refused(talk, weeks):
    with pytest.raises(ValueError):
        duplicate_event(event=talk, weeks=weeks)
    assert Event.objects.count() == 1


# The admin action

EVENTS = "/admin/events/event/"


def test_action_asks_how_many_weeks_then_opens_the_copy(admin_client, talk):
    ask = admin_client.post(EVENTS, {"action": "duplicate", "_selected_action": [talk.pk]})

    assert ask.status_code == 200
    assert 'name="weeks"' in ask.content.decode()
    assert Event.objects.count() == 1

    done = admin_client.post(EVENTS, {"action": "duplicate", "_selected_action": [talk.pk], "apply": "1", "weeks": "2"})

    copy = Event.objects.exclude(pk=talk.pk).get()
    assert done.status_code == 302
    assert done["Location"] == f"/admin/events/event/{copy.pk}/change/"
    assert copy.local_start.strftime("%m-%d %H:%M") == "11-18 11:00"
    page = admin_client.get(done["Location"]).content.decode()
    assert "talk to be announced" in page


def test_action_with_a_bad_number_of_weeks_copies_nothing(admin_client, talk):
    response = admin_client.post(
        EVENTS, {"action": "duplicate", "_selected_action": [talk.pk], "apply": "1", "weeks": "99"}
    )

    assert response.status_code == 200
    assert "Ensure this value is less than or equal to 52." in response.content.decode()
    assert Event.objects.count() == 1


def test_action_copies_several_talks_and_says_so(admin_client, talk, make_event):
    other = make_event(title="Another talk")

    response = admin_client.post(
        EVENTS,
        {"action": "duplicate", "_selected_action": [talk.pk, other.pk], "apply": "1", "weeks": "1"},
        follow=True,
    )

    assert Event.objects.count() == 4
    assert "2 draft copies made" in response.content.decode()


def test_action_never_copies_another_series_talk(client, talk, make_team_member, make_event):
    other = Series.objects.create(name="Other", slug="other", organizer_name="O", organizer_email="o@example.edu")
    client.force_login(make_team_member(other, "bob"))

    client.post(EVENTS, {"action": "duplicate", "_selected_action": [talk.pk], "apply": "1", "weeks": "1"})

    assert Event.objects.count() == 1


def test_speaker_texts_copied_from_the_action_when_ticked(admin_client, talk):
    admin_client.post(
        EVENTS,
        {
            "action": "duplicate",
            "_selected_action": [talk.pk],
            "apply": "1",
            "weeks": "1",
            "copy_speaker_texts": "on",
        },
    )

    assert Event.objects.exclude(pk=talk.pk).get().title == talk.title


def test_the_page_for_one_talk_is_an_ordinary_admin_form_leading_back_to_the_talk(admin_client, talk):
    response = admin_client.post(EVENTS, {"action": "duplicate", "_selected_action": [talk.pk]})

    page = admin_page(response.content.decode())
    assert page.breadcrumbs == [
        ("Home", "/admin/"),
        ("Talks", "/admin/events/"),
        ("Talks", EVENTS),
        (talk.title, f"/admin/events/event/{talk.pk}/change/"),
        ("Schedule again", None),
    ]
    # The admin's usual (blue) default button, not the red of a deletion.
    assert "delete-confirmation" not in page.body_classes
    assert page.submit_buttons == [("Make the copy", {"default"})]


def test_the_page_for_several_talks_ends_at_the_talk_list(admin_client, talk, make_event):
    other = make_event(title="Another talk")

    response = admin_client.post(EVENTS, {"action": "duplicate", "_selected_action": [talk.pk, other.pk]})

    page = admin_page(response.content.decode())
    assert [text for text, _link in page.breadcrumbs] == ["Home", "Talks", "Talks", "Schedule again"]
    assert page.submit_buttons == [("Make the copies", {"default"})]


@pytest.fixture
def online_talk(talk):
    Event.objects.filter(pk=talk.pk).update(
        attendance_mode="hybrid", online_capacity=50, stream_url="https://utexas.zoom.us/j/111"
    )
    talk.refresh_from_db()
    return talk


def test_the_page_says_the_stream_link_is_not_copied_unless_ticked(admin_client, online_talk):
    response = admin_client.post(EVENTS, {"action": "duplicate", "_selected_action": [online_talk.pk]})

    text = page_text(response)
    assert "has a link to join online" in text
    assert (
        "The link to join online is not copied unless you tick “Copy the link to join online” below: a new session "
        "usually has a new meeting link."
    ) in text
    assert form_fields(response.content.decode(), "schedule-again-form") == [
        ("csrfmiddlewaretoken", ANY),
        ("weeks", "1"),
        ("_selected_action", str(online_talk.pk)),
        ("action", "duplicate"),
        ("apply", "1"),
    ]


def test_an_unticked_stream_link_stays_behind_and_the_organizer_is_reminded(admin_client, online_talk):
    done = admin_client.post(
        EVENTS, {"action": "duplicate", "_selected_action": [online_talk.pk], "apply": "1", "weeks": "1"}, follow=True
    )

    copy = Event.objects.exclude(pk=online_talk.pk).get()
    assert copy.stream_url == ""
    assert "Draft copy made: complete it, give it its link to join online, and publish it." in page_text(done)


def test_a_ticked_stream_link_is_copied(admin_client, online_talk):
    admin_client.post(
        EVENTS,
        {
            "action": "duplicate",
            "_selected_action": [online_talk.pk],
            "apply": "1",
            "weeks": "1",
            "copy_stream_link": "on",
        },
    )

    assert Event.objects.exclude(pk=online_talk.pk).get().stream_url == "https://utexas.zoom.us/j/111"


def test_talks_without_a_stream_link_are_not_asked_about_one(admin_client, talk):
    response = admin_client.post(EVENTS, {"action": "duplicate", "_selected_action": [talk.pk]})

    assert 'name="copy_stream_link"' not in response.content.decode()
    assert "link to join online" not in page_text(response)


# Cancelling


def test_cancelling_stores_the_note_and_tells_registrants_once_committed(
    event, sign_up, django_capture_on_commit_callbacks
):
    sign_up(event)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        cancelled = cancel_event(event=event, note="The speaker is ill.")
        assert mail.outbox == []  # nothing before commit
    with django_capture_on_commit_callbacks(execute=True):  # and the outbox's own, which these queue
        for callback in callbacks:
            callback()

    stored = Event.objects.get(pk=event.pk)
    assert (stored.status, stored.cancellation_note) == (Event.Status.CANCELLED, "The speaker is ill.")
    assert (stored.sequence, stored.cancellation_announced) == (1, True)
    assert cancelled.cancellation_note == stored.cancellation_note
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["Talk cancelled"]


@pytest.mark.parametrize(
    ("fields", "note", "code"),
    [
        ({"status": Event.Status.CANCELLED}, "", "cancelled"),
        ({"status": Event.Status.DRAFT}, "", "draft"),
        ({"start": timezone.now() - datetime.timedelta(days=1)}, "", "over"),
        ({}, "x" * 2001, "note_too_long"),
    ],
)
def test_cancelling_refuses_what_it_cannot_cancel_and_changes_nothing(
    make_event, sign_up, fields, note, code, django_capture_on_commit_callbacks
):
    talk = make_event(**fields)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(EventError) as refused:
        cancel_event(event=talk, note=note)

    assert refused.value.code == code
    stored = Event.objects.get(pk=talk.pk)
    assert (stored.status, stored.cancellation_note, stored.sequence) == (talk.status, "", 0)
    assert mail.outbox == []


def test_a_note_of_2000_characters_with_every_script_is_kept_as_written(event):
    note = ("Zoë ñ 中文 עברית 🎤\n" * 200)[:2000]

    cancel_event(event=event, note=note)

    assert Event.objects.get(pk=event.pk).cancellation_note == note


def _photo(letter: str) -> SpeakerPhoto:
    return SpeakerPhoto.objects.create(digest=letter * 64, data=b"\xff\xd8", width=1, height=1)


def test_a_replaced_photo_is_erased_once_the_change_commits(client, speaker, django_capture_on_commit_callbacks):
    speaker.photo = _photo("a")
    speaker.save()
    with django_capture_on_commit_callbacks(execute=True):
        speaker.photo = _photo("b")
        speaker.save()
        assert SpeakerPhoto.objects.filter(digest="a" * 64).exists()  # until the commit
    assert client.get(f"/speakers/photos/{'a' * 64}.jpg").status_code == 404
    assert client.get(f"/speakers/photos/{'b' * 64}.jpg").status_code == 200


def test_a_removal_that_rolls_back_keeps_the_photo(client, speaker, django_capture_on_commit_callbacks):
    speaker.photo = _photo("a")
    speaker.save()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        speaker.photo = None
        speaker.save()
        raise RuntimeError("the rest of the save failed")
    assert Speaker.objects.get(pk=speaker.pk).photo_id == "a" * 64
    assert client.get(f"/speakers/photos/{'a' * 64}.jpg").status_code == 200


def test_a_photo_another_speaker_still_shows_is_kept(client, speaker, django_capture_on_commit_callbacks):
    shared = _photo("a")
    other = Speaker.objects.create(name="Zoe Ng", photo=shared)
    speaker.photo = shared
    speaker.save()
    with django_capture_on_commit_callbacks(execute=True):
        speaker.photo = None
        speaker.save()
    assert client.get(f"/speakers/photos/{'a' * 64}.jpg").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        other.delete()
    assert client.get(f"/speakers/photos/{'a' * 64}.jpg").status_code == 404


def test_erasing_unused_photos_spares_new_ones_and_never_takes_one_from_a_speaker(speaker):
    shown, old, new = _photo("a"), _photo("b"), _photo("c")
    speaker.photo = shown
    speaker.save()
    SpeakerPhoto.objects.filter(digest__in=[shown.digest, old.digest]).update(
        created_at=timezone.now() - datetime.timedelta(days=3)
    )

    assert erase_unused_photos(uploaded_before=timezone.now() - datetime.timedelta(days=1)) == 1
    assert set(SpeakerPhoto.objects.values_list("digest", flat=True)) == {shown.digest, new.digest}
    assert erase_unused_photos(digests=[shown.digest]) == 0
    assert Speaker.objects.get(pk=speaker.pk).photo_id == shown.digest
