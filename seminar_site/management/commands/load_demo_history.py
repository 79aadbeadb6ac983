"""A past talk for the demo: what the pages look like after a talk (attendance, no-shows, feedback, slides).

`load_demo` (events) makes the upcoming IFML talk; this command, which needs
the apps that come after the door, adds one talk of the same series two
weeks ago. It is invented for the demo and says so. Its registrants sign up,
are checked in and rate the talk through the same services as real ones,
while the talk is still ahead; then the talk and its history are moved back
in time, as if it had all happened then. Nobody is emailed: the messages
the sign-ups queued are skipped.
"""

import datetime
import zoneinfo

from django.core.management.base import BaseCommand
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from checkin import services as checkin
from events.models import Event, Series, Speaker, Venue
from feedback.models import Feedback
from feedback.services import record_feedback
from materials.models import Kind, Visibility
from materials.services import add_material
from outbox.models import OutgoingMail
from outbox.services import skip_pending
from registrations import services as registrations
from registrations.models import Registration, RegistrationLog

SLUG = "demo-past-talk-reliable-uncertainty-for-scientific-machine-learning"
# Within the month the organizers' home lists a talk after it (feedback's ANSWER_WINDOW), and long past the
# two days in which its attendees are asked for feedback: the demo emails nobody.
WEEKS_AGO = 2

SPEAKER = {
    "name": "Jordan Reyes (demo speaker)",
    "position": "Assistant Professor",
    "affiliation": "Demo University",
    "bio": "An invented speaker, so that the demo shows a talk that has already happened.",
}

EVENT = {
    "slug": SLUG,
    "title": "Reliable Uncertainty for Scientific Machine Learning",
    "abstract": (
        "A talk invented for the demo data, to show what the site keeps after a talk: who came, who did "
        "not, what the audience thought, and the slides. Neural surrogates now stand in for expensive "
        "simulations in climate, materials and fluid models; this talk asks when their error bars can be "
        "trusted, and what conformal prediction offers when the data drift."
    ),
    "status": Event.Status.PUBLISHED,
    "attendance_mode": Event.AttendanceMode.IN_PERSON,
    # Published while it is ahead for a moment: the series' followers must not hear of it as new.
    "announce_to_followers": False,
}

# Who registered, came and answered: (name, affiliation, came, rating or None, comment).
# Positions go round POSITIONS, so the talk's numbers have something to show by position too.
PEOPLE = [
    ("María José Ñúñez", "UT Austin, Oden Institute", True, 5, "Clear and practical; the drift examples helped."),
    ("Wei Zhang", "UT Austin, ECE", True, 4, "Great talk. More time for questions next time, please."),
    ("Priya Natarajan", "UT Austin, CS", True, 5, ""),
    ("Tomás O'Connor", "UT Austin, Statistics", True, 4, "The conformal part went a little fast."),
    ("Aisha Bello", "Texas Advanced Computing Center", True, 3, "Hard to follow from the back of the room."),
    ("Jonas Müller", "UT Austin, Physics", True, 5, ""),
    ("Hana Kobayashi", "UT Austin, CS", True, None, ""),
    ("Diego Fernández", "UT Austin, Mathematics", True, 4, ""),
    ("Olivia Brown", "UT Austin, CS", True, None, ""),
    ("Kwame Mensah", "UT Austin, ECE", True, 5, "Slides please!"),
    ("Sofia Rossi", "UT Austin, Oden Institute", True, None, ""),
    ("Lukas Novák", "UT Austin, Aerospace", True, 4, ""),
    ("Mei Lin", "UT Austin, CS", True, None, ""),
    ("Ahmed Hassan", "UT Austin, Civil Engineering", True, 5, ""),
    ("Emma Johansson", "UT Austin, Statistics", True, None, ""),
    ("Rahul Gupta", "UT Austin, CS", True, 4, ""),
    ("Chloé Martin", "UT Austin, Linguistics", False, None, ""),
    ("Ivan Petrov", "UT Austin, Physics", False, None, ""),
    ("Grace Kim", "UT Austin, CS", False, None, ""),
    ("Samuel Okafor", "UT Austin, ECE", False, None, ""),
]


POSITIONS = ["student", "student", "faculty", "postdoc", "student", "staff", "", "industry"]


def past_slot(now, zone):
    """11:00 to 12:00 local time on the Friday WEEKS_AGO weeks before the week of `now`."""
    day = timezone.localtime(now, zone).date() - datetime.timedelta(weeks=WEEKS_AGO)
    day -= datetime.timedelta(days=day.weekday() - 4)
    start = datetime.datetime.combine(day, datetime.time(11, 0), tzinfo=zone)
    return start, start + datetime.timedelta(hours=1)


class Command(BaseCommand):
    help = "Add a past talk to the demo (run load_demo first). Safe to run again: an existing one is kept."

    @transaction.atomic
    def handle(self, *args, **options):
        series = Series.objects.filter(slug="ifml-seminar").first()
        venue = Venue.objects.filter(room="GDC 6.302").first()
        if series is None or venue is None:
            self.stderr.write("Run `manage.py load_demo` first: the past talk belongs to its series and room.")
            return
        event = Event.objects.filter(slug=SLUG).first()
        if event is not None:
            self.stdout.write(self.style.SUCCESS(f"Kept demo past talk “{event.title}”."))
            return
        now = timezone.now()
        start, end = past_slot(now, zoneinfo.ZoneInfo(venue.time_zone))
        # Ahead for a moment: sign-ups and check-ins are only taken for a talk that is not over.
        ahead = now + datetime.timedelta(hours=1)
        event = Event.objects.create(
            series=series, venue=venue, start=ahead, end=ahead + (end - start), capacity=40, **EVENT
        )
        speaker = Speaker.objects.filter(name=SPEAKER["name"]).first() or Speaker.objects.create(**SPEAKER)
        event.speakers.add(speaker)

        attended = []
        # Signed up over the weeks before the talk, one by one: no seat is held for confirmation.
        with override_settings(HOLD_AFTER="off", HOLD_DEMAND="off"):
            for number, (name, affiliation, came, rating, comment) in enumerate(PEOPLE):
                email = f"demo.attendee{number + 1}@example.edu"
                registration = registrations.register(
                    event=event,
                    name=name,
                    email=email,
                    affiliation=affiliation,
                    position=POSITIONS[number % len(POSITIONS)],
                ).registration
                if came:
                    checkin.check_in(registration=registration, actor=None)
                    attended.append((registration, rating, comment))
        add_material(
            event=event,
            kind=Kind.SLIDES,
            title="Slides (demo link)",
            visibility=Visibility.PUBLIC,
            url="https://example.edu/demo/reliable-uncertainty-slides.pdf",
        )
        skip_pending(
            mails=OutgoingMail.objects.about(Registration.objects.filter(event=event)),
            reason="Demo data: nobody to send to.",
        )
        self._move_back(event, start, end, attended)
        self.stdout.write(self.style.SUCCESS(f"Created demo past talk “{event.title}”, {start:%Y-%m-%d}."))
        self.stdout.write(f"  {event.get_absolute_url()}")

    def _move_back(self, event, start, end, attended):
        """The talk to its past slot; its history to the weeks before it, and the check-ins to its start."""
        Event.objects.filter(pk=event.pk).update(start=start, end=end)
        registrations_of_talk = Registration.objects.filter(event=event)
        for number, registration in enumerate(registrations_of_talk.order_by("pk")):
            # Spread over the two weeks registration was open, the earliest first.
            signed_up = start - datetime.timedelta(days=14) + datetime.timedelta(hours=16 * number)
            Registration.objects.filter(pk=registration.pk).update(created_at=signed_up)
            RegistrationLog.objects.filter(registration=registration).update(created_at=signed_up)
        for number, (registration, _rating, _comment) in enumerate(attended):
            arrived = start - datetime.timedelta(minutes=10) + datetime.timedelta(minutes=number)
            Registration.objects.filter(pk=registration.pk).update(checked_in_at=arrived)
            RegistrationLog.objects.filter(registration=registration, action=RegistrationLog.Action.CHECKED_IN).update(
                created_at=arrived
            )
        # The talk is over now. The door marked the rest as no-shows just after it ended,
        event.refresh_from_db()
        checkin.mark_no_shows(event=event, actor=None)
        marked = end + datetime.timedelta(minutes=5)
        Registration.objects.filter(event=event, no_show_at__isnull=False).update(no_show_at=marked)
        RegistrationLog.objects.filter(registration__event=event, action=RegistrationLog.Action.NO_SHOW).update(
            created_at=marked
        )
        # and its attendees rate it, as they would have the day after.
        for registration, rating, comment in attended:
            if rating is not None:
                registration.refresh_from_db()
                record_feedback(
                    registration=registration, rating=rating, comment=comment, now=end + datetime.timedelta(hours=20)
                )
        answered = end + datetime.timedelta(hours=20)
        Feedback.objects.filter(registration__event=event).update(created_at=answered, updated_at=answered)
