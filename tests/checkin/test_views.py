import datetime
import io

import pytest
import zxingcpp
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from events.models import Event, Series, SeriesMember
from registrations import services
from registrations.models import Registration, RegistrationLog
from tests.mime import html_body, sent, text_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def dora(make_team_member, series):
    return make_team_member(series, "dora", role=SeriesMember.Role.DOOR)


@pytest.fixture
def stranger_organizer(make_team_member):
    other = Series.objects.create(name="Other", slug="other", organizer_name="O", organizer_email="o@example.edu")
    return make_team_member(other, "bob")


def decode(png: bytes) -> str:
    [result] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return result.text


# The ticket: QR code in the emails and on the registrant's page


def test_confirmation_email_carries_the_check_in_qr_inline_by_content_id(
    event, sign_up, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        registration = sign_up(event, name="Ana, López", email="ana@example.edu")

    [message] = sent()
    images = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert len(images) == 1
    cid = images[0]["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html_body(message)
    assert decode(images[0].get_content()) == registration.checkin_url
    assert registration.checkin_url in text_body(message)
    assert registration.checkin_url != registration.manage_url
    assert registration.token not in registration.checkin_url


def test_reminder_email_carries_the_qr_too(make_event, sign_up, django_capture_on_commit_callbacks):
    event = make_event(start=timezone.now() + datetime.timedelta(hours=3))
    registration = sign_up(event)
    # Registered before the reminder time (people who sign up later get no reminder).
    Registration.objects.filter(pk=registration.pk).update(created_at=timezone.now() - datetime.timedelta(days=2))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.queue_due_reminders() == 1

    [message] = sent()
    assert message["Subject"].startswith("Reminder")
    [image] = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert decode(image.get_content()) == registration.checkin_url


def test_waiting_list_email_has_no_ticket(make_event, sign_up, django_capture_on_commit_callbacks):
    event = make_event(capacity=0)
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(event)
    [message] = sent()
    assert not [part for part in message.walk() if part.get_content_type() == "image/png"]


def test_self_service_page_shows_the_ticket(client, event, sign_up):
    registration = sign_up(event)

    page = client.get(registration.get_absolute_url()).content.decode()
    png = client.get(reverse("registrations:ticket_png", args=[registration.token]))

    assert reverse("registrations:ticket_png", args=[registration.token]) in page
    assert png["Content-Type"] == "image/png"
    assert decode(png.content) == registration.checkin_url


# Scanning a ticket


def test_stranger_who_scans_a_ticket_sees_nothing_personal_and_checks_no_one_in(client, event, sign_up):
    registration = sign_up(event, name="Ana Secret", affiliation="Hidden Lab")

    shown = client.get(reverse("checkin:scan", args=[registration.checkin_token]))
    posted = client.post(reverse("checkin:scan", args=[registration.checkin_token]))

    for response in (shown, posted):
        assert response.status_code == 403
        html = response.content.decode()
        assert "Ana Secret" not in html and "Hidden Lab" not in html and registration.email not in html
    assert Registration.objects.get(pk=registration.pk).checked_in_at is None


def test_another_series_organizer_cannot_check_in(client, event, sign_up, stranger_organizer):
    registration = sign_up(event, name="Ana Secret")
    client.force_login(stranger_organizer)

    response = client.post(reverse("checkin:scan", args=[registration.checkin_token]))

    assert response.status_code == 403
    assert "Ana Secret" not in response.content.decode()
    assert Registration.objects.get(pk=registration.pk).checked_in_at is None


def test_door_staff_see_the_person_and_check_in_with_one_tap(client, event, sign_up, dora):
    registration = sign_up(event, name="Ana López", affiliation="Oden Institute")
    client.force_login(dora)
    url = reverse("checkin:scan", args=[registration.checkin_token])

    page = client.get(url).content.decode()
    first = client.post(url, follow=True).content.decode()
    second = client.post(url, follow=True).content.decode()

    assert "Ana López" in page and "Oden Institute" in page and "Confirmed" in page
    assert "Ana López is checked in." in first
    registration.refresh_from_db()
    assert "already checked in at" in second
    assert RegistrationLog.objects.filter(registration=registration, action="checked_in", actor=dora).count() == 1


@pytest.mark.parametrize("mangle", ["forged", "altered", "manage-token"])
def test_forged_or_altered_check_in_links_are_refused(client, event, sign_up, dora, mangle):
    registration = sign_up(event)
    token = {
        "forged": f"{registration.key}:not-a-signature",
        "altered": registration.checkin_token[:-2] + ("AA" if not registration.checkin_token.endswith("AA") else "BB"),
        "manage-token": registration.token,
    }[mangle]
    client.force_login(dora)

    response = client.post(reverse("checkin:scan", args=[token]))

    assert response.status_code == 404
    assert Registration.objects.get(pk=registration.pk).checked_in_at is None


def test_check_in_token_cannot_open_the_self_service_page(client, event, sign_up):
    registration = sign_up(event)
    assert client.get(reverse("registrations:manage", args=[registration.checkin_token])).status_code == 404
    assert client.get(reverse("registrations:cancel", args=[registration.checkin_token])).status_code == 404


def test_cancelled_registration_ticket_is_refused(client, event, sign_up, dora):
    registration = sign_up(event)
    services.cancel_registration(registration=registration)
    client.force_login(dora)
    url = reverse("checkin:scan", args=[registration.checkin_token])

    page = client.get(url).content.decode()
    client.post(url)

    assert "Not a confirmed seat" in page
    assert Registration.objects.get(pk=registration.pk).checked_in_at is None


# The check-in page of a talk


def door_page(client, event, **params):
    return client.get(reverse("checkin:event", args=[event.pk]), params)


def test_door_page_counts_searches_and_shows_every_status(client, make_event, sign_up, dora):
    event = make_event(capacity=2)
    ana = sign_up(event, name="Ana López", email="ana@example.edu")
    sign_up(event, name="Bob Stone", email="bob@example.edu")
    sign_up(event, name="Cara Wait", email="cara@example.edu")
    services.check_in(registration=ana)
    client.force_login(dora)

    everyone = door_page(client, event).content.decode()
    found = door_page(client, event, q="BOB@example").content.decode()

    assert "1 of 2 here" in everyone
    assert "Waiting list (no seat)" in everyone and "Here since" in everyone
    assert "Bob Stone" in found and "Ana López" not in found and "Cara Wait" not in found


def test_door_page_of_another_series_is_not_found(client, event, stranger_organizer):
    client.force_login(stranger_organizer)
    assert door_page(client, event).status_code == 404
    assert client.post(reverse("checkin:no_shows", args=[event.pk])).status_code == 404


def test_door_staff_reach_the_door_pages_of_their_series(client, event, dora):
    client.force_login(dora)
    assert client.get(reverse("checkin:index")).status_code == 200
    assert door_page(client, event).status_code == 200


def test_check_in_and_undo_from_the_list_keep_the_search(client, event, sign_up, dora):
    registration = sign_up(event, name="Ana")
    client.force_login(dora)
    back = reverse("checkin:event", args=[event.pk]) + "?q=ana"

    checked = client.post(reverse("checkin:check_in", args=[event.pk, registration.pk]), {"next": back})
    assert checked["Location"] == back
    assert Registration.objects.get(pk=registration.pk).checked_in_at is not None
    client.post(reverse("checkin:undo", args=[event.pk, registration.pk]), {"next": "https://evil.example/"})
    assert Registration.objects.get(pk=registration.pk).checked_in_at is None


def test_walk_in_form_over_capacity_only_when_ticked(client, make_event, sign_up, dora):
    event = make_event(capacity=1)
    sign_up(event)
    client.force_login(dora)
    url = reverse("checkin:walk_in", args=[event.pk])
    data = {"name": "Wal <script>", "email": "wal@example.edu", "affiliation": "", "position": ""}

    refused = client.post(url, data)
    admitted = client.post(url, data | {"over_capacity": "on"}, follow=True)

    assert refused.status_code == 400
    assert "Choose “over capacity”" in refused.content.decode()
    assert "Wal &lt;script&gt; is checked in." in admitted.content.decode()
    assert Registration.objects.get(email="wal@example.edu").checked_in_at is not None


def test_walk_in_form_refuses_line_breaks(client, event, dora):
    client.force_login(dora)
    response = client.post(
        reverse("checkin:walk_in", args=[event.pk]), {"name": "A\r\nBcc: x@example.com", "email": "a@example.edu"}
    )
    assert response.status_code == 400
    assert not Registration.objects.filter(email="a@example.edu").exists()


def test_no_show_button_marks_the_rest(client, make_event, sign_up, dora):
    event = make_event(capacity=2)
    came, missed = sign_up(event), sign_up(event)
    services.check_in(registration=came)
    Event.objects.filter(pk=event.pk).update(
        start=timezone.now() - datetime.timedelta(hours=2), end=timezone.now() - datetime.timedelta(hours=1)
    )
    client.force_login(dora)

    response = client.post(reverse("checkin:no_shows", args=[event.pk]), follow=True)

    assert "1 marked as no-show." in response.content.decode()
    assert Registration.objects.get(pk=missed.pk).no_show_at is not None


def test_talk_admin_links_to_its_check_in_page(admin_client, event):
    page = admin_client.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()
    assert reverse("checkin:event", args=[event.pk]) in page
