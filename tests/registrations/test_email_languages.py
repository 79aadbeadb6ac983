"""Every message to a registrant is written in the language they registered in, whoever causes it."""

import datetime
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from events.when import SHORT, talk_when
from mailings import services as mailings
from mailings.models import Mailing
from outbox.models import OutgoingMail
from registrations import services
from registrations.mail import queue
from registrations.models import MailKind, Registration
from seminar_site.i18n import in_language
from tests.admin_forms import event_form_data, inline_management_data
from tests.mime import html_body, invite, sent, text_body

pytestmark = pytest.mark.django_db

SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es-ES,es;q=0.9"}
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def register(client, event, name, email, headers):
    data = {"name": name, "email": email, "affiliation": "", "position": "", "consent": "on", "website": ""}
    response = client.post(reverse("registrations:register", kwargs={"slug": event.slug}), data, **headers)
    assert response.status_code == 302
    return Registration.objects.get(email=email)


def to(address):
    return next(message for message in sent() if message["To"].addresses[0].addr_spec == address)


def move(admin_client, event, later):
    """An English-speaking organizer moves the talk in the admin and sends the update."""
    url = f"/admin/events/event/{event.pk}/change/"
    fields = {"title": event.title, "slug": event.slug, "status": event.status, "abstract": event.abstract}
    data = event_form_data(
        series=event.series,
        venue=event.venue,
        speakers=event.speakers.all(),
        start=later,
        end=later + datetime.timedelta(hours=1),
        capacity=event.capacity,
        send_update="yes",
        **fields,
    )
    return admin_client.post(url, data | inline_management_data(admin_client, url), follow=True, **ENGLISH)


@pytest.fixture
def lucia_and_ana(client, event, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        lucia = register(client, event, "Lucía Pérez", "lucia@unam.mx", SPANISH)
        ana = register(client, event, "Ana Smith", "ana@ut.edu", ENGLISH)
    return lucia, ana


def test_a_registrant_who_signed_up_in_spanish_gets_spanish_emails_after_an_english_organizer_moves_the_talk(
    admin_client, event, lucia_and_ana, django_capture_on_commit_callbacks
):
    lucia, ana = lucia_and_ana
    assert (lucia.language, ana.language) == ("es", "en")
    confirmation = to("lucia@unam.mx")
    assert confirmation["Subject"].startswith(f"Inscripción confirmada: {event.title} (")
    assert text_body(confirmation).startswith("Hola, Lucía Pérez:")
    mail.outbox.clear()

    later = event.start + datetime.timedelta(days=1, hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        response = move(admin_client, event, later)

    # The organizer reads English...
    assert "An update of the talk goes to its 2 registrants." in response.content.decode()
    event.refresh_from_db()
    with translation.override("es"):
        spanish_when, spanish_short = talk_when(event), talk_when(event, style=SHORT)
    with translation.override("en"):
        english_when = talk_when(event)

    # ...Lucía reads Spanish: subject, both bodies, dates, and the words around her invite.
    update = to("lucia@unam.mx")
    assert update["Subject"] == f"Cambio de hora o lugar: {event.title} ({spanish_short})"
    text, html = text_body(update), html_body(update)
    assert text.startswith("Hola, Lucía Pérez:\n\nLa hora o el lugar de una charla en la que estás inscrito cambió.")
    assert spanish_when in text
    assert "Cuándo:" in text and "When:" not in text
    assert '<html lang="es">' in html
    assert "La hora o el lugar de una charla en la que estás inscrito <strong>cambió</strong>." in html
    assert "Gestiona" in html or "Cancela tu inscripción" in html
    _calendar, vevent, _part = invite(update)
    # The talk's own texts stay as written; the lines the site adds are Spanish.
    assert str(vevent["SUMMARY"]) == event.title
    assert event.abstract in str(vevent["DESCRIPTION"])
    assert "Tu inscripción (cambiar o cancelar):" in str(vevent["DESCRIPTION"])

    # Ana, who registered in English, reads English.
    english = to("ana@ut.edu")
    assert english["Subject"].startswith(f"Updated time or place: {event.title} (")
    assert english_when in text_body(english)
    assert text_body(english).startswith("Hello Ana Smith,")


@pytest.mark.parametrize(
    ("kind", "subject", "phrase"),
    [
        (MailKind.REMINDER, "Recordatorio:", "Te recordamos que estás inscrito en:"),
        (MailKind.RESEND, "Tu inscripción:", "Aquí tienes de nuevo el enlace a tu inscripción"),
        (MailKind.STREAM_LINK, "Enlace para unirte en línea:", "Este es el enlace para unirte a esta charla en línea:"),
    ],
)
def test_every_kind_of_message_follows_the_registrants_language(
    make_event, kind, subject, phrase, django_capture_on_commit_callbacks
):
    event = make_event(attendance_mode="online", stream_url="https://zoom.example.edu/j/1")
    registration = services.register(
        event=event, name="Lucía", email="lucia@unam.mx", attendance="online", language="es"
    ).registration
    mail.outbox.clear()
    OutgoingMail.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        queue(registration=registration, kind=kind, reminder_for=event.start)

    (message,) = sent()
    assert message["Subject"].startswith(subject)
    assert phrase in text_body(message)
    assert not re.search(r"\b(Hello|Where|When):", text_body(message))


def test_cancelling_in_english_still_writes_to_a_spanish_registrant_in_spanish(
    client, event, lucia_and_ana, django_capture_on_commit_callbacks
):
    lucia, _ana = lucia_and_ana
    mail.outbox.clear()

    # Lucía's link opened in an English browser: the page is English, her mail stays Spanish.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("registrations:cancel", kwargs={"token": lucia.token}), **ENGLISH)

    (message,) = sent()
    assert message["Subject"].startswith("Inscripción cancelada:")
    assert "Tu inscripción en esta charla está cancelada:" in text_body(message)


def test_a_message_from_the_organizers_keeps_their_words_and_frames_them_in_the_registrants_language(
    event, lucia_and_ana, admin_user, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    mailing = Mailing.objects.create(
        event=event, subject="Lunch moved to the 5th floor", body="See you upstairs.", audience=["confirmed"]
    )

    with django_capture_on_commit_callbacks(execute=True):
        mailings.send_mailing(mailing=mailing, actor=admin_user)

    spanish, english = to("lucia@unam.mx"), to("ana@ut.edu")
    assert spanish["Subject"] == english["Subject"] == "Lunch moved to the 5th floor"
    assert text_body(spanish).startswith("Hola, Lucía Pérez:\n\nSee you upstairs.")
    assert "Tu inscripción (detalles, cancelar):" in text_body(spanish)
    assert text_body(english).startswith("Hello Ana Smith,\n\nSee you upstairs.")
    assert "Your registration (details, cancel):" in text_body(english)


def test_a_lost_link_request_in_any_language_answers_in_the_registrants(
    client, event, lucia_and_ana, django_capture_on_commit_callbacks
):
    # Past the pause that holds back a link confirmed minutes ago.
    OutgoingMail.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("registrations:lost_link"), {"email": "lucia@unam.mx"}, **ENGLISH)

    (message,) = sent()
    assert message["Subject"].startswith("Tu inscripción:")


def test_the_links_to_past_talks_go_out_in_the_language_of_the_last_registration(
    client, make_event, sign_up, django_capture_on_commit_callbacks
):
    older = make_event(start=timezone.now() - datetime.timedelta(days=30), title="Aprendizaje, sin etiquetas")
    newer = make_event(start=timezone.now() - datetime.timedelta(days=2), title="Redes neuronales")
    for talk, language in ((older, "en"), (newer, "es")):
        sign_up(
            talk,
            name="Lucía Pérez",
            email="lucia@unam.mx",
            language=language,
            now=talk.start - datetime.timedelta(days=1),
        )
    OutgoingMail.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("registrations:lost_link"), {"email": "lucia@unam.mx"}, **ENGLISH)

    (message,) = sent()
    assert message["Subject"] == "Tus enlaces a charlas pasadas"
    body = text_body(message)
    assert body.startswith("Hola, Lucía Pérez:\n\naquí tienes los enlaces a tus inscripciones en charlas pasadas")
    # Newest first, each with its date written in Spanish.
    assert body.index("Redes neuronales") < body.index("Aprendizaje, sin etiquetas")
    with in_language("es"):
        assert f"Redes neuronales\n{talk_when(newer)}\n" in body
        assert f"Aprendizaje, sin etiquetas\n{talk_when(older)}\n" in body


def test_a_spanish_registrants_invite_has_no_english_labels(event, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.register(event=event, name="Lucía", email="lucia@unam.mx", language="es")

    (message,) = sent()
    description = str(invite(message)[1]["DESCRIPTION"])
    assert "Ponente: Atlas Wang" in description
    assert f"Detalles: https://seminars.example.edu{event.get_absolute_url()}" in description
    assert "Speaker" not in description and "Details" not in description
