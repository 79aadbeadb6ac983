import pytest
from django.core import mail
from django.db import transaction

from events.models import Event
from followers import services
from followers.models import Dispatch, Follower
from outbox import services as outbox_services
from outbox.models import OutgoingMail
from tests.followers.conftest import link_in, messages_to
from tests.mime import html_body, sent, text_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def followers(series, confirmed_follower, ask_to_follow, django_capture_on_commit_callbacks):
    """Two confirmed followers who want announcements, one digest-only, one unconfirmed, one who left."""
    people = {
        "ana": confirmed_follower(series, "ana@example.edu"),
        "bob": confirmed_follower(series, "bob@example.edu", digest=False),
        "dee": confirmed_follower(series, "dee@example.edu", announcements=False),
        "gone": confirmed_follower(series, "gone@example.edu"),
    }
    with django_capture_on_commit_callbacks(execute=True):
        people["new"] = services.follow(series=series, email="new@example.edu")
    services.unsubscribe(follower=people["gone"])
    mail.outbox.clear()
    return people


def publish(event, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event.status = Event.Status.PUBLISHED
        event.save()


def recipients():
    return sorted(message["To"].addresses[0].addr_spec for message in sent())


def test_publishing_announces_to_each_confirmed_follower_exactly_once(
    followers, make_event, django_capture_on_commit_callbacks
):
    draft = make_event(status=Event.Status.DRAFT, title="Diffusion, «revisited», & <script>")

    publish(draft, django_capture_on_commit_callbacks)
    # Saved twice: the same publish again, a second save from a stale copy, unpublish and publish again.
    publish(draft, django_capture_on_commit_callbacks)
    stale = Event.objects.get(pk=draft.pk)
    stale._loaded_calendar_state["status"] = Event.Status.DRAFT
    publish(stale, django_capture_on_commit_callbacks)
    draft.status = Event.Status.DRAFT
    draft.save()
    publish(Event.objects.get(pk=draft.pk), django_capture_on_commit_callbacks)

    assert recipients() == ["ana@example.edu", "bob@example.edu"]
    assert Dispatch.objects.get().recipient_count == 2
    message = messages_to("ana@example.edu")[0]
    assert message["Subject"] == "New talk: Diffusion, «revisited», & <script>"
    assert "<script>" not in html_body(message) and "&lt;script&gt;" in html_body(message)
    assert draft.get_absolute_url() in text_body(message)


def test_a_talk_created_published_is_announced(followers, make_event, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_event()

    assert recipients() == ["ana@example.edu", "bob@example.edu"]


def test_nothing_is_announced_when_the_box_is_unticked(followers, make_event, django_capture_on_commit_callbacks):
    draft = make_event(status=Event.Status.DRAFT, announce_to_followers=False)

    publish(draft, django_capture_on_commit_callbacks)

    assert sent() == [] and not Dispatch.objects.exists()


def test_a_publish_that_rolls_back_announces_nothing(followers, make_event, django_capture_on_commit_callbacks):
    draft = make_event(status=Event.Status.DRAFT)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        draft.status = Event.Status.PUBLISHED
        draft.save()
        raise RuntimeError("the admin's form failed after the save")

    assert sent() == [] and not Dispatch.objects.exists()


def test_no_announcement_for_a_talk_that_is_over_or_a_series_without_followers(
    series, make_event, django_capture_on_commit_callbacks
):
    import datetime

    from django.utils import timezone

    past = make_event(status=Event.Status.DRAFT, start=timezone.now() - datetime.timedelta(days=2))
    publish(past, django_capture_on_commit_callbacks)
    publish(make_event(status=Event.Status.DRAFT), django_capture_on_commit_callbacks)

    assert sent() == []
    assert Dispatch.objects.get().recipient_count == 0


def test_the_fan_out_is_queued_work_not_done_in_the_publishing_request(
    followers, make_event, django_capture_on_commit_callbacks, settings
):
    # With a real worker the publish only records the dispatch: no message exists until the task runs.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    draft = make_event(status=Event.Status.DRAFT)

    publish(draft, django_capture_on_commit_callbacks)

    dispatch = Dispatch.objects.get()
    assert dispatch.fanned_out_at is None and not OutgoingMail.objects.filter(kind="followers.announcement").exists()
    assert services.fan_out(dispatch_id=dispatch.pk) == 2
    assert services.fan_out(dispatch_id=dispatch.pk) == 0  # a retried task queues nothing more


def test_a_lost_fan_out_task_is_restarted_by_the_sweep(
    followers, make_event, django_capture_on_commit_callbacks, settings
):
    import datetime

    from django.utils import timezone

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    publish(make_event(status=Event.Status.DRAFT), django_capture_on_commit_callbacks)
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

    with django_capture_on_commit_callbacks(execute=True):
        assert services.queue_due_digests() == 0  # still within the grace period: its task may yet run
        later = timezone.now() + services.FAN_OUT_GRACE + datetime.timedelta(seconds=1)
        assert services.queue_due_digests(now=later) == 1

    assert recipients() == ["ana@example.edu", "bob@example.edu"]


def test_no_mail_after_unsubscribing_even_if_already_queued(
    followers, make_event, django_capture_on_commit_callbacks, settings, client
):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    publish(make_event(status=Event.Status.DRAFT), django_capture_on_commit_callbacks)
    services.fan_out(dispatch_id=Dispatch.objects.get().pk)  # both messages wait in the outbox

    client.post(followers["ana"].unsubscribe_path)
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    for pending in OutgoingMail.objects.filter(kind="followers.announcement"):
        from outbox.delivery import deliver

        deliver(mail_id=pending.pk)

    assert recipients() == ["bob@example.edu"]
    skipped = OutgoingMail.objects.get(kind="followers.announcement", recipient="ana@example.edu")
    assert skipped.status == OutgoingMail.Status.SKIPPED
    # And nothing later either.
    mail.outbox.clear()
    publish(make_event(status=Event.Status.DRAFT, slug="another"), django_capture_on_commit_callbacks)
    services.fan_out(dispatch_id=Dispatch.objects.order_by("-pk").first().pk)
    assert "ana@example.edu" not in OutgoingMail.objects.filter(status="pending").values_list("recipient", flat=True)


def test_a_follower_whose_mail_bounces_gets_nothing_more(followers, make_event, django_capture_on_commit_callbacks):
    publish(make_event(status=Event.Status.DRAFT), django_capture_on_commit_callbacks)
    sent_to_bob = OutgoingMail.objects.get(kind="followers.announcement", recipient="bob@example.edu")

    outbox_services.record_bounce(provider_message_id=sent_to_bob.provider_message_id, event_type="bounced")

    bob = Follower.objects.get(pk=followers["bob"].pk)
    assert bob.unsubscribed_at is not None and bob.stopped_because == "bounced"
    mail.outbox.clear()
    publish(make_event(status=Event.Status.DRAFT, slug="another"), django_capture_on_commit_callbacks)
    assert recipients() == ["ana@example.edu"]


def test_the_announcement_unsubscribe_link_works(followers, make_event, django_capture_on_commit_callbacks, client):
    publish(make_event(status=Event.Status.DRAFT), django_capture_on_commit_callbacks)
    path = link_in(messages_to("ana@example.edu")[0], "/follow/unsubscribe/")

    assert client.post(path).status_code == 200
    assert Follower.objects.get(pk=followers["ana"].pk).unsubscribed_at is not None
