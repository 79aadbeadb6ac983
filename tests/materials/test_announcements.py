"""“The slides and recording are up”: to the groups the organizer picks, once per person per announcement."""

import datetime
import re

import pytest
from anymail.exceptions import AnymailAPIError
from django.core import mail
from django.test import Client
from django.utils import timezone

from materials import services
from materials.models import Announcement, Audience, Kind, Visibility, registrant_path
from outbox.delivery import deliver, sweep
from outbox.models import OutgoingMail
from registrations.services import erase_personal_data
from tests.mime import html_body, sent, text_body

ANNOUNCEMENT = "materials.announcement"


@pytest.fixture
def shared(past_event, add_material):
    """Public slides, a recording for registrants only, and notes for staff."""
    return {
        "slides": add_material(past_event, title="Slides"),
        "recording": add_material(
            past_event,
            kind=Kind.RECORDING,
            title="Recording",
            visibility=Visibility.REGISTRANTS,
            url="https://video.example.edu/watch/42",
        ),
        "notes": add_material(past_event, title="Speaker notes", visibility=Visibility.STAFF),
    }


@pytest.fixture
def announce(past_event, shared, django_user_model):
    organizer = django_user_model.objects.create_user("olga", email="olga@example.edu")

    def announce(*audience, note=""):
        announcement = Announcement.objects.create(
            event=past_event, audience=list(audience), note=note, created_by=organizer
        )
        return announcement, organizer

    return announce


def recipients_of(messages) -> list[str]:
    return sorted(re.search(r"<(.+)>", message.to[0]).group(1) for message in messages)


@pytest.mark.parametrize(
    ("groups", "who"),
    [
        ([Audience.ATTENDED], ["ana@example.edu"]),
        ([Audience.ATTENDED_ONLINE], ["chloe@example.edu"]),
        ([Audience.WAITED], ["dmitri@example.edu"]),
        ([Audience.NO_SHOW], ["ben@example.edu"]),
        (
            list(Audience),
            ["ana@example.edu", "ben@example.edu", "chloe@example.edu", "dmitri@example.edu"],
        ),
    ],
)
def test_each_group_is_who_the_organizer_means(audience, announce, groups, who, django_capture_on_commit_callbacks):
    announcement, organizer = announce(*groups)

    with django_capture_on_commit_callbacks(execute=True):
        queued = services.send_announcement(announcement=announcement, actor=organizer)

    assert queued == len(who)
    assert recipients_of(mail.outbox) == who


def test_sent_twice_each_person_gets_it_once(audience, announce, django_capture_on_commit_callbacks):
    announcement, organizer = announce(Audience.ATTENDED, Audience.ATTENDED_ONLINE)

    with django_capture_on_commit_callbacks(execute=True):
        first = services.send_announcement(announcement=announcement, actor=organizer)
        second = services.send_announcement(announcement=Announcement.objects.get(), actor=organizer)

    assert (first, second) == (2, 0)
    assert recipients_of(mail.outbox) == ["ana@example.edu", "chloe@example.edu"]
    announcement.refresh_from_db()
    assert (announcement.recipient_count, announcement.sent_by.username) == (2, "olga")


def test_queued_again_each_person_still_gets_it_once(audience, announce, django_capture_on_commit_callbacks):
    # A retried request or task that queues the same announcement again, whatever the row says.
    announcement, organizer = announce(Audience.ATTENDED, Audience.ATTENDED_ONLINE)

    with django_capture_on_commit_callbacks(execute=True):
        services.send_announcement(announcement=announcement, actor=organizer)
        again = services.queue_announcement(announcement=announcement)

    assert again == 0
    assert OutgoingMail.objects.filter(kind=ANNOUNCEMENT).count() == 2
    assert len(mail.outbox) == 2


def test_a_provider_failure_is_retried_and_still_delivers_once(
    audience, announce, settings, django_capture_on_commit_callbacks
):
    from tests.outbox.providers import ScriptedBackend

    settings.MAILERS = {"default": {"BACKEND": "tests.outbox.providers.ScriptedBackend"}}

    class Response:
        reason, text = "Service Unavailable", "try later"

        def json(self):
            raise ValueError

    ScriptedBackend.errors = [AnymailAPIError("provider is down", status_code=503, response=Response())]
    ScriptedBackend.calls = 0
    announcement, organizer = announce(Audience.ATTENDED)

    with django_capture_on_commit_callbacks(execute=True):
        services.send_announcement(announcement=announcement, actor=organizer)
    row = OutgoingMail.objects.get(kind=ANNOUNCEMENT)
    assert (row.status, row.attempts) == (OutgoingMail.Status.PENDING, 1)

    sweep(now=row.next_attempt_at)
    sweep(now=timezone.now() + datetime.timedelta(days=1))
    assert deliver(mail_id=row.pk) == OutgoingMail.Status.SENT  # a late duplicate task sends nothing

    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutgoingMail.Status.SENT, 2)
    # (The sweep a day later also sent the registrations' own emails, queued by the fixture.)
    assert [message.to for message in mail.outbox if "are up" in message.subject] == [["Ana Ortiz <ana@example.edu>"]]


def test_each_person_gets_the_materials_they_may_see_with_their_own_links(
    audience, announce, shared, django_capture_on_commit_callbacks
):
    announcement, organizer = announce(Audience.ATTENDED, note="Thank you all for coming!")

    with django_capture_on_commit_callbacks(execute=True):
        services.send_announcement(announcement=announcement, actor=organizer)

    (message,) = sent()
    assert message["Subject"] == (
        "The slides and recording of “Generating a Video: Reflecting on a Two-Year Odyssey” are up"
    )
    text = text_body(message)
    assert f"https://seminars.example.edu{shared['slides'].get_absolute_url()}" in text
    assert "https://video.example.edu/watch/42" in text
    assert "Speaker notes" not in text
    # The note comes first, as its help text says: above the list of materials.
    assert text.index("Thank you all for coming!") < text.index("https://video.example.edu/watch/42")
    assert f"https://seminars.example.edu{registrant_path(audience['came'])}" in text
    assert "Thank you all for coming!" in html_body(message)
    # The page the email leads to lists the same, for this registrant.
    page = Client().get(registrant_path(audience["came"])).content.decode()
    assert "https://video.example.edu/watch/42" in page


def test_a_registrants_only_file_is_linked_through_each_persons_own_link(
    audience, announce, past_event, add_material, django_capture_on_commit_callbacks
):
    handout = add_material(past_event, title="Handout", visibility=Visibility.REGISTRANTS)
    announcement, organizer = announce(Audience.ATTENDED, Audience.WAITED)

    with django_capture_on_commit_callbacks(execute=True):
        services.send_announcement(announcement=announcement, actor=organizer)

    for message in sent():
        link = re.search(
            r"https://seminars\.example\.edu(/materials/r/\S+/" + handout.key + r"/\S+)", text_body(message)
        )
        assert Client().get(link.group(1)).status_code == 200
    assert len(sent()) == 2


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ("no_audience", "no_audience"),
        ("not_over", "not_over"),
        ("nothing", "nothing_to_announce"),
        ("nobody", "no_recipients"),
    ],
)
def test_what_cannot_be_announced_is_explained(audience, announce, past_event, shared, setup, code):
    from events.models import Event
    from materials.models import Material
    from registrations.models import Registration

    groups = [] if setup == "no_audience" else [Audience.ATTENDED]
    announcement, organizer = announce(*groups)
    if setup == "not_over":
        Event.objects.filter(pk=past_event.pk).update(end=timezone.now() + datetime.timedelta(hours=1))
        announcement.event.refresh_from_db()
    if setup == "nothing":
        Material.objects.exclude(visibility=Visibility.STAFF).delete()
    if setup == "nobody":
        Registration.objects.update(checked_in_at=None)  # nobody came to the room

    with pytest.raises(services.MaterialsError) as caught:
        services.send_announcement(announcement=announcement, actor=organizer)

    assert caught.value.code == code
    assert not OutgoingMail.objects.filter(kind=ANNOUNCEMENT).exists()
    assert Announcement.objects.get().sent_at is None


def test_someone_erased_or_cancelled_before_it_goes_out_gets_nothing(audience, announce):
    from registrations.models import Registration

    announcement, organizer = announce(Audience.ATTENDED, Audience.NO_SHOW)
    services.send_announcement(announcement=announcement, actor=organizer)  # queued, not yet sent
    erase_personal_data(registrations=[audience["came"]])
    Registration.objects.filter(pk=audience["no_show"].pk).update(status="cancelled", cancelled_at=timezone.now())

    for row in OutgoingMail.objects.filter(kind=ANNOUNCEMENT):
        deliver(mail_id=row.pk)

    assert mail.outbox == []
    assert set(OutgoingMail.objects.filter(kind=ANNOUNCEMENT).values_list("status", flat=True)) == {"skipped"}


def test_a_spanish_registrant_reads_it_in_spanish(audience, announce, django_capture_on_commit_callbacks):
    from registrations.models import Registration

    Registration.objects.filter(pk=audience["came"].pk).update(language="es")
    announcement, organizer = announce(Audience.ATTENDED)

    with django_capture_on_commit_callbacks(execute=True):
        services.send_announcement(announcement=announcement, actor=organizer)

    (message,) = sent()
    assert message["Subject"].startswith("Ya están las diapositivas y la grabación")


# The admin


@pytest.fixture
def organizer_client(make_team_member, series):
    client = Client()
    client.force_login(make_team_member(series, "olga"))
    return client


def test_an_organizer_writes_previews_and_sends_it_from_the_admin(
    organizer_client, audience, past_event, shared, django_capture_on_commit_callbacks
):
    response = organizer_client.post(
        "/admin/materials/announcement/add/",
        {"event": past_event.pk, "audience": ["attended", "attended_online"], "note": "Enjoy!"},
    )
    assert response.status_code == 302
    announcement = Announcement.objects.get()
    page = organizer_client.get(f"/admin/materials/announcement/{announcement.pk}/change/").content.decode()
    assert "Send to 2 registrants now" in page
    delete_url = f"/admin/materials/announcement/{announcement.pk}/delete/"
    assert organizer_client.get(delete_url).status_code == 200  # not sent yet: it can go
    assert "The slides and recording of" in page

    with django_capture_on_commit_callbacks(execute=True):
        organizer_client.post(
            f"/admin/materials/announcement/{announcement.pk}/change/",
            {"event": past_event.pk, "audience": ["attended", "attended_online"], "note": "Enjoy!", "_send_now": "1"},
        )
        organizer_client.post(
            f"/admin/materials/announcement/{announcement.pk}/change/",
            {"event": past_event.pk, "audience": ["attended", "attended_online"], "note": "Enjoy!", "_send_now": "1"},
        )

    assert recipients_of(mail.outbox) == ["ana@example.edu", "chloe@example.edu"]
    # How it fared, from the outbox: one bounced afterwards.
    OutgoingMail.objects.filter(recipient__contains="chloe@example.edu").update(bounced_at=timezone.now())
    history = organizer_client.get(f"/admin/materials/announcement/{announcement.pk}/change/").content.decode()
    assert "2 sent, 0 waiting, 0 failed, 0 not sent, 1 bounced" in history
    assert 'name="note"' not in history  # kept as sent
    assert organizer_client.get(delete_url).status_code == 403
    assert organizer_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert Announcement.objects.filter(pk=announcement.pk).exists()


def test_an_organizer_of_another_series_cannot_see_or_send_it(audience, announce, make_team_member, other_series):
    announcement, _organizer = announce(Audience.ATTENDED)
    client = Client()
    client.force_login(make_team_member(other_series, "theo"))

    assert client.get(f"/admin/materials/announcement/{announcement.pk}/change/").status_code == 404
    client.post(f"/admin/materials/announcement/{announcement.pk}/change/", {"_send_now": "1"})
    assert not OutgoingMail.objects.filter(kind=ANNOUNCEMENT).exists()


def test_only_talks_that_are_over_are_offered_and_an_early_draft_says_when_it_can_go(
    organizer_client, audience, past_event, shared, make_event
):
    coming = make_event(title="Next week's talk", start=timezone.now() + datetime.timedelta(days=7))

    form = organizer_client.get("/admin/materials/announcement/add/").content.decode()
    assert past_event.title in form and "Next week&#x27;s talk" not in form and "Next week's talk" not in form
    refused = organizer_client.post(
        "/admin/materials/announcement/add/", {"event": coming.pk, "audience": ["attended"], "note": ""}
    )
    assert refused.status_code == 200 and not Announcement.objects.exists()

    early = Announcement.objects.create(event=coming, audience=[Audience.ATTENDED])
    page = organizer_client.get(f"/admin/materials/announcement/{early.pk}/change/").content.decode()
    assert "The talk is not over yet" in page and 'name="_send_now"' not in page
