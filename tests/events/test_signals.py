import datetime

import pytest

from events.models import Event, Venue
from events.signals import event_cancelled, event_reinstated, event_rescheduled, stream_changed


@pytest.fixture
def heard():
    calls = []

    def on_rescheduled(sender, event, changed_fields, **kwargs):
        calls.append(("rescheduled", event.pk, changed_fields))

    def on_cancelled(sender, event, **kwargs):
        calls.append(("cancelled", event.pk, None))

    def on_reinstated(sender, event, **kwargs):
        calls.append(("reinstated", event.pk, None))

    def on_stream_changed(sender, event, previous_url, **kwargs):
        calls.append(("stream changed", event.pk, previous_url))

    event_rescheduled.connect(on_rescheduled, dispatch_uid="test-rescheduled")
    event_cancelled.connect(on_cancelled, dispatch_uid="test-cancelled")
    event_reinstated.connect(on_reinstated, dispatch_uid="test-reinstated")
    stream_changed.connect(on_stream_changed, dispatch_uid="test-stream-changed")
    yield calls
    stream_changed.disconnect(dispatch_uid="test-stream-changed")
    event_rescheduled.disconnect(dispatch_uid="test-rescheduled")
    event_cancelled.disconnect(dispatch_uid="test-cancelled")
    event_reinstated.disconnect(dispatch_uid="test-reinstated")


def reload(event):
    return Event.objects.get(pk=event.pk)


def save(event, capture):
    with capture(execute=True) as callbacks:
        event.save()
    return callbacks


def test_text_changes_are_silent(event, heard, django_capture_on_commit_callbacks):
    talk = reload(event)
    talk.title = "Another title"
    talk.abstract = "Another abstract"
    talk.capacity = 80
    save(talk, django_capture_on_commit_callbacks)

    assert heard == []
    assert reload(event).sequence == 0


def test_saving_unchanged_times_is_silent(event, heard, django_capture_on_commit_callbacks):
    talk = reload(event)
    talk.start = talk.start.astimezone(datetime.UTC)  # same instant, other zone
    save(talk, django_capture_on_commit_callbacks)

    assert heard == []


@pytest.mark.parametrize("field", ["start", "end", "venue"])
def test_time_or_place_change_is_announced_after_commit(event, heard, field, django_capture_on_commit_callbacks):
    talk = reload(event)
    if field == "start":
        talk.start -= datetime.timedelta(minutes=30)
    elif field == "end":
        talk.end += datetime.timedelta(minutes=30)
    else:
        talk.venue = Venue.objects.create(room="GDC 4.304", building="Gates Dell Complex", default_capacity=60)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        talk.save()
        assert heard == []  # nothing before commit
    for callback in callbacks:
        callback()

    assert heard == [("rescheduled", event.pk, frozenset({field}))]
    assert reload(event).sequence == 1


def test_cancelling_is_announced_once(event, heard, django_capture_on_commit_callbacks):
    talk = reload(event)
    talk.status = Event.Status.CANCELLED
    save(talk, django_capture_on_commit_callbacks)
    talk.title = "Cancelled talk"
    save(talk, django_capture_on_commit_callbacks)

    assert heard == [("cancelled", event.pk, None)]
    assert reload(event).sequence == 1


@pytest.mark.parametrize("through_a_draft", [False, True])
def test_publishing_a_cancelled_talk_again_is_announced_once_as_on_again(
    event, heard, through_a_draft, django_capture_on_commit_callbacks
):
    talk = reload(event)
    talk.status = Event.Status.CANCELLED
    save(talk, django_capture_on_commit_callbacks)
    if through_a_draft:
        talk.status = Event.Status.DRAFT
        save(talk, django_capture_on_commit_callbacks)
    talk.status = Event.Status.PUBLISHED
    talk.start += datetime.timedelta(days=1)  # moved while it was off: said by the same message
    talk.end += datetime.timedelta(days=1)
    save(talk, django_capture_on_commit_callbacks)
    talk.title = "On again"
    save(talk, django_capture_on_commit_callbacks)

    assert heard == [("cancelled", event.pk, None), ("reinstated", event.pk, None)]
    assert not reload(event).cancellation_announced
    assert reload(event).sequence == 2


@pytest.mark.parametrize("status", [Event.Status.PUBLISHED, Event.Status.DRAFT])
def test_a_talk_no_longer_cancelled_drops_the_reason(event, heard, status, django_capture_on_commit_callbacks):
    talk = reload(event)
    talk.status, talk.cancellation_note = Event.Status.CANCELLED, "The speaker is ill."
    save(talk, django_capture_on_commit_callbacks)
    talk.title = "Still cancelled"
    save(talk, django_capture_on_commit_callbacks)
    assert reload(event).cancellation_note == "The speaker is ill."

    talk.status = status
    save(talk, django_capture_on_commit_callbacks)

    assert reload(event).cancellation_note == ""


def test_draft_changes_bump_sequence_but_tell_nobody(make_event, heard, django_capture_on_commit_callbacks):
    draft = reload(make_event(status=Event.Status.DRAFT))
    draft.start += datetime.timedelta(days=1)
    draft.end += datetime.timedelta(days=1)
    save(draft, django_capture_on_commit_callbacks)

    assert heard == []
    assert reload(draft).sequence == 1


def test_explicit_update_fields_still_store_the_sequence(event, heard, django_capture_on_commit_callbacks):
    talk = reload(event)
    talk.end += datetime.timedelta(minutes=15)
    with django_capture_on_commit_callbacks(execute=True):
        talk.save(update_fields=["end"])

    assert reload(event).sequence == 1
    assert heard == [("rescheduled", event.pk, frozenset({"end"}))]


OLD_LINK, NEW_LINK = "https://utexas.zoom.us/j/111", "https://utexas.zoom.us/j/222"


def test_a_new_stream_link_alone_is_announced_as_such(make_event, heard, django_capture_on_commit_callbacks):
    talk = reload(make_event(attendance_mode="hybrid", stream_url=OLD_LINK))
    talk.stream_url = NEW_LINK
    save(talk, django_capture_on_commit_callbacks)

    assert heard == [("stream changed", talk.pk, OLD_LINK)]


def test_a_new_time_and_a_new_stream_link_in_one_save_are_one_announcement(
    make_event, heard, django_capture_on_commit_callbacks
):
    talk = reload(make_event(attendance_mode="hybrid", stream_url=OLD_LINK))
    talk.start += datetime.timedelta(hours=1)
    talk.end += datetime.timedelta(hours=1)
    talk.stream_url = NEW_LINK
    save(talk, django_capture_on_commit_callbacks)

    assert heard == [("rescheduled", talk.pk, frozenset({"start", "end", "stream_url"}))]
    assert reload(talk).sequence == 1


def test_a_save_whose_caller_announces_it_announces_no_new_link_either(
    make_event, heard, django_capture_on_commit_callbacks
):
    talk = reload(make_event(attendance_mode="hybrid", stream_url=OLD_LINK))
    talk.start += datetime.timedelta(hours=1)
    talk.end += datetime.timedelta(hours=1)
    talk.stream_url = NEW_LINK
    talk.announce_changes = False
    save(talk, django_capture_on_commit_callbacks)

    assert heard == []
