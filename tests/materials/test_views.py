"""Files are served as sandboxed PDF downloads; the speaker's link adds slides; any storage works."""

import datetime
import io

import pytest
from django.core import mail
from django.core.files.storage import InMemoryStorage
from django.urls import reverse
from pypdf import PdfReader

from materials.models import Kind, Material, Visibility
from outbox.models import OutgoingMail
from speaker_edits.models import SpeakerInvitation
from tests import pdfs
from tests.html import page_text


@pytest.fixture
def invitation(past_event, speaker, make_team_member, series):
    make_team_member(series, "olga").__class__.objects.filter(username="olga").update(email="olga@example.edu")
    return SpeakerInvitation.objects.create(
        event=past_event,
        speaker=speaker,
        email="atlas@example.edu",
        expires_at=past_event.end + datetime.timedelta(days=14),
    )


def speaker_page(invitation) -> str:
    return reverse("materials:speaker", kwargs={"event_id": invitation.event_id, "token": invitation.token})


def test_a_file_is_a_pdf_download_that_cannot_run_on_the_site(client, past_event, add_material):
    content = pdfs.slides(pages=3)
    material = add_material(past_event, content=content, name="Wang – Video generation.pdf")

    response = client.get(material.get_absolute_url())

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="Wang_Video_generation.pdf"'

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    body = b"".join(response.streaming_content)
    assert body == content
    assert len(PdfReader(io.BytesIO(body)).pages) == 3


def test_a_file_name_in_another_script_is_given_as_rfc_6266_says(client, past_event, add_material):
    material = add_material(past_event, name="Pérez — Retículos.pdf")

    response = client.get(material.get_absolute_url())

    assert response["Content-Disposition"] == "attachment; filename*=utf-8''P%C3%A9rez_Ret%C3%ADculos.pdf"


def test_a_public_file_may_be_cached_briefly_and_a_private_one_never(client, past_event, add_material, audience):
    public = add_material(past_event)
    private = add_material(past_event, visibility=Visibility.REGISTRANTS)
    from materials.models import registrant_path

    public_response = client.get(public.get_absolute_url())
    private_response = client.get(registrant_path(audience["came"]) + f"{private.key}/{private.download_name}")

    assert public_response["Cache-Control"] == "public, max-age=300"
    assert "no-store" in private_response["Cache-Control"]
    assert private_response["X-Robots-Tag"] == "noindex"
    repeat = client.get(public.get_absolute_url(), headers={"if-none-match": public_response["ETag"]})
    assert repeat.status_code == 304


def test_the_stored_name_holds_nothing_of_the_uploaded_one(past_event, add_material, materials_dir):
    material = add_material(past_event, name="../../etc/passwd.pdf")

    assert material.file.name == f"materials/{past_event.pk}/{material.key}.pdf"
    assert (materials_dir / material.file.name).read_bytes() == pdfs.slides()
    assert material.download_name == "passwd.pdf"


def test_removing_a_material_removes_its_file_once_committed(
    past_event, add_material, materials_dir, django_capture_on_commit_callbacks
):
    from materials import services

    material = add_material(past_event)
    stored = materials_dir / material.file.name
    with django_capture_on_commit_callbacks(execute=True):
        assert services.remove_material(material=material)

    assert not stored.exists()
    assert not Material.objects.exists()


def test_any_storage_works_not_only_a_directory(settings, past_event, add_material, client):
    settings.STORAGES = settings.STORAGES | {"materials": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    content = pdfs.slides(pages=1)

    material = add_material(past_event, content=content)

    from materials.storage import storage

    assert isinstance(storage._wrapped, InMemoryStorage)
    assert b"".join(client.get(material.get_absolute_url()).streaming_content) == content


def test_a_missing_file_is_a_404_not_an_error(client, past_event, add_material, materials_dir):
    material = add_material(past_event)
    (materials_dir / material.file.name).unlink()

    assert client.get(material.get_absolute_url()).status_code == 404


def test_the_talk_page_lists_public_materials_and_changes_when_they_do(client, past_event, add_material):
    assert "Materials" not in page_text(client.get(past_event.get_absolute_url()))

    add_material(past_event, title="Slides of the talk")
    add_material(past_event, kind=Kind.RECORDING, title="Recording", url="https://video.example.edu/42")
    add_material(past_event, kind=Kind.PAPER, title="The arXiv preprint", url="https://arxiv.org/abs/1234.5678")

    page = page_text(client.get(past_event.get_absolute_url())).replace("\xa0", " ")
    assert "Materials" in page
    # The kind is said once: not again after a title that names it.
    assert "Slides of the talk (PDF, 1.0 KB)" in page and "(Slides" not in page
    assert "Recording" in page and "(Recording)" not in page
    assert "The arXiv preprint (Paper)" in page


# The speaker's link


def test_the_speaker_adds_slides_through_their_link_and_organizers_are_told(
    client, invitation, django_capture_on_commit_callbacks
):
    content = pdfs.slides()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            speaker_page(invitation),
            {"kind": "slides", "title": "", "visibility": "public", "file": pdfs.upload(content, "talk.pdf")},
        )

    assert response.status_code == 302
    material = Material.objects.get()
    assert (material.display_title, material.kind, material.added_by_speaker) == (
        "Slides",
        "slides",
        invitation.speaker,
    )
    assert material.file.read() == content
    notes = OutgoingMail.objects.filter(kind="materials.speaker_added")
    assert sorted(notes.values_list("recipient", flat=True)) == ["ifml-seminar@example.edu", "olga@example.edu"]
    assert {message.subject for message in mail.outbox} == {
        "Atlas Wang added “Slides” to Generating a Video: Reflecting on a Two-Year Odyssey"
    }
    assert material.get_absolute_url() in mail.outbox[0].body


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (pdfs.PNG, "This is not a PDF file."),
        (pdfs.with_javascript(), "This PDF contains JavaScript"),
        (pdfs.with_html_after_the_end(), "This PDF contains web page code"),
        (b"", "The submitted file is empty."),
    ],
)
def test_the_speakers_refused_upload_is_explained_and_stores_nothing(
    client, invitation, materials_dir, content, message
):
    response = client.post(
        speaker_page(invitation), {"kind": "slides", "visibility": "public", "file": pdfs.upload(content)}
    )

    assert response.status_code == 400
    assert message in page_text(response)
    assert not Material.objects.exists()
    assert not any(path.is_file() for path in materials_dir.rglob("*"))


def test_the_speaker_may_give_a_link_but_not_both_or_neither(client, invitation):
    url = speaker_page(invitation)
    neither = client.post(url, {"kind": "slides", "visibility": "public"})
    both = client.post(
        url,
        {"kind": "slides", "visibility": "public", "url": "https://x.example.edu", "file": pdfs.upload(pdfs.slides())},
    )
    link = client.post(url, {"kind": "code", "visibility": "registrants", "url": "github.com/atlas/video"})

    assert neither.status_code == both.status_code == 400
    assert link.status_code == 302
    assert Material.objects.get().url == "https://github.com/atlas/video"


def test_the_speaker_removes_only_what_they_added(client, invitation, add_material):
    theirs = add_material(invitation.event, speaker=invitation.speaker)
    organizers = add_material(invitation.event, title="Recording", kind=Kind.RECORDING, url="https://v.example.edu")

    client.post(speaker_page(invitation), {"remove": organizers.key})
    client.post(speaker_page(invitation), {"remove": theirs.key})

    assert list(Material.objects.all()) == [organizers]


@pytest.mark.parametrize("change", ["tampered", "another talk", "revoked"])
def test_a_speaker_link_that_does_not_work_adds_nothing(client, invitation, make_event, change):
    url = speaker_page(invitation)
    if change == "tampered":
        url = url.replace(invitation.token, invitation.token[:-1] + "x")
    elif change == "another talk":
        url = url.replace(f"/{invitation.event_id}/", f"/{make_event().pk}/")
    else:
        invitation.revoked_at = invitation.created_at
        invitation.save()

    response = client.post(url, {"kind": "slides", "visibility": "public", "file": pdfs.upload(pdfs.slides())})

    assert response.status_code == (410 if change == "revoked" else 404)
    assert not Material.objects.exists()


def test_the_speakers_edit_page_links_to_their_slides(client, invitation):
    page = client.get(
        reverse("speaker_edits:edit", kwargs={"event_id": invitation.event_id, "token": invitation.token})
    ).content.decode()
    assert f'href="{speaker_page(invitation)}"' in page


def test_a_speaker_link_sent_after_the_talk_works_for_the_slides(past_event, settings):
    from django.utils import timezone

    from speaker_edits.services import default_deadline

    settings.SPEAKER_EDIT_LINK_DAYS = 14
    assert default_deadline(past_event) > timezone.now() + datetime.timedelta(days=13)


def test_a_registrants_own_page_lists_the_materials_for_them(client, audience, past_event, add_material):
    add_material(past_event, title="Public slides")
    add_material(past_event, title="Handout", visibility=Visibility.REGISTRANTS)
    add_material(past_event, title="Speaker notes", visibility=Visibility.STAFF)

    page = page_text(client.get(audience["came"].get_absolute_url()))
    cancelled = page_text(client.get(audience["cancelled"].get_absolute_url()))

    assert "Public slides" in page and "Handout" in page and "Speaker notes" not in page
    assert "Handout" not in cancelled
