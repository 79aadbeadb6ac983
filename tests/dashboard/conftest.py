import datetime

import pytest
from django.utils import timezone

from events.models import Event, Series, SeriesMember
from tests.teams import member


@pytest.fixture
def other_series(db):
    return Series.objects.create(
        name="Robotics Colloquium",
        slug="robotics",
        organizer_name="Robotics",
        organizer_email="robotics@example.edu",
    )


@pytest.fixture
def team(series, other_series, django_user_model):
    """Two organizers of two series, door staff of the first, and a superuser."""
    return {
        "ana": member(series, "ana"),
        "bo": member(other_series, "bo"),
        "door": member(series, "door", role=SeriesMember.Role.DOOR),
        "root": django_user_model.objects.create_superuser("root", "root@example.edu", None),
    }


@pytest.fixture
def talks(make_event, series, other_series):
    """Coming talks in both series, a draft of each, and a talk that is over."""
    soon = timezone.now() + datetime.timedelta(days=3)
    made = {
        "ifml": make_event(title="Video generation", slug="video", start=soon, capacity=3),
        "ifml_hybrid": make_event(
            title="Hybrid talk", slug="hybrid", start=soon + datetime.timedelta(days=7), attendance_mode="hybrid"
        ),
        "robotics": make_event(series=other_series, title="Robot hands", slug="hands", start=soon),
        "ifml_draft": make_event(title="Draft talk", slug="draft", status=Event.Status.DRAFT),
        "robotics_draft": make_event(series=other_series, title="Robot draft", slug="rdraft", status="draft"),
    }
    past = make_event(title="Old talk", slug="old")
    Event.objects.filter(pk=past.pk).update(
        start=timezone.now() - datetime.timedelta(days=7), end=timezone.now() - datetime.timedelta(days=7, hours=-1)
    )
    return made
