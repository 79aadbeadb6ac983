import datetime

import pytest
from django.utils import timezone

from events.models import Event, Series


@pytest.fixture
def public_and_hidden_talks(make_event, series):
    """Two upcoming talks, one cancelled upcoming talk, and what must never be listed: a draft, a past talk,
    a talk of another series (listed only in the site-wide views)."""
    now = timezone.now()
    other = Series.objects.create(
        name="Theory Lunch", slug="theory-lunch", organizer_name="Theory", organizer_email="theory@example.edu"
    )
    return {
        "later": make_event(title="Later talk", start=now + datetime.timedelta(days=9)),
        "sooner": make_event(title="Sooner talk", start=now + datetime.timedelta(days=2)),
        "cancelled": make_event(
            title="Called-off talk", start=now + datetime.timedelta(days=5), status=Event.Status.CANCELLED
        ),
        "draft": make_event(title="Secret draft", status=Event.Status.DRAFT),
        "past": make_event(title="Old talk", start=now - datetime.timedelta(days=3)),
        "other": make_event(title="Other series talk", series=other, start=now + datetime.timedelta(days=3)),
    }
