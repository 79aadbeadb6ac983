"""The messages registrations sends through the outbox, read back as a mail client would."""

import datetime
import email
import email.policy
import io
import itertools
from html.parser import HTMLParser

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from outbox.delivery import deliver
from outbox.models import OutgoingMail
from registrations import services
from registrations.mail import queue
from registrations.models import MailKind, Registration, RegistrationLog
from tests.mime import html_body, invite, invite_parts, sent, text_body

Status = OutgoingMail.Status


def make_registration(event, **fields):
    defaults = {"name": "Zoë Ñúñez", "email": "zoe@example.edu", "status": Registration.Status.CONFIRMED}
    return Registration.objects.create(event=event, **(defaults | fields))


def test_registering_sends_one_confirmation_with_invite_after_commit(
    event, sign_up, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        registration = sign_up(event, name="Zoë Ñúñez", email="zoe@example.edu")
        assert mail.outbox == []
        assert OutgoingMail.objects.get().status == Status.PENDING

    (message,) = sent()
    row = OutgoingMail.objects.get()
    assert (row.kind, row.status, row.attempts) == (MailKind.CONFIRMATION, Status.SENT, 1)
    assert row.about == registration
    assert list(registration.outgoing_mails.all()) == [row]

    assert message.get_content_type() == "multipart/mixed"
    assert message["To"].addresses[0].display_name == "Zoë Ñúñez"
    assert message["To"].addresses[0].addr_spec == "zoe@example.edu"
    assert message["From"].addresses[0].addr_spec == "seminars@localhost"
    assert message["Reply-To"].addresses[0].addr_spec == "ifml-seminar@example.edu"
    assert message["Subject"].startswith(f"Registered: {event.title}")
    assert registration.manage_url in text_body(message)
    assert registration.manage_url in html_body(message)
    assert registration.manage_url.startswith("https://seminars.example.edu/r/")

    calendar, vevent, part = invite(message)
    assert part.get_param("method") == str(calendar["METHOD"]) == "REQUEST"
    assert part.get_content_charset() == "utf-8"
    assert str(vevent["ATTENDEE"]) == "mailto:zoe@example.edu"
    assert str(vevent["ORGANIZER"]) == "mailto:ifml-seminar@example.edu"
    assert vevent["SEQUENCE"] == 0
    registration.refresh_from_db()
    assert registration.invite_sequence == 0


def test_waitlisted_email_has_position_and_no_invite(event, django_capture_on_commit_callbacks):
    make_registration(event, email="first@example.edu", status=Registration.Status.WAITLISTED)
    second = make_registration(event, email="second@example.edu", status=Registration.Status.WAITLISTED)
    with django_capture_on_commit_callbacks(execute=True):
        queue(registration=second, kind=MailKind.WAITLISTED)

    assert OutgoingMail.objects.get().last_error == ""
    (message,) = sent()
    assert message["Subject"].startswith("Waiting list:")
    assert "position 2" in text_body(message)
    assert invite_parts(message) == []


def test_resend_is_rate_limited(event, django_capture_on_commit_callbacks):
    registration = make_registration(event)
    with django_capture_on_commit_callbacks(execute=True):
        assert queue(registration=registration, kind=MailKind.CONFIRMATION) is not None
        assert queue(registration=registration, kind=MailKind.RESEND) is None

    OutgoingMail.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=11))
    with django_capture_on_commit_callbacks(execute=True):
        assert queue(registration=registration, kind=MailKind.RESEND) is not None
        assert queue(registration=registration, kind=MailKind.RESEND) is None

    subjects = [message["Subject"] for message in sent()]
    assert [s.split(":")[0] for s in subjects] == ["Registered", "Your registration"]
    # The re-sent invite is the same entry, not a newer one: same UID, same SEQUENCE, later DTSTAMP.
    (_, first, _), (_, again, _) = invite(sent()[0]), invite(sent()[1])
    assert (str(again["UID"]), again["SEQUENCE"]) == (str(first["UID"]), first["SEQUENCE"]) == (str(first["UID"]), 0)
    assert again["DTSTAMP"].dt >= first["DTSTAMP"].dt


def test_registering_again_resends_once(event, sign_up, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(event, email="ana@example.edu")
    OutgoingMail.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(event, email="ANA@example.edu ")
        sign_up(event, email="ana@example.edu")

    assert [m["Subject"].split(":")[0] for m in sent()] == ["Registered", "Your registration"]


def test_message_for_cancelled_registration_is_skipped(event, outbox_row):
    registration = make_registration(event)
    row = outbox_row(registration, MailKind.CONFIRMATION)
    Registration.objects.filter(pk=registration.pk).update(
        status=Registration.Status.CANCELLED, cancelled_at=timezone.now()
    )

    assert deliver(mail_id=row.pk) == Status.SKIPPED
    row.refresh_from_db()
    assert "no longer confirmed" in row.last_error
    assert mail.outbox == []


def test_a_lost_task_does_not_raise_the_sequence_of_a_message_another_worker_claimed(event, outbox_row):
    registration = make_registration(event)
    row = outbox_row(registration, MailKind.CONFIRMATION)
    OutgoingMail.objects.filter(pk=row.pk).update(status=Status.SENDING, attempts=1)

    assert deliver(mail_id=row.pk) == Status.SENDING
    registration.refresh_from_db()
    assert registration.invite_sequence == 0


def test_send_queued_mail_queues_due_reminders_once(make_event, settings):
    now = timezone.now()
    registration = make_registration(make_event(start=now + datetime.timedelta(days=3)))
    Registration.objects.filter(pk=registration.pk).update(created_at=now - datetime.timedelta(days=1))
    settings.REMINDER_BEFORE = datetime.timedelta(days=4)

    def run():
        out = io.StringIO()
        call_command("send_queued_mail", stdout=out)
        return out.getvalue()

    assert run().startswith("1 reminders queued")
    assert run().startswith("0 reminders queued")
    assert OutgoingMail.objects.filter(kind=MailKind.REMINDER).count() == 1


@pytest.mark.parametrize(
    "name",
    [
        "Mallory\r\nBcc: victim@example.com",
        "Mallory\nTo: victim@example.com",
        'Evil, "Quoted" <x@example.com>',
        "王小明",
        "محمد",
        "<script>alert(1)</script>",
        "x" * 200,
    ],
)
def test_names_cannot_inject_headers_or_recipients(event, name, django_capture_on_commit_callbacks):
    registration = make_registration(event, name=name, email="mallory@example.edu")
    with django_capture_on_commit_callbacks(execute=True):
        queue(registration=registration, kind=MailKind.CONFIRMATION)

    assert OutgoingMail.objects.get().status == Status.SENT
    (django_message,) = mail.outbox
    assert [address.addr_spec for address in django_message.anymail_test_params["to"]] == ["mallory@example.edu"]
    (message,) = sent()
    (to,) = message["To"].addresses
    assert to.addr_spec == "mallory@example.edu"
    assert message["Bcc"] is None
    assert len(message.get_all("To")) == 1
    assert "\n" not in to.display_name and "\r" not in to.display_name
    header_lines = message.as_string().split("\n\n", 1)[0].splitlines()
    assert not any(line.lower().startswith(("bcc:", "cc:")) for line in header_lines)
    assert "<script>" not in html_body(message)


LONG_QUOTED_NAME = (
    '<img src="/static/img/icon.svg" width="500"><h1>Session expired - sign in again at evil.example</h1>'
)


@pytest.mark.parametrize("name", [LONG_QUOTED_NAME, "Zoë O'Brien, Jr.", "Ana"])
def test_the_to_header_holds_one_address_with_the_whole_name_once_folded(
    event, name, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.register(event=event, name=name, email="mallory@example.net")

    (django_message,) = mail.outbox
    raw = django_message.message().as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    (to,) = parsed["To"].addresses
    assert (to.display_name, to.addr_spec) == (name, "mallory@example.net")
    # A long name is folded (the quotes survive the line break); every line fits.
    lines = raw.split(b"\n\n", 1)[0].split(b"\n")
    start = next(number for number, line in enumerate(lines) if line.startswith(b"To:"))
    to_lines = [lines[start], *itertools.takewhile(lambda line: line.startswith(b" "), lines[start + 1 :])]
    assert len(to_lines) == (2 if name == LONG_QUOTED_NAME else 1)
    assert all(len(line) <= 78 for line in to_lines)


def test_times_in_emails_name_the_venues_zone_start_and_end(make_event, django_capture_on_commit_callbacks):
    from events.models import Venue

    new_york = Venue.objects.create(room="Room 101", default_capacity=20, time_zone="America/New_York")
    start = datetime.datetime(2027, 1, 20, 20, 0, tzinfo=datetime.UTC)
    event = make_event(venue=new_york, start=start, end=start + datetime.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        queue(registration=make_registration(event), kind=MailKind.CONFIRMATION)

    (message,) = sent()
    assert message["Subject"].endswith("(Wed 20 Jan 2027, 3:00 PM EST)")
    for body in (text_body(message), html_body(message)):
        assert "Wednesday, January 20, 2027, 3:00 PM – 4:00 PM EST" in body
        assert "CST" not in body


@pytest.mark.parametrize(
    ("utc_start", "zone"),
    [
        (datetime.datetime(2027, 11, 7, 6, 30, tzinfo=datetime.UTC), "CDT"),
        (datetime.datetime(2027, 11, 7, 7, 30, tzinfo=datetime.UTC), "CST"),
    ],
    ids=["first-fold", "second-fold"],
)
def test_a_talk_in_the_repeated_hour_names_its_zone_in_subject_and_body(
    make_event, utc_start, zone, django_capture_on_commit_callbacks
):
    event = make_event(start=utc_start, end=utc_start + datetime.timedelta(minutes=20))
    with django_capture_on_commit_callbacks(execute=True):
        queue(registration=make_registration(event), kind=MailKind.CONFIRMATION)

    (message,) = sent()
    assert message["Subject"].endswith(f"(Sun 7 Nov 2027, 1:30 AM {zone})")
    assert f"1:30 AM – 1:50 AM {zone}" in text_body(message)


# Online attendance: the stream link goes to registrants attending online, and to nobody else


ZOOM = "https://utexas.zoom.us/j/91234567890?pwd=secret"


@pytest.fixture
def hybrid(make_event):
    return make_event(attendance_mode="hybrid", capacity=1, online_capacity=1, stream_url=ZOOM)


def join(event, name, email, attendance):
    return services.register(event=event, name=name, email=email, attendance=attendance).registration


def mails_to(address):
    return [message for message in sent() if message["To"].addresses[0].addr_spec == address]


def test_online_confirmation_and_invite_carry_the_link(hybrid, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        join(hybrid, "Ana", "ana@example.edu", "online")

    (message,) = mails_to("ana@example.edu")
    assert ZOOM in text_body(message)
    assert f'href="{ZOOM.replace("&", "&amp;")}"' in html_body(message)
    assert "Your online place is confirmed." in text_body(message)
    _, vevent, _ = invite(message)
    assert str(vevent["URL"]) == ZOOM
    assert str(vevent["LOCATION"]) == ZOOM
    assert f"Join online: {ZOOM}" in str(vevent["DESCRIPTION"])


def test_in_person_and_waiting_registrants_never_get_the_link(hybrid, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        join(hybrid, "Ana", "ana@example.edu", "in_person")
        join(hybrid, "Ben", "ben@example.edu", "online")
        join(hybrid, "Cy", "cy@example.edu", "online")  # the one online place is taken: waiting

    for address in ("ana@example.edu", "cy@example.edu"):
        (message,) = mails_to(address)
        assert "zoom" not in message.as_string().lower()
    _, vevent, _ = invite(mails_to("ana@example.edu")[0])
    assert str(vevent["LOCATION"]) == "GDC 6.302, Gates Dell Complex (and online)"
    assert str(vevent["URL"]).endswith(hybrid.get_absolute_url())


def test_a_promoted_online_waiter_gets_the_link(hybrid, django_capture_on_commit_callbacks):
    holder = join(hybrid, "Ben", "ben@example.edu", "online")
    join(hybrid, "Cy", "cy@example.edu", "online")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_registration(registration=holder)

    (promoted,) = mails_to("cy@example.edu")
    assert ZOOM in text_body(promoted)
    assert str(invite(promoted)[1]["URL"]) == ZOOM


def test_a_link_shown_before_the_start_is_not_in_the_early_emails(make_event, django_capture_on_commit_callbacks):
    event = make_event(attendance_mode="online", stream_url=ZOOM, stream_reveal_minutes=30)

    with django_capture_on_commit_callbacks(execute=True):
        registration = join(event, "Ana", "ana@example.edu", "online")

    (message,) = sent()
    assert ZOOM not in message.as_string()
    reveal = "the link appears on your registration page from"
    assert reveal in text_body(message)
    _, vevent, _ = invite(message)
    assert str(vevent["LOCATION"]) == "Online"
    assert str(vevent["URL"]).endswith(event.get_absolute_url())
    assert "appears on your registration page" in str(vevent["DESCRIPTION"])
    assert registration.manage_url in str(vevent["DESCRIPTION"])


def test_the_sweep_sends_the_link_at_the_reveal_time_once(make_event, django_capture_on_commit_callbacks):
    # The talk starts in 20 minutes and shows the link 30 minutes before: it is shown now.
    start = timezone.now() + datetime.timedelta(minutes=20)
    event = make_event(
        attendance_mode="hybrid", stream_url=ZOOM, stream_reveal_minutes=30, online_capacity=1, start=start
    )
    online = join(event, "Ana", "ana@example.edu", "online")
    join(event, "Ben", "ben@example.edu", "in_person")
    join(event, "Cy", "cy@example.edu", "online")  # waiting
    Registration.objects.update(created_at=timezone.now() - datetime.timedelta(days=2))
    mail.outbox.clear()
    reveal = event.start - datetime.timedelta(minutes=30)

    assert services.queue_due_stream_links(now=reveal - datetime.timedelta(minutes=1)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert services.queue_due_stream_links() == 1
    assert services.queue_due_stream_links() == 0

    (message,) = sent()
    assert message["To"].addresses[0].addr_spec == "ana@example.edu"
    assert message["Subject"].startswith(f"Link to join online: {event.title}")
    _, vevent, _ = invite(message)
    online.refresh_from_db()
    assert vevent["SEQUENCE"] == online.invite_sequence == 1
    # In her history like any other email, by the system; in nobody else's.
    (entry,) = RegistrationLog.objects.filter(action=RegistrationLog.Action.STREAM_LINK_SENT)
    assert (entry.registration, entry.actor) == (online, None)
    assert (entry.get_action_display(), entry.note) == (
        "Link to join online sent",
        "Sent when the link is shown, before the talk.",
    )


def test_a_new_link_goes_to_online_registrants_only(hybrid, django_capture_on_commit_callbacks):
    join(hybrid, "Ana", "ana@example.edu", "in_person")
    online = join(hybrid, "Ben", "ben@example.edu", "online")
    join(hybrid, "Cy", "cy@example.edu", "online")  # waiting for an online place
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        hybrid.stream_url = "https://utexas.zoom.us/j/new-room"
        hybrid.save()

    (message,) = sent()
    assert message["To"].addresses[0].addr_spec == "ben@example.edu"
    assert message["Subject"].startswith("New link to join online")
    assert "https://utexas.zoom.us/j/new-room" in text_body(message)
    assert ZOOM not in message.as_string()
    _, vevent, _ = invite(message)
    online.refresh_from_db()
    assert str(vevent["URL"]) == "https://utexas.zoom.us/j/new-room"
    assert vevent["SEQUENCE"] == online.invite_sequence == 1


def test_a_new_link_before_the_reveal_time_emails_nobody(make_event, django_capture_on_commit_callbacks):
    event = make_event(attendance_mode="online", stream_url=ZOOM, stream_reveal_minutes=30)
    join(event, "Ana", "ana@example.edu", "online")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        event.stream_url = "https://utexas.zoom.us/j/new-room"
        event.save()

    assert mail.outbox == []


def test_an_online_talk_without_venue_emails_and_invites_without_a_room(
    make_event, client, django_capture_on_commit_callbacks
):
    event = make_event(venue=None, attendance_mode="online", stream_url=ZOOM)

    with django_capture_on_commit_callbacks(execute=True):
        registration = join(event, "Ana", "ana@example.edu", "online")

    (message,) = sent()
    assert "Where: Online" in text_body(message)
    assert "None" not in text_body(message) and "None" not in html_body(message)
    _, vevent, _ = invite(message)
    assert str(vevent["LOCATION"]) == ZOOM
    page = client.get(registration.get_absolute_url()).content.decode()
    assert "None" not in page and ZOOM.replace("&", "&amp;") in page


def test_switching_attendance_updates_the_invite_and_says_what_changed(hybrid, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        registration = join(hybrid, "Ana", "ana@example.edu", "in_person")
    (confirmation,) = sent()
    _, first, _ = invite(confirmation)
    room = "GDC 6.302, Gates Dell Complex (and online)"
    assert (first["SEQUENCE"], str(first["LOCATION"])) == (0, room)

    for attendance, sequence, location, said, body in [
        ("online", 1, ZOOM, "You now attend online", "now attend this talk online:"),
        ("in_person", 2, room, "You now attend in person", "now attend this talk in person:"),
    ]:
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            services.switch_attendance(registration=registration, attendance=attendance)

        (message,) = sent()
        assert message["Subject"].startswith(f"{said}: {hybrid.title} (")
        assert body in text_body(message) and body in html_body(message)
        calendar, vevent, part = invite(message)
        assert part.get_param("method") == str(calendar["METHOD"]) == "REQUEST"
        assert str(vevent["UID"]) == str(first["UID"])
        assert str(vevent["LOCATION"]) == location
        registration.refresh_from_db()
        # Calendars that go strictly by SEQUENCE take the new place only from a higher number.
        assert vevent["SEQUENCE"] == registration.invite_sequence == sequence


def test_switching_back_before_the_mail_goes_out_sends_only_how_they_attend_now(
    hybrid, django_capture_on_commit_callbacks
):
    registration = join(hybrid, "Ana", "ana@example.edu", "in_person")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.switch_attendance(registration=registration, attendance="online")
        services.switch_attendance(registration=registration, attendance="in_person")

    (message,) = sent()
    assert message["Subject"].startswith("You now attend in person:")
    assert invite(message)[1]["SEQUENCE"] == 2
    statuses = OutgoingMail.objects.filter(kind=MailKind.ATTENDANCE_SWITCHED).values_list("status", flat=True)
    assert sorted(statuses) == sorted([Status.SENT, Status.SKIPPED])


class LabelCells(HTMLParser):
    """(text, style) of the first cell of each two-cell table row: the labels of the talk's facts."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.labels, self._rows, self._cell = [], [], None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self._rows.append([])
        elif tag == "td":
            self._cell = [dict(attrs).get("style", ""), ""]
            self._rows[-1].append(self._cell)

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[1] += data

    def handle_endtag(self, tag):
        if tag == "td":
            self._cell = None
        elif tag == "tr":
            row = self._rows.pop()
            if len(row) == 2:
                style, text = row[0]
                self.labels.append((text.strip(), style))


@pytest.mark.parametrize(
    ("attendance", "labels"),
    [("in_person", ["Speaker", "When", "Where"]), ("online", ["Speaker", "When", "Where", "Join"])],
)
def test_the_talks_labels_never_break_mid_word_on_a_phone(
    hybrid, attendance, labels, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        join(hybrid, "Ana", "ana@example.edu", attendance)

    (message,) = sent()
    cells = LabelCells(html_body(message)).labels
    # The body wraps anywhere so a long link fits a phone; the labels' short words must not ("Spea|ker").
    assert [text for text, _style in cells] == labels
    assert all("white-space:nowrap" in style.replace(" ", "") for _text, style in cells)


def test_text_emails_keep_one_blank_line_between_paragraphs_and_online_places_have_no_waiting_talk(
    hybrid, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        join(hybrid, "Ana", "ana@example.edu", "in_person")
        join(hybrid, "Bo", "bo@example.edu", "online")
        join(hybrid, "Cy", "cy@example.edu", "in_person")  # the room is full: waiting list

    (in_person,) = mails_to("ana@example.edu")
    for message in (in_person, *mails_to("bo@example.edu"), *mails_to("cy@example.edu")):
        assert "\n\n\n" not in text_body(message).replace("\r\n", "\n"), message["Subject"]
    assert "At the door:" in text_body(in_person)
    assert "so that someone else can have your seat" in text_body(in_person)
    (online,) = mails_to("bo@example.edu")
    assert "waiting list" not in text_body(online) and "Please cancel your registration:" in text_body(online)
    assert "waiting list" not in html_body(online)
