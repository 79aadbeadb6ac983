import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from events.models import Venue


def test_venue_room_and_building_are_unique(venue):
    with pytest.raises(IntegrityError), transaction.atomic():
        Venue.objects.create(room=venue.room, building=venue.building, default_capacity=10)


def test_unknown_venue_time_zone_is_rejected(db):
    venue = Venue(room="R", default_capacity=5, time_zone="Mars/Olympus_Mons")
    with pytest.raises(ValidationError) as excinfo:
        venue.full_clean()
    assert "Unknown time zone Mars/Olympus_Mons." in excinfo.value.message_dict["time_zone"]
