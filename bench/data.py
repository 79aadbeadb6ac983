"""The data each scenario needs, created in the benchmark database before it runs."""

import contextlib
import datetime
import itertools
from urllib.parse import quote

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from events.management.commands.load_demo import EVENT as DEMO_EVENT
from events.models import Event, Question, Series, Speaker, Venue
from registrations import services
from registrations.models import Answer, Registration
from seminar_site import pagecache

ADMIN_USERNAME = "bench-admin"
DOOR_USERNAME = "bench-door"
ADMIN_PASSWORD = "bench-admin-password-not-secret"  # noqa: S105 - a throw-away database


def demo_talk(*, taken: int = 25) -> Event:
    """The demo talk (40 seats, two questions) with `taken` seats registered through the service."""
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    event = Event.objects.get(slug=DEMO_EVENT["slug"])
    lunch = event.questions.get(kind=Question.Kind.YES_NO)
    with no_holds():
        for n in range(taken):
            services.register(
                event=event,
                name=f"Demo Person {n}",
                email=f"demo{n}@example.edu",
                affiliation="UT Austin",
                answers={lunch.pk: "yes"},
            )
    return event


def upcoming_talks(count: int) -> None:
    """Talks until `count` are upcoming, spread over three series, venues and speakers, one a day."""
    missing = count - Event.objects.published().upcoming().count()
    if missing <= 0:
        return
    now = timezone.now()
    first = Event.objects.filter(slug__startswith="bench-upcoming-").count()
    series = [
        Series.objects.get_or_create(
            slug=f"bench-series-{n}",
            defaults={"name": f"Bench Series {n}", "organizer_name": "Bench", "organizer_email": "bench@example.edu"},
        )[0]
        for n in range(3)
    ]
    venues = [
        Venue.objects.get_or_create(room=f"Room {n}", building="Bench Hall", defaults={"default_capacity": 40})[0]
        for n in range(3)
    ]
    speakers = [
        Speaker.objects.create(name=f"Speaker {n}", affiliation="Bench University", position="Professor")
        for n in range(10)
    ]
    events = Event.objects.bulk_create(
        Event(
            series=series[n % 3],
            venue=venues[n % 3],
            title=f"Upcoming talk number {n} on a reasonably long title",
            slug=f"bench-upcoming-{n}",
            abstract="Paragraph one.\n\nParagraph two.",
            start=now + datetime.timedelta(days=1 + n, hours=2),
            end=now + datetime.timedelta(days=1 + n, hours=3),
            capacity=40,
            status=Event.Status.PUBLISHED,
        )
        for n in range(first, first + missing)
    )
    through = Event.speakers.through
    through.objects.bulk_create(
        through(event_id=event.pk, speaker_id=speakers[(n + k) % len(speakers)].pk)
        for n, event in enumerate(events)
        for k in range(1 + n % 2)
    )
    # bulk_create sends no signal: the lists must hear of the new talks (pagecache's contract).
    pagecache.changed(pagecache.CONTENT)


def open_talk(slug: str, *, capacity: int, waitlist: bool = True) -> Event:
    """A published talk next week, registration open, no questions."""
    venue = Venue.objects.get_or_create(
        room="Bench Auditorium", building="Bench Hall", defaults={"default_capacity": 40}
    )[0]
    series = Series.objects.get_or_create(
        slug="bench-burst",
        defaults={"name": "Bench Burst", "organizer_name": "Bench", "organizer_email": "bench@example.edu"},
    )[0]
    start = timezone.now() + datetime.timedelta(days=7)
    event = Event.objects.create(
        series=series,
        venue=venue,
        title=f"A popular talk ({slug})",
        slug=slug,
        abstract="Everyone wants a seat.",
        start=start,
        end=start + datetime.timedelta(hours=1),
        capacity=capacity,
        waitlist_enabled=waitlist,
        status=Event.Status.PUBLISHED,
    )
    event.speakers.add(Speaker.objects.create(name="Popular Speaker", affiliation="Bench University"))
    return event


def attendee_fields(n: int) -> tuple[str, str]:
    """Form-encoded name and email of attendee `n` (unicode and a comma, as real names have)."""
    return quote(f"Zoë Attendee-{n}, Jr."), quote(f"attendee{n}@example.edu")


def attendee_address(n: int) -> str:
    """The client address the proxy in front reports for attendee `n`: a campus crowd, one device each
    (198.18.0.0/15, the range set aside for benchmarks)."""
    return f"198.{18 + n // 65536 % 2}.{n // 256 % 256}.{n % 256}"


@contextlib.contextmanager
def no_holds():
    """Registrations the harness makes itself (the demo talk, the email scenario) get their seats outright:
    what those scenarios measure is the pages and the confirmations, not the fair-seats rules."""
    with override_settings(HOLD_AFTER="off", HOLD_DEMAND="off"):
        yield


def register_many(event: Event, count: int, *, prefix: str) -> None:
    """`count` registrations through the service, as the form would make them (each queues its email)."""
    with no_holds():
        for n in range(count):
            services.register(
                event=event, name=f"Person {n}", email=f"{prefix}{n}@example.edu", affiliation="UT Austin"
            )


def bulk_registrations(event: Event, count: int) -> None:
    """`count` registrations written directly (an admin-sized talk): 90% confirmed, 5% waiting, 5% cancelled."""
    question = event.questions.order_by("position").first()
    now = timezone.now()
    statuses = itertools.cycle(
        [Registration.Status.CONFIRMED] * 18 + [Registration.Status.WAITLISTED, Registration.Status.CANCELLED]
    )
    batch = 5000
    for offset in range(0, count, batch):
        with transaction.atomic():
            rows = []
            for n in range(offset, min(offset + batch, count)):
                status = next(statuses)
                rows.append(
                    Registration(
                        event=event,
                        name=f"Registrant {n}, Ph.D.",
                        email=f"registrant{n}@example.edu",
                        affiliation="The University of Texas at Austin",
                        position=Registration.Position.STUDENT,
                        status=status,
                        cancelled_at=now if status == Registration.Status.CANCELLED else None,
                    )
                )
            created = Registration.objects.bulk_create(rows)
            if question is not None:
                Answer.objects.bulk_create(
                    Answer(registration=registration, question=question, value="yes") for registration in created
                )
    confirmed = Registration.objects.filter(event=event).confirmed().count()
    Event.objects.filter(pk=event.pk).update(capacity=max(confirmed, 1), seats_taken=confirmed)
    pagecache.changed(pagecache.talk_tag(event.slug))


def door_talk(slug: str, count: int) -> Event:
    """A talk starting within the hour with `count` confirmed registrations: the door is open."""
    event = open_talk(slug, capacity=count)
    start = timezone.now() + datetime.timedelta(minutes=30)
    Event.objects.filter(pk=event.pk).update(start=start, end=start + datetime.timedelta(hours=1))
    Registration.objects.bulk_create(
        Registration(
            event=event,
            name=f"Door Person {n}",
            email=f"door{n}@example.edu",
            affiliation="UT Austin",
            status=Registration.Status.CONFIRMED,
        )
        for n in range(count)
    )
    Event.objects.filter(pk=event.pk).update(seats_taken=count)
    pagecache.changed(pagecache.CONTENT)
    event.refresh_from_db()
    return event


def admin_talk(slug: str, count: int) -> Event:
    event = open_talk(slug, capacity=count)
    Question.objects.create(event=event, label="Will you join us for lunch?", kind=Question.Kind.YES_NO, position=1)
    bulk_registrations(event, count)
    return event


def superuser():
    User = get_user_model()
    if not User.objects.filter(username=ADMIN_USERNAME).exists():
        User.objects.create_superuser(ADMIN_USERNAME, "bench-admin@example.edu", ADMIN_PASSWORD)
    return ADMIN_USERNAME, ADMIN_PASSWORD


def door_staff(event: Event):
    """A door staff member of the talk's series (check-in only, no superuser), as set in the admin's team inline."""
    from events.models import SeriesMember

    User = get_user_model()
    user = User.objects.filter(username=DOOR_USERNAME).first()
    if user is None:
        user = User.objects.create_user(DOOR_USERNAME, "bench-door@example.edu", ADMIN_PASSWORD)
        SeriesMember.objects.create(series=event.series, user=user, role=SeriesMember.Role.DOOR)
    return DOOR_USERNAME, ADMIN_PASSWORD
