"""Every HTML email on a 360 px phone: long links (check-in, stream, a link in an organizer's message)
wrap or sit behind a short label, so no message scrolls sideways."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from events.models import Event
from followers import services as followers
from mailings import services as mailings
from mailings.models import Mailing
from outbox.models import OutgoingMail
from registrations import services
from registrations.models import Registration
from speaker_edits import services as speaker_edits
from tests.mime import html_body, parse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
LONG_LINK = "https://utexas.zoom.us/j/98765432109?pwd=" + "Q2xhc3NpY2FsbHlMb25nUGFzc3dvcmRUb2tlbg" * 3


def every_kind_of_message(make_event, series):
    """Send one message of every kind the site sends, each with its longest links."""
    soon = timezone.now() + datetime.timedelta(hours=5)
    talk = make_event(capacity=1, attendance_mode=Event.AttendanceMode.HYBRID, stream_url=LONG_LINK)

    def join(n, **fields):
        return services.register(event=talk, name=f"Zoë Ñúñez {n}", email=f"zoe{n}@example.edu", **fields).registration

    seated = join(1)  # confirmation, with the check-in code and its link
    join(2, attendance=Registration.Attendance.ONLINE)  # the stream link in the confirmation
    waiting = join(3)  # waiting list
    held = join(4, signups_from_address=11)  # a place to confirm on the waiting list
    services.cancel_registration(registration=seated)  # cancellation; promotion
    OutgoingMail.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=11))
    services.register(event=talk, name="Zoë Ñúñez 3", email="zoe3@example.edu")  # resend
    talk.title = "Generating a Video: Reflecting on a Two-Year Odyssey, and what comes next"
    talk.save()
    services.send_event_update(event=talk, changed_fields={"start"})
    services.send_stream_link(event=talk, link_changed=True)
    services.confirm_hold(registration=held)

    rushed = make_event(capacity=2, start=soon)
    first = services.register(event=rushed, name="Ana", email="ana@example.edu").registration
    services.register(event=rushed, name="Dee", email="dee@example.edu")
    services.register(event=rushed, name="Bo", email="bo@example.edu")
    services.cancel_registration(registration=first)  # an offer
    Registration.objects.filter(event=rushed).update(created_at=timezone.now() - datetime.timedelta(days=2))
    services.queue_due_reminders()  # a reminder with "free my seat"

    cancelled = make_event()
    services.register(event=cancelled, name="Cy", email="cy@example.edu")
    cancelled.status = Event.Status.CANCELLED
    cancelled.save()

    organizer = get_user_model().objects.create_user("org", email="org@example.edu")
    mailing = Mailing.objects.create(
        event=talk, subject="Slides", body=f"The slides are at {LONG_LINK} for everyone.", audience=["confirmed"]
    )
    mailings.send_test(mailing=mailing, to="org@example.edu", actor=organizer)
    followers.follow(series=series, email="fan@example.edu")
    speaker_edits.invite_speaker(
        event=talk,
        speaker=talk.speakers.get(),
        email="atlas@example.edu",
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )
    assert waiting.pk
    return [parse(message) for message in mail.outbox]


def test_no_email_scrolls_sideways_on_a_phone(new_page, make_event, series, artifacts):
    messages = every_kind_of_message(make_event, series)
    subjects = [str(message["Subject"]) for message in messages]
    for start in (
        "Registered:",
        "Waiting list:",
        "A seat opened up",
        "Registration cancelled:",
        "Your registration:",
        "Updated time or place:",
        "New link to join online:",
        "Confirm by ",
        "A seat is free for you until",
        "Reminder:",
        "Talk cancelled:",
        "[Test] Slides",
    ):
        assert any(subject.startswith(start) for subject in subjects), (start, subjects)
    assert len(messages) >= 14

    page = new_page(viewport=PHONE)
    too_wide = []
    for number, message in enumerate(messages):
        page.set_content(html_body(message))
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            page.screenshot(path=artifacts / f"email-too-wide-{number}.png", full_page=True)
            too_wide.append((str(message["Subject"]), width))
    assert too_wide == []
