import datetime

import pytest
from django.utils import timezone

from events.models import Event, Series
from materials import services
from materials.models import Kind, Visibility
from registrations import services as registrations
from tests import pdfs

DAY = datetime.timedelta(days=1)


@pytest.fixture
def past_event(make_event):
    """A hybrid talk that ended three days ago."""
    return make_event(start=timezone.now() - 3 * DAY, attendance_mode="hybrid", capacity=2)


@pytest.fixture
def audience(past_event):
    """Everyone a talk can have afterwards: in the room, online, waiting, a no-show, cancelled."""
    event = past_event
    start, end = event.start, event.end
    # Registering and cancelling happen before a talk: move it ahead for them, then back.
    Event.objects.filter(pk=event.pk).update(start=timezone.now() + DAY, end=timezone.now() + DAY + (end - start))

    def register(name, email, **fields):
        return registrations.register(event=event, name=name, email=email, **fields).registration

    came = register("Ana Ortiz", "ana@example.edu")
    registrations.check_in(registration=came)
    no_show = register("Ben Okafor", "ben@example.edu")
    online = register("Chloé Dubois", "chloe@example.edu", attendance="online")
    waited = register("Dmitri Ivanov", "dmitri@example.edu")
    left = register("Eve Adams", "eve@example.edu", attendance="online")
    registrations.cancel_registration(registration=left)
    Event.objects.filter(pk=event.pk).update(start=start, end=end)
    event.refresh_from_db()
    for registration in (came, no_show, online, waited, left):
        registration.refresh_from_db()
    return {"came": came, "no_show": no_show, "online": online, "waited": waited, "cancelled": left}


@pytest.fixture
def add_material():
    """Add a material through the service; a PDF upload unless `url` is given."""

    def add(event, *, kind=Kind.SLIDES, title="Slides", visibility=Visibility.PUBLIC, url="", content=None, **kwargs):
        upload = None if url else pdfs.upload(content or pdfs.slides(), name=kwargs.pop("name", "Wang slides.pdf"))
        return services.add_material(
            event=event, kind=kind, title=title, visibility=visibility, url=url, upload=upload, **kwargs
        )

    return add


@pytest.fixture
def other_series(db):
    return Series.objects.create(
        name="Theory Lunch", slug="theory-lunch", organizer_name="Theory", organizer_email="theory@example.edu"
    )
