import datetime
import threading
import time
import uuid
from html.parser import HTMLParser

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from events.models import Event, Speaker, SpeakerPhoto
from events.when import moment_text
from outbox.models import OutgoingMail
from registrations.models import MailKind
from speaker_edits import emails, services
from speaker_edits.images import process_photo
from speaker_edits.models import SpeakerEdit, SpeakerInvitation
from tests.mime import html_body, sent, text_body

from .conftest import jpeg_bytes

pytestmark = pytest.mark.django_db


def edit_values(invitation, **changes):
    invitation.refresh_from_db()
    base = services.current_values(event=invitation.event, speaker=invitation.speaker)
    return base, base | changes


def save(invitation, draft_id=None, **changes):
    base, values = edit_values(invitation, **changes)
    return services.save_edit(invitation=invitation, base=base, values=values, draft_id=draft_id or uuid.uuid4().hex)


def test_inviting_emails_the_speaker_a_link_that_opens_their_talk(
    event, invite, organizer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite(event, email="atlas@example.edu")

    (message,) = sent()
    assert message["To"].addresses[0].addr_spec == "atlas@example.edu"
    assert message["Reply-To"].addresses[0].addr_spec == event.series.organizer_email
    assert invitation.url in text_body(message) and invitation.url in html_body(message)
    assert invitation.url.startswith(f"https://seminars.example.edu/speaker/talks/{event.pk}/")
    assert services.invitation_from_token(event_id=event.pk, token=invitation.token) == invitation
    assert invitation.created_by == organizer
    # Until when, on the talk's clock with its zone, and one period after it.
    until = moment_text(event, invitation.expires_at)
    assert f"The link works until {until}. It is yours alone" in " ".join(text_body(message).split())
    assert until.endswith(("CST", "CDT"))


class ListItems(HTMLParser):
    """Each <li> of an HTML email as a reader sees it: its words, and where its links go."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.items, self._item = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "li":
            self._item = ([], [])
        elif tag == "a" and self._item is not None:
            self._item[1].append(dict(attrs)["href"])

    def handle_data(self, data):
        if self._item is not None:
            self._item[0].append(data)

    def handle_endtag(self, tag):
        if tag == "li" and self._item is not None:
            self.items.append((" ".join("".join(self._item[0]).split()), self._item[1]))
            self._item = None


def test_the_link_email_says_the_same_link_adds_slides_in_text_and_html(
    client, event, invite, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite(event)
    (message,) = sent()
    slides_url = f"{invitation.url}materials/"
    offer = (
        "Add your slides: slides, a recording, a paper or code for the talk, as a PDF file or a link, for everyone "
        "or only for the people registered."
    )

    text = text_body(message)
    assert f"The same link also takes you to:\n\n{offer}\n{slides_url}\n" in text

    items = ListItems()
    items.feed(html_body(message))
    assert (offer, [slides_url]) in items.items

    # The page the email promises is there, through that link.
    page = client.get(slides_url.removeprefix("https://seminars.example.edu"))
    assert page.status_code == 200
    assert "Your slides and other materials" in page.content.decode()


def test_a_link_sent_after_the_talk_is_for_its_slides_and_record(
    make_event, invite, django_capture_on_commit_callbacks
):
    past = make_event(start=timezone.now() - datetime.timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite(past)
    (message,) = sent()
    slides = (
        "Add your slides: slides, a recording, a paper or code for the talk, as a PDF file or a link, for everyone "
        "or only for the people registered."
    )

    assert message["Subject"] == "Your talk at the IFML Seminar: add to its record"
    text = " ".join(text_body(message).split())
    assert "how your talk is announced" not in text
    assert (
        "thank you for speaking at the IFML Seminar. Your talk has taken place: this link is for its record on the "
        "site, to add to it and to correct it."
    ) in text
    # What the talk left comes first, then its details.
    assert (
        f"{slides} {invitation.url}materials/ Correct or complete the record of your talk: the title, the abstract, "
        f"your affiliation, website, bio and photo (no account needed): {invitation.url} The link works until"
    ) in text

    html = html_body(message)
    assert "how your talk is announced" not in html and "Your talk has taken place" in html
    items = ListItems()
    items.feed(html)
    assert items.items == [(slides, [f"{invitation.url}materials/"])]
    assert html.index(f"{invitation.url}materials/") < html.index(f'href="{invitation.url}"')
    assert "Correct your talk's details" in html


def test_a_link_sent_before_the_talk_still_asks_to_check_how_it_is_announced(
    event, invite, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(event)
    (message,) = sent()

    assert message["Subject"] == "Your talk at the IFML Seminar: check its details"
    assert "Please check how your talk is announced" in " ".join(text_body(message).split())
    assert "Your talk has taken place" not in text_body(message) + html_body(message)


def test_a_new_link_for_the_same_speaker_and_talk_stops_the_earlier_one(event, invite):
    first = invite(event)
    second = invite(event)
    with pytest.raises(services.SpeakerEditError) as caught:
        services.invitation_from_token(event_id=event.pk, token=first.token)
    assert caught.value.code == "revoked"
    assert services.invitation_from_token(event_id=event.pk, token=second.token) == second


def test_only_a_speaker_of_the_talk_can_be_invited_and_only_until_a_future_deadline(event, organizer):
    stranger = Speaker.objects.create(name="Not On This Talk")
    with pytest.raises(services.SpeakerEditError) as caught:
        services.invite_speaker(
            event=event, speaker=stranger, email="x@example.edu", expires_at=timezone.now() + datetime.timedelta(days=1)
        )
    assert caught.value.code == "not_speaker"
    with pytest.raises(services.SpeakerEditError) as caught:
        services.invite_speaker(
            event=event,
            speaker=event.speakers.get(),
            email="x@example.edu",
            expires_at=timezone.now() - datetime.timedelta(minutes=1),
        )
    assert caught.value.code == "deadline_past"
    assert not SpeakerInvitation.objects.exists()
    assert not OutgoingMail.objects.exists()


def test_the_link_expires_at_its_deadline(event, invite):
    invitation = invite(event, days=2)
    later = invitation.expires_at + datetime.timedelta(seconds=1)
    with pytest.raises(services.SpeakerEditError) as caught:
        services.invitation_from_token(event_id=event.pk, token=invitation.token, now=later)
    assert caught.value.code == "expired"
    assert "expired" in caught.value.message


def test_a_revoked_link_stops_working_and_its_unsent_email_is_not_sent(
    event, invite, organizer, django_capture_on_commit_callbacks
):
    invitation = invite(event)  # queued, not yet delivered (no on-commit run)
    assert services.revoke_invitation(invitation=invitation, actor=organizer)
    assert not services.revoke_invitation(invitation=invitation, actor=organizer)  # second click: nothing

    with pytest.raises(services.SpeakerEditError) as caught:
        services.invitation_from_token(event_id=event.pk, token=invitation.token)
    assert caught.value.code == "revoked"
    (queued,) = OutgoingMail.objects.filter(kind=emails.INVITATION)
    assert emails.invitation_still_wanted(queued) == "The link was revoked before this message went out."


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature altered
        lambda token: "9" + token,  # another talk's number inside
        lambda token: token.split(":")[0] + ":" + "x" * 32 + ":" + token.rsplit(":", 1)[1],  # key swapped
        lambda token: "",
        lambda token: "not-even-a-token",
    ],
    ids=["signature", "talk-number", "key", "empty", "garbage"],
)
def test_a_tampered_link_is_invalid(event, invite, tamper):
    invitation = invite(event)
    with pytest.raises(services.SpeakerEditError) as caught:
        services.invitation_from_token(event_id=event.pk, token=tamper(invitation.token))
    assert caught.value.code == "invalid"


def test_a_link_for_one_talk_does_not_open_another(make_event, invite):
    first, second = make_event(), make_event()
    invitation = invite(first)
    with pytest.raises(services.SpeakerEditError) as caught:
        services.invitation_from_token(event_id=second.pk, token=invitation.token)
    assert caught.value.code == "invalid"


def test_a_registration_token_is_not_a_speaker_link(event, sign_up):
    registration = sign_up(event)
    with pytest.raises(services.SpeakerEditError) as caught:
        services.invitation_from_token(event_id=event.pk, token=registration.token)
    assert caught.value.code == "invalid"


def test_a_speaker_taken_off_the_talk_can_no_longer_edit_it(event, invite):
    invitation = invite(event)
    event.speakers.clear()
    with pytest.raises(services.SpeakerEditError) as caught:
        services.invitation_from_token(event_id=event.pk, token=invitation.token)
    assert caught.value.code == "not_speaker"


def test_saving_changes_the_talk_keeps_both_versions_and_tells_the_organizers_what_changed(
    event, invite, organizer, django_capture_on_commit_callbacks
):
    invitation = invite(event)
    old_title, old_bio = event.title, invitation.speaker.bio
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        edit, created = save(invitation, title="Video Generation, Two Years On", bio="Atlas works on video models.")

    assert created
    event.refresh_from_db()
    assert event.title == "Video Generation, Two Years On"
    assert Speaker.objects.get(pk=invitation.speaker_id).bio == "Atlas works on video models."
    assert edit.before == {"title": old_title, "bio": old_bio}
    assert edit.after == {"title": "Video Generation, Two Years On", "bio": "Atlas works on video models."}
    assert edit.invite_update == SpeakerEdit.InviteUpdate.NOT_NEEDED  # nobody registered yet

    recipients = sorted(message["To"].addresses[0].addr_spec for message in sent())
    assert recipients == ["ifml-seminar@example.edu", "olga@example.edu"]
    body = text_body(sent()[0])
    assert old_title in body and "Video Generation, Two Years On" in body
    assert old_bio in body and "Atlas works on video models." in body
    assert "pending" not in body
    assert "Atlas Wang changed Video Generation, Two Years On" in sent()[0]["Subject"]


def test_the_same_preview_saved_twice_saves_and_notifies_once(event, invite, django_capture_on_commit_callbacks):
    invitation = invite(event)
    mail.outbox.clear()
    base, values = edit_values(invitation, title="Once Only")
    with django_capture_on_commit_callbacks(execute=True):
        first, created_first = services.save_edit(invitation=invitation, base=base, values=values, draft_id="d1")
        again, created_again = services.save_edit(invitation=invitation, base=base, values=values, draft_id="d1")
    assert created_first and not created_again
    assert again == first
    assert SpeakerEdit.objects.count() == 1
    assert len(mail.outbox) == 2  # the series' address and the organizer, once each


def test_a_change_made_meanwhile_by_someone_else_is_not_overwritten(event, invite):
    invitation = invite(event)
    base, values = edit_values(invitation, title="The Speaker's Title")
    Event.objects.filter(pk=event.pk).update(title="The Organizer's Title")

    with pytest.raises(services.SpeakerEditError) as caught:
        services.save_edit(invitation=invitation, base=base, values=values, draft_id="d1")

    assert caught.value.code == "changed_meanwhile"
    assert Event.objects.get(pk=event.pk).title == "The Organizer's Title"
    assert not SpeakerEdit.objects.exists()


def test_nothing_changed_saves_nothing_and_mails_nobody(event, invite):
    invitation = invite(event)
    OutgoingMail.objects.all().delete()
    assert save(invitation) == (None, False)
    assert not SpeakerEdit.objects.exists() and not OutgoingMail.objects.exists()


def test_a_link_revoked_between_preview_and_save_saves_nothing(event, invite, organizer):
    invitation = invite(event)
    base, values = edit_values(invitation, title="Too Late")
    services.revoke_invitation(invitation=invitation, actor=organizer)
    with pytest.raises(services.SpeakerEditError) as caught:
        services.save_edit(invitation=invitation, base=base, values=values, draft_id="d1")
    assert caught.value.code == "revoked"
    assert Event.objects.get(pk=event.pk).title != "Too Late"


def test_a_new_photo_replaces_the_old_which_is_erased_and_the_organizers_are_told(
    event, invite, django_capture_on_commit_callbacks
):
    invitation = invite(event)
    first = services.store_photo(photo=process_photo(_upload(jpeg_bytes(color=(10, 10, 10)))))
    second = services.store_photo(photo=process_photo(_upload(jpeg_bytes(color=(250, 250, 250)))))
    save(invitation, photo=first.digest)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        edit, _created = save(invitation, photo=second.digest)

    assert edit.before == {"photo": first.digest} and edit.after == {"photo": second.digest}
    speaker = Speaker.objects.get(pk=invitation.speaker_id)
    assert speaker.photo_id == second.digest
    assert speaker.photo_src == f"/speakers/photos/{second.digest}.jpg"
    assert not SpeakerPhoto.objects.filter(digest=first.digest).exists()
    # The organizers get no link to a photo that is gone.
    message = sent()[0]
    text = " ".join(text_body(message).split())
    assert f"Before: (removed from the site) Now: https://seminars.example.edu/speakers/photos/{second.digest}.jpg" in (
        text
    )
    assert first.digest not in html_body(message) and second.digest in html_body(message)


def _upload(data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("p.jpg", data, content_type="image/jpeg")


def test_a_title_change_with_registrants_leaves_the_update_to_the_organizer(
    event, invite, sign_up, django_capture_on_commit_callbacks
):
    sign_up(event, email="ana@example.edu")
    sign_up(event, email="bob@example.edu")
    invitation = invite(event)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        edit, _created = save(invitation, title="A Better Title", affiliation="UT Austin")

    assert edit.invite_update == SpeakerEdit.InviteUpdate.PENDING
    assert edit.invite_changes == ["speakers", "title"]
    # Not silently sent: only the organizers were mailed, and they are asked.
    assert not OutgoingMail.objects.filter(kind=MailKind.EVENT_CHANGED).exists()
    body = text_body(sent()[0])
    assert "An update to the 2 registrants is pending" in body
    assert f"https://seminars.example.edu/staff/speaker-edits/talks/{event.pk}/" in body


def test_a_bio_change_is_not_in_invites_and_asks_nothing(event, invite, sign_up):
    sign_up(event)
    edit, _created = save(invite(event), bio="New bio.", website="https://atlas.example.edu")
    assert edit.invite_update == SpeakerEdit.InviteUpdate.NOT_NEEDED


def test_the_organizer_sends_one_update_for_all_pending_edits(
    event, invite, sign_up, organizer, django_capture_on_commit_callbacks
):
    ana = sign_up(event, email="ana@example.edu")
    invitation = invite(event)
    save(invitation, title="Title Two")
    save(invitation, abstract="Abstract two.")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert services.decide_invite_update(event=event, send=True, actor=organizer) == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert services.decide_invite_update(event=event, send=True, actor=organizer) == 0  # second click

    (update,) = OutgoingMail.objects.filter(kind=MailKind.EVENT_CHANGED)
    assert update.about == ana
    assert sorted(update.data["changed"]) == ["abstract", "title"]
    assert [message["To"].addresses[0].addr_spec for message in sent()] == ["ana@example.edu"]
    assert "Title Two" in sent()[0]["Subject"] or "Title Two" in text_body(sent()[0])
    assert set(SpeakerEdit.objects.values_list("invite_update", flat=True)) == {SpeakerEdit.InviteUpdate.SENT}


def test_the_organizer_may_leave_calendars_as_they_are(event, invite, sign_up, organizer):
    sign_up(event)
    save(invite(event), title="Quietly Renamed")
    assert services.decide_invite_update(event=event, send=False, actor=organizer) == 1
    assert not OutgoingMail.objects.filter(kind=MailKind.EVENT_CHANGED).exists()
    edit = SpeakerEdit.objects.get()
    assert edit.invite_update == SpeakerEdit.InviteUpdate.DECLINED and edit.invite_update_decided_by == organizer


def test_organizer_addresses_come_once_whatever_their_case(event, organizer, make_team_member, series):
    other = make_team_member(series, "otto")
    other.email = "IFML-Seminar@Example.edu"
    other.save()
    assert services.organizer_addresses(event) == ["ifml-seminar@example.edu", "olga@example.edu"]


def test_the_speakers_link_is_written_in_the_language_the_organizer_sent_it_in(
    event, invite, django_capture_on_commit_callbacks
):
    from django.utils import translation

    with translation.override("es"), django_capture_on_commit_callbacks(execute=True):
        invitation = invite(event)

    (message,) = sent()
    assert message["Subject"] == "Tu charla en el ciclo IFML Seminar: revisa sus datos"
    assert "Edita los datos de tu charla" in text_body(message)
    assert 'lang="es"' in html_body(message)
    assert invitation.url in text_body(message)


def test_an_online_talk_without_a_room_is_announced_as_online(make_event, invite, django_capture_on_commit_callbacks):
    event = make_event(attendance_mode="online", venue=None, stream_url="https://zoom.us/j/1")
    with django_capture_on_commit_callbacks(execute=True):
        invite(event)
    body = text_body(sent()[0])
    assert ", Online\n" in body and "None" not in body


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_photo_the_sweeper_erases_while_a_speaker_saves_it_stays_theirs(require_postgres, event, monkeypatch):
    invitation = services.invite_speaker(
        event=event,
        speaker=event.speakers.get(),
        email="atlas@example.edu",
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )
    photo = services.store_photo(photo=process_photo(_upload(jpeg_bytes())))
    saving, erased, outcome = threading.Event(), [], []
    tell_organizers = services.organizer_addresses

    def organizer_addresses_once_the_sweeper_waits(event):
        # Inside save_edit's transaction, the speaker already given the photo: hold it until the erasing waits.
        saving.set()
        deadline = time.monotonic() + 10
        while not someone_waits_for_a_lock() and time.monotonic() < deadline:
            time.sleep(0.02)
        return tell_organizers(event)

    monkeypatch.setattr(services, "organizer_addresses", organizer_addresses_once_the_sweeper_waits)

    def save_it():
        try:
            outcome.append(save(invitation, photo=photo.digest))
        finally:
            connection.close()

    def sweep():
        try:
            saving.wait(timeout=10)
            erased.append(services.erase_unused_photos(digests=[photo.digest]))
        finally:
            connection.close()

    threads = [threading.Thread(target=save_it), threading.Thread(target=sweep)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert outcome and outcome[0][1] is True  # saved
    assert erased == [0]
    assert Speaker.objects.get(pk=invitation.speaker_id).photo_id == photo.digest
    assert SpeakerPhoto.objects.filter(digest=photo.digest).exists()


def someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0
