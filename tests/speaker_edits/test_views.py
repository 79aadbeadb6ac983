import contextlib
import datetime
import io
import json
import re
import time
from html import unescape
from types import SimpleNamespace

import pytest
from django.core import mail, signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from events.models import Event, Speaker, SpeakerPhoto, Venue
from outbox.models import OutgoingMail
from registrations.models import MailKind
from speaker_edits import emails, services
from speaker_edits.images import process_photo
from speaker_edits.models import SpeakerEdit, SpeakerInvitation
from tests.html import page_text, parse_head
from tests.mime import sent, text_body

from .conftest import gps_exif, jpeg_bytes, png_declaring

pytestmark = pytest.mark.django_db


def edit_url(invitation):
    return reverse("speaker_edits:edit", kwargs={"event_id": invitation.event_id, "token": invitation.token})


def hidden(page: str, name: str) -> str:
    return unescape(re.search(rf'name="{name}" value="([^"]*)"', page).group(1))


def form_data(page: str, **changes) -> dict:
    """What the speaker's form posts when the speaker changes only `changes`."""
    current = {
        "title": unescape(re.search(r'name="title"[^>]*value="([^"]*)"', page).group(1)),
        "abstract": unescape(re.search(r'name="abstract"[^>]*>\n?(.*?)</textarea>', page, re.S).group(1)),
        "affiliation": unescape(re.search(r'name="affiliation"[^>]*value="([^"]*)"', page).group(1)),
        "website": "",
        "bio": unescape(re.search(r'name="bio"[^>]*>\n?(.*?)</textarea>', page, re.S).group(1)),
    }
    return {"state": hidden(page, "state"), "action": "preview", **current, **changes}


def preview(client, invitation, **changes):
    page = client.get(edit_url(invitation)).content.decode()
    return client.post(edit_url(invitation), form_data(page, **changes))


def confirm(client, invitation, preview_response):
    draft = hidden(preview_response.content.decode(), "draft")
    return client.post(edit_url(invitation), {"draft": draft, "action": "confirm"})


def photo_upload(data=None, name="me.jpg"):
    return SimpleUploadedFile(name, data if data is not None else jpeg_bytes(), content_type="image/jpeg")


@pytest.fixture
def invitation(event, invite):
    invitation = invite(event)
    mail.outbox.clear()
    return invitation


def test_the_speaker_edits_previews_and_saves_and_the_talk_page_shows_it_at_once(
    client, event, invitation, django_capture_on_commit_callbacks
):
    talk_page = client.get(event.get_absolute_url()).content.decode()  # now in the page cache
    assert "Video Generation, Two Years On" not in talk_page

    response = preview(client, invitation, title="Video Generation, Two Years On")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Preview of your changes" in page and "Video Generation, Two Years On" in page
    assert Event.objects.get(pk=event.pk).title != "Video Generation, Two Years On"  # nothing saved yet

    with django_capture_on_commit_callbacks(execute=True):
        saved = confirm(client, invitation, response)
    assert saved.status_code == 302
    assert saved["Location"].endswith("/saved/")
    assert "Your changes are saved" in client.get(saved["Location"]).content.decode()

    assert "Video Generation, Two Years On" in client.get(event.get_absolute_url()).content.decode()
    assert len(mail.outbox) == 2  # the organizers


def test_the_speaker_pages_are_private(client, invitation):
    response = client.get(edit_url(invitation))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"  # the token never leaves for another site
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_posting_the_same_preview_twice_saves_once(client, invitation, django_capture_on_commit_callbacks):
    response = preview(client, invitation, title="Said Once")
    with django_capture_on_commit_callbacks(execute=True):
        assert confirm(client, invitation, response).status_code == 302
        assert confirm(client, invitation, response).status_code == 302
    assert SpeakerEdit.objects.count() == 1
    assert len(mail.outbox) == 2


def test_going_back_from_the_preview_keeps_what_was_typed_and_the_new_photo(client, invitation):
    page = client.get(edit_url(invitation)).content.decode()
    response = client.post(edit_url(invitation), form_data(page, title="Draft Title", photo=photo_upload()))
    back = client.post(edit_url(invitation), {"draft": hidden(response.content.decode(), "draft"), "action": "change"})
    page = back.content.decode()
    assert 'value="Draft Title"' in page
    (photo,) = SpeakerPhoto.objects.all()
    assert f"/speakers/photos/{photo.digest}.jpg" in page
    # Previewed again without uploading it again: the photo is still the new one.
    again = client.post(edit_url(invitation), form_data(page))
    assert f"/speakers/photos/{photo.digest}.jpg" in again.content.decode()
    confirm(client, invitation, again)
    assert Speaker.objects.get(pk=invitation.speaker_id).photo_id == photo.digest


def test_script_in_the_bio_is_shown_as_text_everywhere(client, event, invitation):
    script = "<script>alert('bio')</script>"
    response = preview(client, invitation, bio=f"I study XSS. {script}")
    assert script not in response.content.decode()
    assert "&lt;script&gt;alert(&#x27;bio&#x27;)&lt;/script&gt;" in response.content.decode()
    confirm(client, invitation, response)
    talk_page = client.get(event.get_absolute_url()).content.decode()
    assert script not in talk_page and "&lt;script&gt;" in talk_page


def test_line_breaks_in_the_title_are_folded(client, event, invitation):
    confirm(client, invitation, preview(client, invitation, title="Part one\r\nBcc: victim@example.com\rPart two"))
    assert Event.objects.get(pk=event.pk).title == "Part one Bcc: victim@example.com Part two"


@pytest.mark.parametrize(("field", "limit"), [("title", 300), ("abstract", 5000), ("bio", 3000), ("affiliation", 200)])
def test_a_10_kb_field_is_refused_with_its_limit_and_nothing_changes(client, event, invitation, field, limit):
    response = preview(client, invitation, **{field: "é" * 10_000})
    assert response.status_code == 400
    assert f"Ensure this value has at most {limit} characters (it has 10000)." in response.content.decode()
    assert not SpeakerEdit.objects.exists()


def test_an_organizers_abstract_longer_than_a_speaker_may_write_does_not_stop_their_other_changes(
    client, event, invitation, speaker
):
    long_abstract = "Words about the talk. " * 300  # 6,600 characters, set in the admin
    Event.objects.filter(pk=event.pk).update(abstract=long_abstract.strip())

    saved = confirm(client, invitation, preview(client, invitation, bio="A new bio."))
    longer = preview(client, invitation, abstract=long_abstract + "x" * 10)

    assert saved.status_code == 302  # to the "saved" page
    assert Speaker.objects.get(pk=speaker.pk).bio == "A new bio."
    assert Event.objects.get(pk=event.pk).abstract == long_abstract.strip()
    assert longer.status_code == 400 and "Ensure this value has at most 6599 characters" in longer.content.decode()


def test_a_website_must_be_a_web_address(client, invitation):
    for address in ("javascript:alert(1)", "ftp://files.example.edu/me"):
        response = preview(client, invitation, website=address)
        assert response.status_code == 400
        # Once under the field (and once in the summary at the top), not once per validator.
        assert response.content.decode().count("<li>Enter a valid URL.</li>") == 1


def test_an_empty_title_is_refused(client, invitation):
    response = preview(client, invitation, title=" \r\n ")
    assert response.status_code == 400
    assert "Give the talk a title." in response.content.decode()


def test_a_preview_without_changes_says_so(client, invitation):
    response = preview(client, invitation)
    assert response.status_code == 400
    assert "Nothing is changed yet" in response.content.decode()


@pytest.mark.parametrize("days", [-2, 14])
def test_the_form_and_preview_speak_of_the_announcement_before_the_talk_and_of_its_record_after(
    client, make_event, invite, days
):
    talk = make_event(start=timezone.now() + datetime.timedelta(days=days))
    invitation = invite(talk)

    form = page_text(client.get(edit_url(invitation)))
    shown = page_text(preview(client, invitation, title="Video Generation, Two Years On"))

    if days < 0:
        assert "Your talk has taken place: add to or correct its record on the site." in form
        assert "Check the talk as its record on the site will show it, then save it" in shown
        assert "announce" not in form + shown
    else:
        assert "Correct or complete what the announcement of your talk says." in form
        assert "Check the talk as it will be announced, then save it" in shown
        assert "record" not in form + shown


def test_a_non_image_upload_is_refused_with_a_clear_message(client, invitation):
    response = preview(client, invitation, photo=photo_upload(b"MZ\x90\x00 this is a program", "me.jpg"))
    assert response.status_code == 400
    assert "This file is not a photo we can read. Upload a JPEG, PNG, WebP or GIF image." in response.content.decode()
    assert not SpeakerPhoto.objects.exists()


def test_a_huge_image_is_refused_with_a_clear_message(client, invitation):
    response = preview(client, invitation, photo=photo_upload(png_declaring(60_000, 60_000), "huge.png"))
    assert response.status_code == 400
    assert "This image has too many pixels" in response.content.decode()
    assert not SpeakerPhoto.objects.exists()


def test_the_uploaded_photo_is_served_without_exif_and_preferred_everywhere(client, event, invitation, speaker):
    speaker.photo_url = "https://www.cs.utexas.edu/photos/atlas-wang.jpg"
    speaker.save()
    confirm(
        client, invitation, preview(client, invitation, photo=photo_upload(jpeg_bytes((3000, 2000), exif=gps_exif())))
    )

    speaker.refresh_from_db()
    path = f"/speakers/photos/{speaker.photo_id}.jpg"
    served = client.get(path)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"
    assert served["Cache-Control"] == "public, max-age=86400, immutable"  # a day: an erased photo leaves caches
    stored = Image.open(io.BytesIO(served.content))
    assert stored.size == (800, 533)
    assert stored.getexif().get_ifd(0x8825) == {} and dict(stored.getexif()) == {}

    page = client.get(event.get_absolute_url()).content.decode()
    assert f'src="{path}"' in page and 'atlas-wang.jpg" alt' not in page
    head = parse_head(page)
    assert head.one("og:image") == f"https://seminars.example.edu{path}"
    listing = json.loads(client.get("/talks.json").content)
    assert listing["talks"][0]["speakers"][0]["photo"] == f"https://seminars.example.edu{path}"


def test_a_cached_photo_is_revalidated_until_it_is_erased(client, speaker, django_capture_on_commit_callbacks):
    speaker.photo = services.store_photo(photo=process_photo(photo_upload()))
    speaker.save()
    path, etag = speaker.photo_src, f'"{speaker.photo_id}"'
    assert client.get(path)["ETag"] == etag
    assert client.get(path, headers={"if-none-match": etag}).status_code == 304
    with django_capture_on_commit_callbacks(execute=True):
        speaker.photo = None
        speaker.save()
    assert client.get(path, headers={"if-none-match": etag}).status_code == 404


def test_an_unknown_photo_is_not_found(client):
    assert client.get(f"/speakers/photos/{'0' * 64}.jpg").status_code == 404


@pytest.mark.parametrize(
    ("spoil", "status", "message"),
    [
        (lambda invitation: services.revoke_invitation(invitation=invitation), 410, "withdrawn this link"),
        (
            lambda invitation: SpeakerInvitation.objects.filter(pk=invitation.pk).update(
                expires_at=invitation.created_at
            ),
            410,
            "This link expired",
        ),
    ],
    ids=["revoked", "expired"],
)
def test_a_revoked_or_expired_link_shows_why_and_saves_nothing(client, event, invitation, spoil, status, message):
    response = preview(client, invitation, title="Never Saved")
    spoil(invitation)
    for answer in (client.get(edit_url(invitation)), confirm(client, invitation, response)):
        assert answer.status_code == status
        assert message in answer.content.decode()
    assert Event.objects.get(pk=event.pk).title != "Never Saved"


def test_a_tampered_link_or_one_for_another_talk_is_not_found(client, make_event, invite):
    first, second = make_event(), make_event()
    invitation = invite(first)
    for url in (
        reverse("speaker_edits:edit", kwargs={"event_id": second.pk, "token": invitation.token}),
        reverse("speaker_edits:edit", kwargs={"event_id": first.pk, "token": invitation.token[:-2] + "zz"}),
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert "This link is not valid" in response.content.decode()


def test_a_draft_signed_for_one_link_does_not_save_through_another(client, make_event, invite):
    first, second = make_event(), make_event()
    mine, other = invite(first), invite(second)
    response = preview(client, mine, title="Hijacked")
    draft = hidden(response.content.decode(), "draft")
    answer = client.post(edit_url(other), {"draft": draft, "action": "confirm"})
    assert "This page could not be read." in answer.content.decode()
    assert "Hijacked" not in answer.content.decode()
    assert not Event.objects.filter(title="Hijacked").exists()


def test_the_speaker_form_needs_csrf(event, invitation):
    csrf_client = Client(enforce_csrf_checks=True)
    page = csrf_client.get(edit_url(invitation)).content.decode()
    response = csrf_client.post(edit_url(invitation), form_data(page, title="No Token"))
    assert response.status_code == 403


def test_the_speaker_form_page_runs_a_fixed_number_of_queries(client, invitation, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        assert client.get(edit_url(invitation)).status_code == 200


# The organizers' page


def staff_page(event):
    return reverse("speaker_edits:event", args=[event.pk])


def test_the_talk_admin_links_the_speaker_edits_page(client, event, organizer):
    client.force_login(organizer)
    page = client.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()
    assert f'href="{staff_page(event)}"' in page


def test_an_organizer_sends_and_revokes_a_link_from_the_staff_page(
    client, event, organizer, speaker, django_capture_on_commit_callbacks
):
    client.force_login(organizer)
    page = client.get(staff_page(event)).content.decode()
    assert "Invite the speaker to edit" in page
    deadline = re.search(r'name="expires_at" value="([^"]+)"', page).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            staff_page(event), {"speaker": speaker.pk, "email": "atlas@example.edu", "expires_at": deadline}
        )
    assert response.status_code == 302
    invitation = SpeakerInvitation.objects.get()
    assert invitation.url in text_body(sent()[0])

    client.post(reverse("speaker_edits:revoke", args=[event.pk, invitation.pk]))
    assert SpeakerInvitation.objects.get().revoked_at is not None
    assert Client().get(edit_url(invitation)).status_code == 410


def test_the_staff_page_writes_when_links_were_sent_work_until_and_were_used_on_the_talks_clock(
    client, make_event, organizer, speaker
):
    madrid = Venue.objects.create(room="Aula 2", default_capacity=50, time_zone="Europe/Madrid")
    talk = make_event(venue=madrid)
    sent_at = datetime.datetime(2026, 12, 15, 17, 0, tzinfo=datetime.UTC)
    link = SpeakerInvitation.objects.create(
        event=talk, speaker=speaker, email="atlas@example.edu", expires_at=sent_at + datetime.timedelta(days=7)
    )
    used = SpeakerEdit.objects.create(invitation=link, event=talk, speaker=speaker, draft_id="d1", after={"title": "X"})
    SpeakerInvitation.objects.filter(pk=link.pk).update(created_at=sent_at)
    SpeakerEdit.objects.filter(pk=used.pk).update(created_at=sent_at + datetime.timedelta(days=1))
    client.force_login(organizer)

    page = unescape(client.get(staff_page(talk)).content.decode())

    assert "<td>Tuesday, December 15, 2026, 6:00 PM CET</td>" in page
    assert "<td>Tuesday, December 22, 2026, 6:00 PM CET</td>" in page
    assert f"<h3>{speaker.name}, Wednesday, December 16, 2026, 6:00 PM CET</h3>" in page


def test_the_staff_page_lists_a_speaker_at_an_international_domain_as_typed(client, event, organizer, speaker):
    client.force_login(organizer)
    page = client.get(staff_page(event)).content.decode()
    deadline = re.search(r'name="expires_at" value="([^"]+)"', page).group(1)
    # As a browser posts it: the domain in ASCII.
    client.post(staff_page(event), {"speaker": speaker.pk, "email": "atlas@xn--r8jz45g.jp", "expires_at": deadline})

    page = client.get(staff_page(event)).content.decode()
    assert "<td>atlas@例え.jp</td>" in page and "xn--" not in page


def test_the_staff_page_refuses_a_deadline_in_the_past(client, event, organizer, speaker):
    client.force_login(organizer)
    response = client.post(
        staff_page(event), {"speaker": speaker.pk, "email": "atlas@example.edu", "expires_at": "2020-01-01T10:00"}
    )
    assert response.status_code == 400
    assert "Choose a deadline in the future." in response.content.decode()
    assert not SpeakerInvitation.objects.exists()


def test_another_series_organizer_sees_nothing(client, event, invitation, make_team_member):
    from events.models import Series

    other_series = Series.objects.create(
        name="Other", slug="other", organizer_name="O", organizer_email="o@example.edu"
    )
    outsider = make_team_member(other_series, "outsider")
    client.force_login(outsider)
    assert client.get(staff_page(event)).status_code == 404
    assert client.post(reverse("speaker_edits:revoke", args=[event.pk, invitation.pk])).status_code == 404
    assert client.post(reverse("speaker_edits:decide_update", args=[event.pk]), {"send": "yes"}).status_code == 404
    assert SpeakerInvitation.objects.get().revoked_at is None
    changelist = client.get(reverse("admin:speaker_edits_speakerinvitation_changelist"))
    assert "atlas@example.edu" not in changelist.content.decode()
    assert not OutgoingMail.objects.managed_by(outsider).filter(kind=emails.INVITATION).exists()
    assert (
        OutgoingMail.objects.managed_by(make_team_member(event.series, "insider"))
        .filter(kind=emails.INVITATION)
        .exists()
    )


def test_the_history_shows_both_versions_and_the_pending_update_is_decided_there(
    client, event, invitation, organizer, sign_up, django_capture_on_commit_callbacks
):
    sign_up(event, email="ana@example.edu")
    old_title = event.title
    confirm(Client(), invitation, preview(Client(), invitation, title="Renamed By The Speaker"))

    client.force_login(organizer)
    page = client.get(staff_page(event)).content.decode()
    assert old_title in page and "Renamed By The Speaker" in page
    assert "Send an update to the 1 registrant?" in page

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("speaker_edits:decide_update", args=[event.pk]), {"send": "yes"})
    assert response.status_code == 302
    assert OutgoingMail.objects.filter(kind=MailKind.EVENT_CHANGED).count() == 1
    assert [message["To"].addresses[0].addr_spec for message in sent()] == ["ana@example.edu"]
    assert "Send an update" not in client.get(staff_page(event)).content.decode()


def test_the_edit_history_is_in_the_admin(client, event, invitation, organizer):
    confirm(client, invitation, preview(client, invitation, bio="A new bio."))
    client.force_login(organizer)
    edit = SpeakerEdit.objects.get()
    page = client.get(reverse("admin:speaker_edits_speakeredit_change", args=[edit.pk])).content.decode()
    assert "A new bio." in page and "Atlas Wang is an associate professor at UT Austin." in page


def photo_path_in(page: str) -> str:
    return re.search(r'src="(/speakers/photos/[0-9a-f]{64}\.jpg)"', page).group(1)


def send_queued_mail() -> str:
    out = io.StringIO()
    call_command("send_queued_mail", stdout=out)
    return out.getvalue()


def test_a_replaced_or_removed_photo_stops_being_served(
    client, event, invitation, organizer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = preview(client, invitation, photo=photo_upload(jpeg_bytes(color=(10, 10, 10))))
        confirm(client, invitation, first)
    first_path = photo_path_in(first.content.decode())
    assert client.get(first_path).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        second = preview(client, invitation, photo=photo_upload(jpeg_bytes(color=(250, 250, 250))))
        confirm(client, invitation, second)
    second_path = photo_path_in(second.content.decode())
    assert client.get(first_path).status_code == 404
    assert client.get(second_path).status_code == 200
    assert f'src="{second_path}"' in client.get(event.get_absolute_url()).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        confirm(client, invitation, preview(client, invitation, remove_photo="on"))
    assert client.get(second_path).status_code == 404
    assert "/speakers/photos/" not in client.get(event.get_absolute_url()).content.decode()
    assert not SpeakerPhoto.objects.exists()

    # The history says so rather than showing broken images.
    staff = Client()
    staff.force_login(organizer)
    page = staff.get(staff_page(event)).content.decode()
    assert "/speakers/photos/" not in page
    assert page.count("(removed from the site)") == 4  # two edits' "after", then "before"


def test_a_photo_dropped_before_saving_is_erased_at_once(client, invitation):
    page = client.get(edit_url(invitation)).content.decode()
    first = client.post(edit_url(invitation), form_data(page, photo=photo_upload(jpeg_bytes(color=(10, 10, 10)))))
    first_path = photo_path_in(first.content.decode())
    back = client.post(edit_url(invitation), {"draft": hidden(first.content.decode(), "draft"), "action": "change"})
    second = client.post(
        edit_url(invitation), form_data(back.content.decode(), photo=photo_upload(jpeg_bytes(color=(250, 250, 250))))
    )
    assert second.status_code == 200
    assert client.get(first_path).status_code == 404
    assert client.get(photo_path_in(second.content.decode())).status_code == 200


def test_a_photo_previewed_and_never_saved_is_erased_by_the_sweeper(client, event, invitation, speaker):
    shown = services.store_photo(photo=process_photo(photo_upload(jpeg_bytes(color=(0, 90, 0)))))
    speaker.photo = shown
    speaker.save()
    abandoned = preview(client, invitation, photo=photo_upload(jpeg_bytes(color=(10, 10, 10))))
    abandoned_path = photo_path_in(abandoned.content.decode())
    a_day_ago = timezone.now() - services.UNSAVED_PHOTO_AGE - datetime.timedelta(minutes=1)
    SpeakerPhoto.objects.update(created_at=a_day_ago)
    # Another speaker's photo, in a preview right now, waits for its confirmation.
    recent = preview(Client(), invitation, photo=photo_upload(jpeg_bytes(color=(250, 250, 250))))
    recent_path = photo_path_in(recent.content.decode())

    assert "1 unsaved speaker photos erased" in send_queued_mail()

    assert client.get(abandoned_path).status_code == 404
    assert client.get(recent_path).status_code == 200
    assert client.get(shown.get_absolute_url()).status_code == 200  # shown on the talk page, however old


def test_previewing_again_keeps_a_photo_from_the_sweeper_and_one_swept_is_asked_for_again(client, invitation):
    page = client.get(edit_url(invitation)).content.decode()
    first = client.post(edit_url(invitation), form_data(page, photo=photo_upload()))
    back = client.post(edit_url(invitation), {"draft": hidden(first.content.decode(), "draft"), "action": "change"})
    a_day_ago = timezone.now() - services.UNSAVED_PHOTO_AGE - datetime.timedelta(minutes=1)
    SpeakerPhoto.objects.update(created_at=a_day_ago)

    again = client.post(edit_url(invitation), form_data(back.content.decode(), title="Still Editing"))
    assert again.status_code == 200
    send_queued_mail()
    assert client.get(photo_path_in(again.content.decode())).status_code == 200

    back = client.post(edit_url(invitation), {"draft": hidden(again.content.decode(), "draft"), "action": "change"})
    SpeakerPhoto.objects.update(created_at=a_day_ago)
    send_queued_mail()
    lost = client.post(edit_url(invitation), form_data(back.content.decode(), title="Still Editing"))
    assert lost.status_code == 400
    page = lost.content.decode()
    assert "Your new photo was lost. Upload it again, please." in page
    assert 'value="Still Editing"' in page
    assert "/speakers/photos/" not in page


def section_text(page: str, heading_id: str) -> str:
    """The words of the section labelled by `heading_id`, as a screen reader reads them."""
    section = re.search(rf'aria-labelledby="{heading_id}">(.*?)</section>', page, re.S).group(1)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", section)).split())


def test_a_change_made_meanwhile_keeps_what_the_speaker_typed_and_shows_what_changed(
    client, event, invitation, speaker, django_capture_on_commit_callbacks
):
    old_title, old_abstract, old_bio = event.title, event.abstract, speaker.bio
    previewed = preview(client, invitation, title="The Speaker's Title", bio="The speaker's own bio.")
    # Meanwhile an organizer renames the talk and rewrites the abstract.
    event.title, event.abstract = "The Organizer's Title", "The organizer's new abstract."
    event.save()

    response = confirm(client, invitation, previewed)

    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone changed these details while you were editing." in page
    # What the speaker typed is in the form; the abstract they left alone shows the organizer's.
    assert form_data(page) | {"state": ""} == {
        "state": "",
        "action": "preview",
        "title": "The Speaker's Title",
        "abstract": "The organizer's new abstract.",
        "affiliation": speaker.affiliation,
        "website": "",
        "bio": "The speaker's own bio.",
    }
    # Only the field both changed is listed, with what it said then and says now.
    meanwhile = section_text(page, "meanwhile-heading")
    assert f"Title {old_title} The Organizer's Title" in meanwhile
    assert "Abstract" not in meanwhile and old_abstract not in meanwhile
    assert Event.objects.get(pk=event.pk).title == "The Organizer's Title"
    assert not SpeakerEdit.objects.exists()

    # Merged and saved again: the speaker's title and bio, the organizer's abstract.
    again = client.post(edit_url(invitation), form_data(page, title="The Merged Title"))
    assert again.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert confirm(client, invitation, again).status_code == 302
    event.refresh_from_db()
    speaker.refresh_from_db()
    assert (event.title, event.abstract) == ("The Merged Title", "The organizer's new abstract.")
    assert speaker.bio == "The speaker's own bio."
    assert SpeakerEdit.objects.get().before == {"title": "The Organizer's Title", "bio": old_bio}


def test_a_photo_lost_before_saving_keeps_the_rest_of_what_was_typed(client, invitation):
    previewed = preview(client, invitation, title="Typed With Care", photo=photo_upload())
    SpeakerPhoto.objects.all().delete()  # erased as never saved

    response = confirm(client, invitation, previewed)

    assert response.status_code == 409
    page = response.content.decode()
    assert "Your new photo was lost. Upload it again, please." in page
    assert form_data(page)["title"] == "Typed With Care"
    assert "/speakers/photos/" not in page
    assert not SpeakerEdit.objects.exists()


@contextlib.contextmanager
def signed_ago(monkeypatch, delta: datetime.timedelta):
    """Pages rendered inside are signed as if `delta` ago: the form or preview has been open that long since."""
    with monkeypatch.context() as patch:
        patch.setattr(signing, "time", SimpleNamespace(time=lambda: time.time() - delta.total_seconds()))
        yield


def test_a_form_open_for_days_keeps_what_was_typed(client, invitation, monkeypatch):
    with signed_ago(monkeypatch, datetime.timedelta(days=3)):
        page = client.get(edit_url(invitation)).content.decode()
    response = client.post(edit_url(invitation), form_data(page, title="Written Over A Weekend"))
    assert response.status_code == 200
    assert "Preview of your changes" in response.content.decode()
    assert "Written Over A Weekend" in response.content.decode()


@pytest.mark.parametrize("action", ["confirm", "change"])
def test_a_preview_open_too_long_is_not_saved_but_its_changes_go_back_in_the_form(
    client, event, invitation, action, monkeypatch
):
    with signed_ago(monkeypatch, services.DRAFT_MAX_AGE + datetime.timedelta(minutes=1)):
        previewed = preview(client, invitation, title="Previewed Friday", photo=photo_upload())
    SpeakerPhoto.objects.all().delete()  # erased over the weekend, as never saved

    response = client.post(
        edit_url(invitation), {"draft": hidden(previewed.content.decode(), "draft"), "action": action}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "This preview was open too long." in page and "Your new photo was lost." in page
    assert form_data(page)["title"] == "Previewed Friday"
    assert "/speakers/photos/" not in page
    assert Event.objects.get(pk=event.pk).title != "Previewed Friday"
    assert not SpeakerEdit.objects.exists()
