import datetime
import zoneinfo

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from events.models import Event, Question, Series, Speaker, Venue
from events.when import talk_when

# The first real talk of the first user, copied from the IFML Seminar's public
# event page. It has no date there, so the command picks one.
SERIES = {
    "slug": "ifml-seminar",
    "name": "IFML Seminar",
    "description": (
        "Talks hosted by the NSF AI Institute for Foundations of Machine Learning (IFML) "
        "at The University of Texas at Austin. Everyone is welcome; please register so we can plan the room."
    ),
    "organizer_name": "IFML Seminar organizers",
    "organizer_email": "ifml-seminar@example.edu",
}

SCHEDULE = {
    "default_weekday": 4,  # Friday
    "default_start_time": datetime.time(11, 0),
    "default_duration_minutes": 60,
    "registration_opens_days_before": 14,
}

VENUE = {
    "room": "GDC 6.302",
    "building": "Gates Dell Complex",
    "address": "2317 Speedway, Austin, TX 78712",
    "default_capacity": 40,
    "map_url": "https://www.google.com/maps/search/?api=1&query=Gates+Dell+Complex%2C+2317+Speedway%2C+Austin%2C+TX+78712",
    "time_zone": "America/Chicago",
}

SPEAKER = {
    "name": "Atlas Wang",
    "position": "Associate Professor",
    "affiliation": "The University of Texas at Austin",
    "bio": (
        "Atlas Wang is an associate professor at UT Austin, affiliated with ECE (primary), CS (GSC), and Oden "
        "Institute. He leads a research group (VITA) and works on various machine learning frontiers. He has won "
        "many awards and graduated 16 postdoc or PhD students thus far (including 4 new academics). On the flip "
        "side of academia, he has been navigating some pretty exciting waters in the industry: first as a visiting "
        "scholar in Amazon working on cold-start recommendation systems (2021-2022); then an AI research director "
        "for Picsart overseeing their generative image and video efforts (2022-2024); and since May 2024, the "
        "research director for XTX Markets focusing on AI for high-frequency trading."
    ),
}

EVENT = {
    "slug": "generating-a-video-reflecting-on-a-two-year-odyssey",
    "title": "Generating a Video: Reflecting on a Two-Year Odyssey",
    "abstract": (
        "In this talk, I will recount the developmental trajectory of video generation models at Picsart AI "
        "Research over the past two years—a journey that has taken us from initial baselines to the frontiers of "
        "ultra-long video streaming and storytelling. Our inaugural project Text2Video-Zero, presented at ICCV "
        "2023, marked a milestone as the first training-free video generator to leverage pre-trained Stable "
        "Diffusion models, serving as a versatile foundation for subsequent works and earning widespread acclaim. "
        "Building on this success, our team ventured into creating of the first open-source video generator "
        "capable of producing ultra-long sequences. Our new model, StreamingT2V, reliably generates up to 1200 "
        "frames—equating to a video duration of 2 minutes—with potential for scaling to even more prolonged "
        "timeframes. Concluding the talk, I will share personal insights and reflections gleaned from this "
        "intensive R&D period, while highlighting the untapped possibilities for the future video generation "
        "models."
    ),
    "status": Event.Status.PUBLISHED,
    # In the room and on Zoom; the link shows on registrants' pages half an hour before the start.
    "attendance_mode": Event.AttendanceMode.HYBRID,
    "stream_url": "https://utexas.zoom.us/j/00000000000",
    "stream_reveal_minutes": 30,
}


# Asked on the form, as a seminar that serves lunch would.
QUESTIONS = [
    {
        "label": "Will you join us for lunch after the talk?",
        "kind": Question.Kind.YES_NO,
        "required": True,
        "position": 1,
    },
    {
        "label": "Dietary restrictions for lunch?",
        "kind": Question.Kind.SHORT_TEXT,
        "help_text": "For example vegetarian, vegan, halal, or an allergy.",
        "position": 2,
    },
]


def demo_slot(now, zone):
    """11:00 to 12:00 local time on the first weekday at least two weeks after `now`."""
    day = timezone.localtime(now, zone).date() + datetime.timedelta(days=14)
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    start = datetime.datetime.combine(day, datetime.time(11, 0), tzinfo=zone)
    return start, start + datetime.timedelta(hours=1)


class Command(BaseCommand):
    help = "Load the IFML Seminar demo talk. Safe to run again: nothing is duplicated and edits are kept."

    @transaction.atomic
    def handle(self, *args, **options):
        now = timezone.now()
        series, _ = Series.objects.get_or_create(slug=SERIES["slug"], defaults=SERIES)
        venue, _ = Venue.objects.get_or_create(room=VENUE["room"], building=VENUE["building"], defaults=VENUE)
        if series.default_venue_id is None:
            # Its regular slot, so "Add a talk" in the admin shows the default schedule at work.
            Series.objects.filter(pk=series.pk).update(default_venue=venue, **SCHEDULE)
        speaker = Speaker.objects.filter(name=SPEAKER["name"], affiliation=SPEAKER["affiliation"]).first()
        if speaker is None:
            speaker = Speaker.objects.create(**SPEAKER)

        start, end = demo_slot(now, zoneinfo.ZoneInfo(venue.time_zone))
        event = Event.objects.filter(slug=EVENT["slug"]).first()
        if event is None:
            event = Event.objects.create(series=series, venue=venue, start=start, end=end, **EVENT)
            event.speakers.add(speaker)
            for question in QUESTIONS:
                Question.objects.create(event=event, **question)
            verb = "Created"
        elif event.is_past(now):
            # A demo talk in the past would leave the home page empty.
            event.start, event.end = start, end
            event.save(update_fields=["start", "end", "updated_at"])
            verb = "Rescheduled"
        else:
            verb = "Kept"
        when = talk_when(event)
        self.stdout.write(self.style.SUCCESS(f"{verb} demo talk “{event.title}”, {when}."))
        self.stdout.write(f"  {event.get_absolute_url()}")
